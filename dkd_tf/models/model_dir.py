"""Load a model directory (config.json + model.keras) only when the two describe one network.

The one loading path of a saved DKD: run_state.load_model_dir (training runs, after their
checkpoint checks) and DKD.from_preset (a preset's member, after its checksums) both end in
load_checked. config.json must parse with each setting of its JSON type (a quoted "8" once
surfaced as int('8') deep in a command, naming neither file nor setting); model.keras must be a
readable .keras archive holding the expected class (safe mode); and the settings config.json
records must be the model's: input size, number of joints, architecture (an edited
"input_size" once made evaluation score at the wrong size without a word). Every problem is one
ModelDirError naming the file first.
"""
from __future__ import annotations

import dataclasses
import json
import os
import zipfile

from dkd_tf import presets
from dkd_tf.core import train_config
from dkd_tf.core.train_config import CONFIG_FILE, MODEL_FILE, TrainConfig
from dkd_tf.data.datasets import DATASETS, joint_set_of


class ModelDirError(ValueError):
    """A run directory or a setting that cannot be used as it is. The message names the file
    (or the flag) first."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def show(value) -> str:
    """A setting's value as its flag takes it (lists comma-separated)."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


# config.json fields the loaded DKD model also holds (the variant and the architecture an export's
# manifest records, dkd_tf.core.train_config), compared on every load for the fields config.json
# has (older files lack some; those are not guessed). initializer_deconv_filters is compared
# apart: 0 in config.json means deconv_filters.
MODEL_FIELDS = ("variant",) + tuple(f for f in train_config.MANIFEST_FIELDS
                                    if f != "initializer_deconv_filters")


def config_type_problems(config: dict, defaults) -> list[str]:
    """Fields of a config.json whose JSON type is not the setting's (a quoted number, say): the
    message names the field and the value."""
    kinds = ((bool, "true or false"), (int, "an integer"), (float, "a number"),
             (str, "a string"), (tuple, "a list"))
    out = []
    for field, default in dataclasses.asdict(defaults).items():
        if field not in config:
            continue
        value = config[field]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        elif isinstance(default, tuple):
            ok = isinstance(value, list)
        else:
            ok = True
        if not ok:
            kind = next(name for t, name in kinds if isinstance(default, t))
            out.append(f'"{field}" is {value!r} ({type(value).__name__}); it must be {kind}')
    return out


def problem_lines(path, problems) -> ModelDirError:
    """One error naming path: the first problem, then each other on an indented line."""
    first, *rest = problems
    return ModelDirError(path, first + "".join(f"\n  also {p}" for p in rest))


def load_config(model_dir: str, verified: bool = False):
    """(TrainConfig, the raw dict) of model_dir/config.json, after checking that it parses and
    that every setting has its JSON type. A member of a preset is verified against its
    preset.json first (presets.verify_path; verified=True: the caller did), so every command
    that reads a model directory's settings checks the preset's checksums before it uses them."""
    if not verified:
        presets.verify_path(model_dir)
    config_path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(f"{config_path}: no training config; is {model_dir!r} a model "
                                "directory written by dkd_tf.train?")
    try:
        with open(config_path) as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise ModelDirError(config_path, f"cannot be read as JSON ({e})") from None
    if not isinstance(config, dict):
        raise ModelDirError(config_path, "must be a JSON object of settings")
    problems = config_type_problems(config, TrainConfig())
    if problems:
        raise problem_lines(config_path, problems)
    return TrainConfig.load(model_dir), config


def model_input_size(model) -> int | None:
    """The input side the saved model was built for (its build config [B, T, S, S, 3]), or None
    when it does not record one."""
    try:
        shape = (model.get_build_config() or {}).get("input_shape")
    except (AttributeError, NotImplementedError):
        return None
    if isinstance(shape, (list, tuple)) and len(shape) >= 3 and isinstance(shape[-2], int):
        return int(shape[-2])
    return None


def config_model_differences(config: dict, model, num_joints: int | None) -> list[str]:
    """How a model directory's config.json (the raw dict) and its loaded model disagree: one
    '"field" is X in config.json, but model.keras has Y' per difference; [] when they agree.
    num_joints: of the joint set config.json's dataset names (None: not checked)."""
    out = []

    def differ(field, stored, actual):
        out.append(f'"{field}" is {show(stored)} in {CONFIG_FILE}, but {MODEL_FILE} {actual}')

    size = model_input_size(model)
    if "input_size" in config and size is not None and config["input_size"] != size:
        differ("input_size", config["input_size"], f"was built for {size}")
    if num_joints is not None and num_joints != model.num_joints:
        differ("dataset", config.get("dataset"), f"predicts {model.num_joints} joints (that "
                                                 f"data set has {num_joints})")
    for field in MODEL_FIELDS:
        if field in config and config[field] != getattr(model, field, config[field]):
            differ(field, config[field], f"has {show(getattr(model, field))}")
    if "initializer_deconv_filters" in config:  # 0 in config.json: = deconv_filters
        stored = config["initializer_deconv_filters"] or config.get("deconv_filters")
        if stored is not None and stored != model.initializer_deconv_filters:
            differ("initializer_deconv_filters", config["initializer_deconv_filters"],
                   f"has {model.initializer_deconv_filters}")
    return out


def load_keras(path: str, cls):
    """keras.models.load_model(path, safe_mode=True), which must hold a `cls` (whose module the
    caller imported, registering its layers); a file that exists but is no readable .keras
    archive is called corrupt (Keras says 'File not found')."""
    import keras  # TensorFlow: loaded once a model is opened, after the cheap checks
    if not zipfile.is_zipfile(path):
        raise ModelDirError(path, "is corrupt or truncated: not a .keras archive (a zip file); "
                                  "rerun the training command or restore the file")
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as e:  # noqa: BLE001 - Keras raises ValueError, OSError, KeyError, ...
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelDirError(path, f"cannot be loaded: the file is corrupt or unreadable, or not "
                                  f"a model of this code ({reason})") from None
    if not isinstance(model, cls):
        raise ModelDirError(path, f"holds a {type(model).__name__}, expected a {cls.__name__} "
                                  "model")
    return model


def load_checked(model_dir: str, cls, verified: bool = False):
    """(model, TrainConfig) of model_dir, config.json and model.keras checked against each other
    (module docstring). verified: the caller already checked a preset member's checksums."""
    cfg, config = load_config(model_dir, verified=verified)
    path = os.path.join(model_dir, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no {MODEL_FILE} in the model directory (it is written "
                                "after the first training epoch)")
    model = load_keras(path, cls)
    num_joints = joint_set_of(cfg.dataset).num_joints if cfg.dataset in DATASETS else None
    problems = config_model_differences(config, model, num_joints)
    if problems:
        problems[0] += (f"; {CONFIG_FILE} does not describe this model (restore it, or use the "
                        "directory it came from)")
        raise problem_lines(os.path.join(model_dir, CONFIG_FILE), problems)
    return model, cfg
