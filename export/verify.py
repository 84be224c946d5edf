"""Parity of an export against its Keras model, over a real clip, with the state carried.

    python -m export.verify --export_dir E [--format all|tflite|onnx] [--model_dir M]
                            [--video V] [--frames 30]

A clip of >= 30 frames (a --video: whole frames of a video or frame folder, or labelled-box
crops of a Penn Action format data dir; else the first long enough test video of the model's
data set, else a clip from the synthetic generator) is cropped to the input size and streamed through the
Keras model and through the exported pair, each carrying its OWN state: initializer on frame 1,
stepper after. Per frame it prints the max abs difference of heatmaps and state, and how far the
decoded keypoints moved. fp32 graphs (TFLite 'none', ONNX) must agree to 1e-4 (scaled by the
reference's peak magnitude when that exceeds 1), fp16 graphs to 0.03. Integer graphs (dynamic,
int8) are judged where it matters: the keypoints decoded from their heatmaps must lie within 1 px
(at the input size) of Keras's on >= 95 % of the joints of the carried stream; their heatmap and
state differences are reported, not bounded.

It also guards a TFLite pitfall: a filter computed at run time (the distilled kernels feed a
DEPTHWISE_CONV_2D) can be treated as constant and frozen after the first invoke. A fresh stepper
is fed one frame with two different states; the change of its output must be at least a quarter
of Keras's (a frozen filter gives none), it must match Keras for the second state within the
tolerance, and it must repeat when the first state is fed again.

Any failure exits non-zero. The exporters call verify_format before they report success.
"""
from __future__ import annotations

from dkd_tf.serving.verify import MIN_FRAMES, check_inputs, verify_export


def main(argv):
    from absl import flags
    del argv
    f = flags.FLAGS
    from dkd_tf.cli.errors import quiet_tf_logging  # absl only: TensorFlow loads later
    quiet_tf_logging(f)
    check_inputs(f.export_dir, f.model_dir or None, f.video or None)
    formats = None if f.format == "all" else [f.format]
    verify_export(f.export_dir, formats, f.model_dir or None, f.video or None, f.frames,
                  f.tolerance)
    print("verification passed")
    return 0


def _define_flags():
    from absl import flags
    flags.DEFINE_string("export_dir", None, "Export directory (manifest.json + graphs).")
    flags.DEFINE_enum("format", "all", ["all", "tflite", "onnx"],
                      "Which exported graphs to check; 'all' checks every format in the manifest.")
    flags.DEFINE_string("model_dir", "", "Training model dir of the Keras reference; default: "
                        "the source model dir recorded in the manifest.")
    flags.DEFINE_string("video", "", "Parity clip: a video file or frame folder (whole "
                        "frames), or a Penn Action format data dir (labelled-box crops of its "
                        "first long enough video); default: a test video of the model's data "
                        "set, else a synthetic clip.")
    flags.DEFINE_integer("frames", MIN_FRAMES, "Frames in the parity clip.", lower_bound=MIN_FRAMES)
    flags.DEFINE_float("tolerance", None, "Override the tolerance (fraction of max(1, peak)); "
                       "default 1e-4 for fp32 graphs, per quantization mode otherwise.")
    flags.mark_flag_as_required("export_dir")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
