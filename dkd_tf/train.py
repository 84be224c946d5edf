"""Train a DKD model: `python -m dkd_tf.train --flagfile configs/subjhmdb.flags`.

Every TrainConfig field (dkd_tf.training.train_config, where each setting's help lives) is a flag of the
same name. Re-running the same command after a kill
resumes from the last finished epoch (see dkd_tf.training.trainer).
"""
from __future__ import annotations

import dataclasses
import json
import sys

from absl import flags

from dkd_tf.cli import errors
from dkd_tf.training import run_state, trainer


def define_flags():
    defined = set()
    for field in dataclasses.fields(trainer.TrainConfig):
        if field.name in flags.FLAGS:  # already defined (evaluate imports these too)
            continue
        defined.add(field.name)
        default, name, help_ = field.default, field.name, field.metadata["help"]
        if isinstance(default, bool):
            flags.DEFINE_bool(name, default, help_)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, help_)
        elif isinstance(default, tuple):
            flags.DEFINE_list(name, [str(v) for v in default], help_)
        else:
            flags.DEFINE_string(name, default, help_)
    if "input_size" in defined:
        # Validated when the flags are parsed, not as a shape error deep inside the first step.
        flags.register_validator("input_size", lambda v: run_state.input_size_problem(v) is None,
                                 message=run_state.INPUT_SIZE_RULE)


def config_from_flags() -> trainer.TrainConfig:
    values = {}
    for field in dataclasses.fields(trainer.TrainConfig):
        value = flags.FLAGS[field.name].value
        if isinstance(field.default, tuple):
            value = tuple(int(v) for v in value)
        values[field.name] = value
    return trainer.TrainConfig(**values)


def dry_run(cfg, allow_changes=()) -> None:
    """Validate every setting (and, for a run with checkpoints, the comparison with its
    config.json) without writing anything; print the resolved config."""
    missing = run_state.validate_config(cfg, paths=False)
    changes = run_state.check_resume(cfg, allow_changes)
    for field, problem in missing:  # not fatal here: the data may live on the training machine
        print(f"warning: --{field}={getattr(cfg, field)}: {problem} (training here would fail)",
              file=sys.stderr)
    print(json.dumps(dataclasses.asdict(cfg), indent=2))
    if run_state.has_checkpoints(cfg.model_dir):
        print(f"{cfg.model_dir}: would resume"
              + (" with these allowed changes:\n" + run_state.format_differences(changes)
                 if changes else " with the stored settings"))


def main(argv):
    del argv
    cfg = config_from_flags()
    allow = [a for a in flags.FLAGS.allow_changes if a]
    if flags.FLAGS.dry_run:
        dry_run(cfg, allow)
        return 0
    trainer.run_training(cfg, allow_changes=allow)
    return 0


def define_cli_flags():
    flags.DEFINE_bool("dry_run", False, "Validate every flag (and the comparison with the "
                      "config.json of a run being resumed), print the resolved training config "
                      "as JSON and exit; writes nothing.")
    flags.DEFINE_list("allow_changes", [], "Resume a run although these safe settings differ "
                      "from its config.json (e.g. epochs,learning_rate); each change is logged. "
                      "Architecture settings can never change in a resumed run. Allowed: "
                      + ", ".join(run_state.SAFE_FIELDS) + ".")


if __name__ == "__main__":
    define_flags()
    define_cli_flags()
    errors.run(main)
