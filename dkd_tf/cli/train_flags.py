"""Every TrainConfig setting as an absl flag of the same name, and the config read back from them.

The settings, their kinds and help live once in dkd_tf.core.train_config; the commands that take
a training flagfile (train, evaluate, bench) define these flags from it.
"""
from __future__ import annotations

import dataclasses

from absl import flags

from dkd_tf.training import run_state
from dkd_tf.core import train_config


def define_flags():
    defined = set()
    for field in dataclasses.fields(train_config.TrainConfig):
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
    # Each setting's own rule (train_config.setting: a choice, a bound) is checked when the
    # flags are parsed, before TensorFlow loads, not as an error deep inside the first step.
    for name in defined:
        _register_rule(name)
    if "input_size" in defined:
        flags.register_validator("input_size", lambda v: run_state.input_size_problem(v) is None,
                                 message=run_state.INPUT_SIZE_RULE)


def _register_rule(name: str) -> None:
    def check(value):
        if isinstance(value, list):  # a list flag's items are checked by the config
            return True
        problem = train_config.field_problem(name, value)
        if problem:
            raise flags.ValidationError(problem)
        return True
    flags.register_validator(name, check)


def config_from_flags() -> train_config.TrainConfig:
    values = {}
    for field in dataclasses.fields(train_config.TrainConfig):
        value = flags.FLAGS[field.name].value
        if isinstance(field.default, tuple):
            value = tuple(int(v) for v in value)
        values[field.name] = value
    return train_config.TrainConfig(**values)
