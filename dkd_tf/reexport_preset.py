"""Remake a shipped synthetic preset's DKD export from its Keras model (dkd_tf.experiments.preset_reexport).

    python -m dkd_tf.reexport_preset --preset reference --data_dir demo_out/data
"""
from __future__ import annotations

from absl import flags

from dkd_tf.experiments.preset_reexport import reexport


def main(argv):
    del argv
    reexport(FLAGS.preset, FLAGS.data_dir, FLAGS.out_dir)


FLAGS = flags.FLAGS

if __name__ == "__main__":
    flags.DEFINE_string("preset", "reference", "Shipped preset whose DKD export to remake.")
    flags.DEFINE_string("data_dir", "demo_out/data", "The preset's synthetic set (generated "
                        "here when missing, from preset.json's data entry).")
    flags.DEFINE_string("out_dir", "runs/reexport", "Where the stream check writes its overlay "
                        "and keypoints.")
    from dkd_tf.cli import errors
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
