"""Pictures of what models do on a clip: the paper's Fig. 3 as a strip of frames.

  python -m dkd_tf.figures strip --model_dir runs/dkd,runs/baseline --names DKD,Baseline \
      --data_dir data/synthetic --joint l_wrist --out strip.png [--video 0193] [--frames 6]

For each model two rows, both on the model's input crop (the ground-truth box's, as evaluate
crops): its keypoints (skeleton; left limbs orange, right blue; --joint circled) with the ground
truth of --joint as a green cross; then --joint's heatmap. Without --video the test video where
the distractor overlaps the subject longest is picked from the synthetic set's tags. The
library: dkd_tf.evaluation.figures.
"""
from __future__ import annotations

import os

from dkd_tf.evaluation import figures


COMMANDS = ("strip",)


def main(argv):
    from absl import app, flags
    f = flags.FLAGS
    if argv[1:] != ["strip"]:
        raise app.UsageError(f"usage: python -m dkd_tf.figures strip --model_dir A[,B] ...; "
                             f"commands: {', '.join(COMMANDS)}")
    model_dirs = [d for d in f.model_dir if d]
    if not model_dirs:
        raise app.UsageError("--model_dir needs at least one model directory")
    names = f.names or [os.path.basename(os.path.normpath(d)) for d in model_dirs]
    data_dir = f.data_dir
    if not data_dir:
        from dkd_tf.training import trainer
        data_dir = trainer.TrainConfig.load(model_dirs[0]).data_dir
    res = figures.write_strip(model_dirs, names, data_dir, f.out, f.joint, f.video or None,
                              f.frames)
    print(f"figures: wrote {res['path']} (video {res['video']}, frames "
          f"{', '.join(str(t + 1) for t in res['frames'])}, joint {res['joint']})")


def _define_flags():
    """Defined only when run as a script (dkd_tf.evaluate defines --model_dir etc. too)."""
    from absl import flags
    flags.DEFINE_list("model_dir", [], "Comma-separated model directories (config.json + "
                      "model.keras), one row pair each.")
    flags.DEFINE_list("names", [], "Row names (default: model_dir base names).")
    flags.DEFINE_string("data_dir", "", "Penn-format data root (default: the first model's "
                        "data_dir).")
    flags.DEFINE_string("video", "", "Video id; default: the test clip where the distractor "
                        "overlaps the subject longest (from the tags).")
    flags.DEFINE_string("joint", "l_wrist", "Joint whose heatmap is shown (name or unique "
                        "prefix, e.g. l_wri).")
    flags.DEFINE_integer("frames", 6, "Frames in the strip.", lower_bound=1)
    flags.DEFINE_string("out", "strip.png", "Output PNG.")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)
