"""The real-world DKD preset from nothing, resumable (dkd_tf/experiments/real_video_recipe.py).

    python -m dkd_tf.real_video_recipe [--work_dir runs] [--data_dir ../shared/data] [--dry_run]

Prints every step's command, runs the ones not yet done (about 3 hours on a 2-core CPU), and goes
on from the first unfinished one when run again.
"""
from __future__ import annotations

from absl import flags

from dkd_tf.experiments import real_video_recipe


def main(argv):
    del argv
    f = flags.FLAGS
    real_video_recipe.run(f.work_dir, f.data_dir, f.dry_run)
    return 0


def _define_flags():
    flags.DEFINE_string("work_dir", "runs", "Where the footage links, clips, runs and recipe "
                        "markers go.")
    flags.DEFINE_string("data_dir", "../shared/data", "Folder holding lsp/ and lspet/ "
                        "(docs/real_people.md).")
    flags.DEFINE_bool("dry_run", False, "Only list the steps, done and to do.")


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
