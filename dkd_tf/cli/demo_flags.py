"""The flags of `python -m dkd_tf.demo`, shared by `python -m dkd_tf.ablations` (same recipes, data and
seeds)."""
from __future__ import annotations

from absl import flags

from dkd_tf.training import recipes


def define_flags() -> None:
    """Defines the demo's flags once per process (both commands' modules may be imported)."""
    if "recipe" in flags.FLAGS:
        return
    flags.DEFINE_string("out_dir", "demo_out", "Where data, runs, evaluations and exports go.")
    flags.DEFINE_enum("recipe", "quick", sorted(recipes.RECIPES), "The pair to train from scratch.")
    flags.DEFINE_integer("videos", recipes.DATA["videos"], "Synthetic videos (a quarter are held "
                         "out); the presets were evaluated on the default set.")
    flags.DEFINE_integer("frames", recipes.DATA["frames"], "Frames per synthetic video.")
    flags.DEFINE_integer("seed", 0, "Seed of the data and of training.")
    flags.DEFINE_float("epoch_scale", 1.0, "Multiply every training length (0.1 for a smoke run).")
    flags.DEFINE_bool("side_cue", False, "Train and evaluate on the synthetic set drawn with a "
                      "stripe down each left limb (data.synthetic --side_cue), without flips; "
                      "--out_dir must not hold the plain set.")
    flags.DEFINE_bool("real_clip", True, "First stream a real clip (pose2sim, fetched from PyPI "
                      "and checksummed) with the default real-world preset, beside MoveNet "
                      "Lightning (dkd_tf.experiments.real_clip).")
    flags.DEFINE_bool("presets", True, "Evaluate and stream the shipped reference pair first.")
    flags.DEFINE_bool("export", True, "Export the trained DKD to TFLite and stream through it.")
    flags.DEFINE_bool("ship", False, "With --recipe reference|mobile: write the trained pair and "
                      "its verified export into dkd_tf/presets/<recipe>.")
