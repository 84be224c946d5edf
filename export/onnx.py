"""Export a trained DKD model to ONNX: initializer.onnx, stepper.onnx, manifest.json.

    python -m export.onnx --model_dir M --out_dir E [--opset 17] [--input_size S]
                          [--verify_frames N]

The same two graphs as export.tflite (tf2onnx from the batch-1 tf.functions of dkd_tf.serving.graphs):
  initializer.onnx  frame [1,S,S,3] -> heatmaps, state
  stepper.onnx      frame, state    -> heatmaps, next_state
An ONNX graph cannot give an output the name of one of its inputs, so the stepper's state output
is 'next_state'; the manifest maps the logical names (frame, state, heatmaps) to tensor names
per file, and runtimes read them there. fp32, batch fixed at 1. The export verifies itself
(export.verify) and exits non-zero when the graphs do not reproduce the Keras model.
"""
from __future__ import annotations

from dkd_tf.cli import export_flags
from dkd_tf.core import output_paths
from dkd_tf.serving import verify
from dkd_tf.serving.onnx_export import DEFAULT_OPSET, MAX_OPSET, export_onnx
from dkd_tf.training import run_state


def main(argv):
    from absl import flags
    del argv
    f = flags.FLAGS
    from dkd_tf.cli.errors import quiet_tf_logging  # absl only: TensorFlow loads later
    quiet_tf_logging(f)
    output_paths.check_dir(f.out_dir, flag="--out_dir")  # cheap checks, before TensorFlow
    run_state.check_model_dir(f.model_dir)
    export_onnx(f.model_dir, f.out_dir, f.opset, f.input_size or None, f.verify_frames,
                decoding=f.decoding)
    return 0


def _define_flags():
    from absl import flags
    flags.DEFINE_string("model_dir", None, "Training model dir (config.json + model.keras).")
    flags.DEFINE_string("out_dir", None, "Export dir; gets initializer.onnx, stepper.onnx and "
                        "manifest.json (an existing TFLite export of the same model is kept).")
    flags.DEFINE_integer("opset", DEFAULT_OPSET, "ONNX opset (tf2onnx 1.17 writes <= 18).",
                         lower_bound=13, upper_bound=MAX_OPSET)
    flags.DEFINE_integer("input_size", 0, "Input side in pixels (multiple of 32); 0 = the "
                         "training input size from config.json.", lower_bound=0)
    from dkd_tf.training.run_state import input_size_problem
    flags.register_validator("input_size", lambda v: v == 0 or input_size_problem(v) is None,
                             message="must be 0 (the training size) or a positive multiple of "
                                     "32 (the backbone stride)")
    flags.DEFINE_integer("verify_frames", verify.MIN_FRAMES, "Frames of the parity clip run "
                         "after the export.", lower_bound=verify.MIN_FRAMES)
    export_flags.define_decoding()
    flags.mark_flags_as_required(["model_dir", "out_dir"])


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
