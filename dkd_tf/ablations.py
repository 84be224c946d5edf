"""The paper's ablations (Tables 1 and 2) on the synthetic set, trained and scored together.

    python -m dkd_tf.ablations --recipe quick --out_dir runs/ablations_quick
    python -m dkd_tf.ablations --recipe reference --out_dir runs/ablations   # hours on 2 CPUs

Trains (or resumes; finished runs are skipped) the recipe's pretraining and Baseline, then every
row of dkd_tf.training.recipes.ABLATIONS from the same seeds and schedule as DKD, then streams the held-out
videos through each row (ground-truth crops) and prints: PCK by both normalizations and per
group, each row's paired-bootstrap interval against the Baseline, and the stepper's GMACs at the
recipe's input size. Writes ablations.json, pck.json and pck_curve.png to --out_dir/eval.
Flags are dkd_tf.demo's (--recipe, --out_dir, --videos, --frames, --seed, --epoch_scale).
"""
from __future__ import annotations

import os
import time

from absl import flags

from dkd_tf.cli import demo_flags
from dkd_tf.data import datasets
from dkd_tf.experiments import ablations, run_steps
from dkd_tf.training import recipes, trainer


demo_flags.define_flags()
FLAGS = flags.FLAGS


def main(argv):
    del argv
    t0 = time.time()
    recipe = recipes.get(FLAGS.recipe)
    out = FLAGS.out_dir
    data_cfg = trainer.TrainConfig(dataset="synthetic", data_dir=os.path.join(out, "data"),
                                    synthetic_videos=FLAGS.videos,
                                    synthetic_frames=FLAGS.frames, seed=FLAGS.seed)
    run_steps.say(f"$ python -m dkd_tf.make_synthetic --out {data_cfg.data_dir} --videos "
                  f"{FLAGS.videos} --frames {FLAGS.frames} --seed {FLAGS.seed}")
    datasets.ensure_synthetic(data_cfg)
    rows, seconds = ablations.train_rows(recipe, out, data_cfg.data_dir, FLAGS.videos,
                                         FLAGS.frames, FLAGS.epoch_scale, FLAGS.seed)
    run_steps.say("\ntraining seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    ablations.score_rows(rows, data_cfg, os.path.join(out, "eval"))
    run_steps.say(f"\nablations finished in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    errors.run(main)
