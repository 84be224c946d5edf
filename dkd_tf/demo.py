"""`make demo`: the shipped reference models at work, then a quick pair trained from scratch.

    python -m dkd_tf.demo --out_dir demo_out                       # what `make demo` runs
    python -m dkd_tf.demo --recipe reference --out_dir runs/reference --ship

Default (--recipe quick):
0. a real clip (pose2sim's held-out camera, fetched from PyPI, checksummed, cached) streamed with
   no box by the default real-world preset and by MoveNet Lightning: overlay videos, keypoint
   JSON and a side-by-side PNG in <out_dir>/real_clip (dkd_tf.experiments.real_clip);
1. generate the synthetic set (Penn Action format) the shipped presets were evaluated on;
2. the shipped reference pair (dkd_tf/presets/reference, checksums verified first): stream every
   held-out video through the shipped Baseline and DKD (initialize/step, ground-truth crops),
   print PCK by both normalizations with paired-bootstrap intervals and plot PCK against alpha;
   stream one held-out video through the shipped stepper.tflite with the crop following the
   predicted keypoints (overlay video, keypoint JSON, a frame PNG) and score every held-out video
   that way;
3. train the quick pair from scratch (dkd_tf.training.recipes.QUICK: single-frame pretraining, Baseline,
   DKD with Algorithm 1), evaluate it the same way and export its DKD to TFLite.
--recipe reference trains the reference pair instead of the quick one (about 90 minutes on a
2-core CPU), and --ship copies it, with its verified TFLite export, into dkd_tf/presets/reference.
Every step prints its command-line equivalent, so each can be rerun or changed by hand.
"""
from __future__ import annotations

import os
import time

from absl import app, flags

from dkd_tf import presets
from dkd_tf.cli import demo_flags
from dkd_tf.data import datasets
from dkd_tf.experiments import demo
from dkd_tf.experiments.run_steps import say
from dkd_tf.training import recipes, trainer


demo_flags.define_flags()
FLAGS = flags.FLAGS


def main(argv):
    del argv
    out = FLAGS.out_dir
    recipe = recipes.get(FLAGS.recipe)
    if FLAGS.ship and recipe.name == "quick":
        raise app.UsageError("--ship writes a preset of the recipe's name: use --recipe "
                             "reference or mobile")
    if FLAGS.ship and FLAGS.side_cue:
        raise app.UsageError("--ship writes the presets, which are trained on the set without "
                             "--side_cue")
    t0 = time.time()
    if FLAGS.real_clip and recipe.name == "quick":
        say("\n== A real person in a real clip: the default preset beside MoveNet Lightning")
        from dkd_tf.experiments import real_clip
        from dkd_tf.tracking import video_stream
        real_clip.run(os.path.join(out, "real_clip"), video_stream.preset_model_dir("", "tflite"),
                      presets.DEFAULT, log=say)
    data_cfg = trainer.TrainConfig(dataset="synthetic", data_dir=os.path.join(out, "data"),
                                    synthetic_videos=FLAGS.videos,
                                    synthetic_frames=FLAGS.frames, seed=FLAGS.seed,
                                    synthetic_side_cue=FLAGS.side_cue)
    say(f"$ python -m dkd_tf.make_synthetic --out {data_cfg.data_dir} --videos {FLAGS.videos} "
         f"--frames {FLAGS.frames} --seed {FLAGS.seed}{' --side_cue' if FLAGS.side_cue else ''}")
    datasets.ensure_synthetic(data_cfg)
    if FLAGS.presets and recipe.name == "quick" and not FLAGS.side_cue:  # presets: plain set
        demo.show_presets(out, data_cfg)

    say(f"\n== Training the {recipe.name} pair from scratch ({recipe.label})")
    runs, seconds = demo.train_pair(recipe, out, data_cfg, FLAGS.epoch_scale)
    names = recipe.names()
    acc = demo.evaluate_pair({names["dkd"]: runs["dkd"].model_dir,
                              names["baseline"]: runs["baseline"].model_dir},
                             runs["dkd"].input_size, data_cfg, os.path.join(out, "eval"))
    if FLAGS.export or FLAGS.ship:
        from dkd_tf.experiments import demo_export
        export_dir = os.path.join(out, "export")
        report = demo_export.run(runs["dkd"].model_dir, export_dir, data_cfg.data_dir,
                                 keras_pck=acc[names["dkd"]].result()["mean"])
        if FLAGS.ship:
            path = demo.ship(recipe, runs, seconds, acc, data_cfg, report,
                             (time.time() - t0) / 60, out)
            say(f"\nshipped the {recipe.name} pair to {path}")
    say(f"\ndemo finished in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
