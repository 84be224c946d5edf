"""Ship the real-world single-frame preset (P and its F-path Baseline) from two trained runs.

    python -m dkd_tf.make_singleframe_preset --initializer_dir runs/lsp_initializer \
        --baseline_dir runs/lsp_baseline_lightning --data_dir ../shared/data

See dkd_tf.experiments.singleframe_preset for what it copies, exports, scores and writes.
"""
from __future__ import annotations

from absl import flags

from dkd_tf.experiments.singleframe_preset import ship


def main(argv):
    del argv
    ship(FLAGS.initializer_dir, FLAGS.baseline_dir, FLAGS.data_dir, num_threads=FLAGS.num_threads)


FLAGS = flags.FLAGS

if __name__ == "__main__":
    flags.DEFINE_string("initializer_dir", "runs/lsp_initializer", "The trained P run "
                        "(configs/lsp_initializer.flags).")
    flags.DEFINE_string("baseline_dir", "runs/lsp_baseline_lightning", "The trained F-path "
                        "Baseline run (configs/lsp_baseline_lightning.flags).")
    flags.DEFINE_string("data_dir", "../shared/data", "Folder holding lsp/ (its test half is "
                        "scored).")
    flags.DEFINE_integer("num_threads", 1, "LiteRT threads for the latency column.")
    from dkd_tf.cli import errors
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
