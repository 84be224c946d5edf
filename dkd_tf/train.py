"""Train a DKD model: `python -m dkd_tf.train --flagfile configs/subjhmdb.flags`.

Every TrainConfig field (dkd_tf.core.train_config, where each setting's help, choices and bounds
live) is a flag of the same name; a value breaking its rule is refused when the flags are parsed,
and every setting and file is checked before TensorFlow loads. Re-running the same command after a kill
resumes from the last finished epoch (see dkd_tf.training.trainer).
"""
from __future__ import annotations

from absl import flags

from dkd_tf.cli import errors
from dkd_tf.cli.train_flags import config_from_flags, define_flags
from dkd_tf.training import run_state


def main(argv):
    del argv
    cfg = config_from_flags()
    allow = [a for a in flags.FLAGS.allow_changes if a]
    if flags.FLAGS.dry_run:
        run_state.dry_run(cfg, allow)
        return 0
    run_state.validate_config(cfg)  # every setting and file, before TensorFlow loads (~5 s)
    from dkd_tf.training import trainer
    trainer.run_training(cfg, allow_changes=allow)
    return 0


def _define_cli_flags():
    """The flags of this command only (the training settings are cli.train_flags')."""
    flags.DEFINE_bool("dry_run", False, "Validate every flag (and the comparison with the "
                      "config.json of a run being resumed), print the resolved training config "
                      "as JSON and exit; writes nothing.")
    flags.DEFINE_list("allow_changes", [], "Resume a run although these safe settings differ "
                      "from its config.json (e.g. epochs,learning_rate); each change is logged. "
                      "Architecture settings can never change in a resumed run. Allowed: "
                      + ", ".join(run_state.SAFE_FIELDS) + ".")


if __name__ == "__main__":
    define_flags()
    _define_cli_flags()
    errors.run(main)
