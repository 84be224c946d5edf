"""Export a trained DKD model to TFLite: initializer.tflite, stepper.tflite, manifest.json.

    python -m export.tflite --model_dir M --out_dir E [--quantize none|fp16|dynamic|int8]
                            [--representative_data DIR] [--representative_samples N]
                            [--input_size S] [--verify_frames N]

Each file holds one named signature of the streaming contract (DESIGN.md):
  initializer.tflite  'initialize': frame [1,S,S,3] -> heatmaps [1,S/8,S/8,K], state
  stepper.tflite      'step':       frame, state -> heatmaps, state
frame is float32 RGB 0..255 (normalization is inside the graph); inputs and outputs stay float32
in every quantization mode, so runtimes never change. The batch is fixed at 1.

Quantization: none (fp32), fp16 (fp16 weights), dynamic (int8 weights, float activations), int8
(int8 weights and activations, float I/O; the runtime-filter depthwise conv of the stepper and the
heatmap heads stay float, see `convert`). int8 calibrates on crops from the training pipeline
(dkd_tf.data.pipeline.make_dataset, no augmentation) of --representative_data (a Penn Action
format data dir; default: the model's own training set); the stepper's calibration states come
from running the Keras model along each clip.

The export then verifies itself (export.verify: a >= 30 frame clip through Keras and through the
two files, state carried, plus the frozen-runtime-filter guard) and exits non-zero if it fails;
the result is recorded in manifest.json. Everything is written to a staging folder first and
moved into --out_dir only after the check passed (dkd_tf.serving.staging), so a failed export leaves
nothing there that a runner accepts. --keep_unverified writes a failed export all the same (exit
status still 1), its manifest recording the failure, so that its accuracy can be measured with
`export.evaluate_stream --allow_unverified` (the keypoint rule, 95 % within 1 px, is stricter
than "PCK within a point"); never over a TFLite export already in --out_dir.
"""
from __future__ import annotations

from dkd_tf.cli import export_flags
from dkd_tf.core import output_paths
from dkd_tf.serving import rewrites as rewrites_lib
from dkd_tf.serving import verify
from dkd_tf.serving.tflite_export import QUANTIZATIONS, export_tflite
from dkd_tf.training import run_state


def main(argv):
    from absl import flags
    del argv
    f = flags.FLAGS
    from dkd_tf.cli.errors import quiet_tf_logging  # absl only: TensorFlow loads later
    quiet_tf_logging(f)
    output_paths.check_dir(f.out_dir, flag="--out_dir")  # cheap checks, before TensorFlow
    run_state.check_model_dir(f.model_dir)
    export_tflite(f.model_dir, f.out_dir, f.quantize, f.representative_data or None,
                  f.representative_samples, f.input_size or None, f.verify_frames,
                  video=f.verify_video or None,
                  rewrites=rewrites_lib.from_flag(f.deconv_as_conv),
                  keep_unverified=f.keep_unverified,
                  tracker=_tracker_overrides(f),
                  decoding=f.decoding)
    return 0


def _tracker_overrides(f) -> dict | None:
    """The tracker settings the flags give this export's manifest (None: the defaults)."""
    chosen = {"reinit_threshold": f.reinit_threshold,
              "finder": None if f.finder is None else ("" if f.finder == "none" else f.finder)}
    chosen = {k: v for k, v in chosen.items() if v is not None}
    return chosen or None


def _define_flags():
    from absl import flags
    flags.DEFINE_string("model_dir", None, "Training model dir (config.json + model.keras).")
    flags.DEFINE_string("out_dir", None, "Export dir; gets initializer.tflite, stepper.tflite "
                        "and manifest.json (an existing ONNX export of the same model is kept).")
    flags.DEFINE_enum("quantize", "none", list(QUANTIZATIONS),
                      "none: fp32; fp16: fp16 weights; dynamic: int8 weights; int8: int8 weights "
                      "and activations calibrated on --representative_data (float I/O).")
    flags.DEFINE_string("representative_data", "", "int8 only: Penn Action format data dir whose "
                        "frames calibrate the activations (default: the model's training data).")
    flags.DEFINE_integer("representative_samples", 64, "int8 only: calibration samples per graph.",
                         lower_bound=1)
    flags.DEFINE_integer("input_size", 0, "Input side in pixels (multiple of 32); 0 = the "
                         "training input size from config.json.", lower_bound=0)
    from dkd_tf.training.run_state import input_size_problem
    flags.register_validator("input_size", lambda v: v == 0 or input_size_problem(v) is None,
                             message="must be 0 (the training size) or a positive multiple of "
                                     "32 (the backbone stride)")
    flags.DEFINE_integer("verify_frames", verify.MIN_FRAMES, "Frames of the parity clip run "
                         "after the export.", lower_bound=verify.MIN_FRAMES)
    flags.DEFINE_string("verify_video", "", "Parity clip (export.verify --video): a video file "
                        "or frame folder (whole frames), or a Penn Action format data dir "
                        "(labelled-box crops); default: a test video of the model's data set, "
                        "else a synthetic clip. A real-world model needs a real person at its "
                        "training size: elsewhere its heatmaps are flat and int8 peaks wander.")
    flags.DEFINE_bool("keep_unverified", False, "Write the export even when its check fails "
                      "(still exit 1): its manifest records the failure and runners refuse it "
                      "without --allow_unverified; to measure what a quantization costs (e.g. "
                      "export.evaluate_stream int8 against fp32). Never over a TFLite export "
                      "already in --out_dir.")
    flags.DEFINE_float("reinit_threshold", None, "The re-initialization threshold the "
                       "manifest's tracker entry carries, which the streams (dkd_tf.stream, the "
                       "Android app) use for this export: a mean peak confidence below it means "
                       "the person is lost. Default: the tracker's (0.1).", lower_bound=0.0)
    from dkd_tf.pretrained.peers import PEERS
    flags.DEFINE_enum("finder", None, ["none", *PEERS], "The person finder the manifest names, "
                      "which dkd_tf.stream runs by default on frames seen whole (no box, or the "
                      "person lost): a published network, fetched and checksummed, whose "
                      "keypoints' box the initializer starts from (movenet_multipose: the one "
                      "person of several it is surest of). Default and none: none, the "
                      "initializer looks itself.")
    rewrites_lib.define_flags()
    export_flags.define_decoding()
    flags.mark_flags_as_required(["model_dir", "out_dir"])


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
