"""What a training run directory promises, and the checks that keep it true.

A run directory (dkd_tf.training.trainer) holds config.json, checkpoints/ckpt-N (N = epochs finished) and
model.keras. This module makes three promises hold across kills, torn files and changed flags:

1. model.keras is the model of the newest checkpoint. Beside it, model_epoch.json records the
   epoch of the checkpoint it was written from and its sha256; both files are replaced
   atomically, the record last. Every training start compares them with the newest checkpoint
   that restores and rewrites model.keras from that checkpoint when they disagree
   (`reconcile_model`); loaders (`verify_model_dir`) refuse a model.keras that is stale.
2. A torn checkpoint (truncated .data, missing .index, left by a kill or a full disk) does not
   block resuming: `restore_newest` reads every tensor of each candidate, newest first, restores
   the first that is whole, moves the unreadable ones to checkpoints/unreadable/ and says so;
   `clean_litter` removes what interrupted writes leave (ckpt-N_temp/, *.tmp.keras, ...).
3. config.json describes the checkpoints. `check_resume` compares the new settings with the
   stored config before anything is written: architecture settings can never change in a
   resumed run (a table lists what differs), the safe ones (epochs, schedule, augmentation, ...)
   only when named in allow_changes, and each change is logged.

`validate_config` checks every setting of a TrainConfig at once (dkd_tf.train --dry_run too).
"""
from __future__ import annotations

import dataclasses
import datetime
import glob
import json
import os
import re
import shutil
import sys

from absl import logging

from dkd_tf import presets
from dkd_tf.core import output_paths, train_config
from dkd_tf.core.train_config import CONFIG_FILE, MODEL_FILE, TrainConfig
from dkd_tf.models import model_dir as model_dir_lib

MODEL_RECORD = "model_epoch.json"
CHECKPOINT_DIR = "checkpoints"
UNREADABLE_DIR = "unreadable"
CHECKPOINT_PREFIX = "ckpt"

# What a resumed run may change, by the kind each setting declares (dkd_tf.core.train_config).
ARCHITECTURE_FIELDS = train_config.fields_of_kind(train_config.ARCHITECTURE)  # never
SAFE_FIELDS = train_config.fields_of_kind(train_config.SAFE)  # when named in allow_changes
RUN_FIELDS = train_config.fields_of_kind(train_config.RUN)  # never compared

STRATEGIES = train_config.STRATEGIES
INPUT_MULTIPLE = 32  # the backbones' stride: heatmaps and every feature map stay aligned
INPUT_SIZE_RULE = (f"must be a positive multiple of {INPUT_MULTIPLE} (the backbone stride): "
                   "64, 96, 128, ..., 256, ...")


# One error type for a run directory, its settings and its saved model: raised by the model
# directory loader below training too (dkd_tf.models.model_dir).
RunStateError = model_dir_lib.ModelDirError
_show = model_dir_lib.show
load_config = model_dir_lib.load_config
model_input_size = model_dir_lib.model_input_size


def input_size_problem(value) -> str | None:
    """Why `value` cannot be an input size, or None."""
    if isinstance(value, int) and value >= INPUT_MULTIPLE and value % INPUT_MULTIPLE == 0:
        return None
    return INPUT_SIZE_RULE


SEED_FIELDS = ("init_from", "init_initializer_from", "init_encoder_from",
               "init_matcher_from")  # .keras seeds
PATH_FIELDS = ("backbone_weights", *SEED_FIELDS, "data_dir")


def unseeded(cfg):
    """cfg with no weights file to read: random backbones, no seeds (the architecture alone,
    e.g. for costs, which do not depend on weights)."""
    return dataclasses.replace(cfg, backbone_weights="", **{f: "" for f in SEED_FIELDS})


def config_problems(cfg) -> list[tuple[str, str]]:
    """[(field, problem)] for every setting of a TrainConfig that cannot work (files that do not
    exist included; PATH_FIELDS name those). A setting's own rule (a choice, a bound) comes from
    its declaration (train_config.field_problem); the rules relating settings are below. Needs
    no TensorFlow."""
    out = []

    def need(field, ok, problem):
        if not ok:
            out.append((field, problem))

    for field in dataclasses.fields(cfg):
        problem = train_config.field_problem(field.name, getattr(cfg, field.name))
        if problem:
            out.append((field.name, problem))
    problem = input_size_problem(cfg.input_size)
    if problem:
        out.append(("input_size", problem))
    need("synthetic_frames", not isinstance(cfg.clip_length, int)
         or cfg.synthetic_frames >= cfg.clip_length,
         f"must be at least --clip_length ({cfg.clip_length})")
    need("flip_prob", not (cfg.synthetic_side_cue and cfg.flip_prob > 0),
         "must be 0 with --synthetic_side_cue: a mirrored crop puts the left-limb stripe on the "
         "right limbs' labels")
    need("encoder_input_scale", input_size_problem(cfg.input_size) is not None
         or input_size_problem(round(cfg.input_size * cfg.encoder_input_scale)) is None,
         f"F's input, --input_size x this = {cfg.input_size * cfg.encoder_input_scale:g}, "
         + INPUT_SIZE_RULE)
    temporal = train_config.TEMPORAL_VARIANTS
    for name, (_, network) in train_config.FROZEN.items():
        need(name, not getattr(cfg, name) or cfg.variant in temporal,
             f"needs a variant with {network} ({', '.join(temporal)}); "
             f"{cfg.variant!r} has one network")
    need("scale_max", cfg.scale_max >= cfg.scale_min,
         f"must be >= --scale_min ({cfg.scale_min:g})")
    epochs = list(cfg.lr_decay_epochs)
    need("lr_decay_epochs", all(isinstance(e, int) and e >= 0 for e in epochs)
         and epochs == sorted(set(epochs)), "must be increasing non-negative epoch numbers")
    need("init_from", not cfg.init_from or not any(getattr(cfg, f) for f in SEED_FIELDS
                                                    if f != "init_from"),
         "seeds every network: give it without --init_initializer_from, --init_encoder_from "
         "and --init_matcher_from")
    need("backbone_weights", cfg.backbone_weights != "movenet" or any(
        b.startswith("movenet_") for b in (cfg.initializer_backbone, cfg.encoder_backbone)),
         "'movenet' maps MoveNet's weights into movenet_* backbones: choose one with "
         "--initializer_backbone or --encoder_backbone")
    return out + path_problems(cfg)


def _recorded_variant(model_file: str) -> str | None:
    """The variant the config.json beside a .keras model records (a run's or a preset member's),
    or None where there is none to read: the model's own check (trainer.seed_all) then decides."""
    try:
        with open(os.path.join(os.path.dirname(model_file), CONFIG_FILE)) as f:
            variant = json.load(f).get("variant")
    except (OSError, ValueError, AttributeError):
        return None
    return variant if isinstance(variant, str) else None


def path_problems(cfg) -> list[tuple[str, str]]:
    """[(field, problem)] for the files and directories a TrainConfig names (PATH_FIELDS and
    --model_dir). Needs no TensorFlow, so a command rejects a missing file in well under a second,
    before it imports the trainer."""
    out = []

    def need(field, ok, problem):
        if not ok:
            out.append((field, problem))

    weights = cfg.backbone_weights
    need("backbone_weights", weights in ("", "imagenet", "movenet") or os.path.isfile(weights),
         "must be '', 'imagenet', 'movenet' or an existing weights file")
    for field in SEED_FIELDS:
        path = getattr(cfg, field)
        need(field, not path or os.path.isfile(path), "no such file (a trained .keras model)")
    seed_variant = _recorded_variant(cfg.init_from) if os.path.isfile(cfg.init_from) else None
    need("init_from", seed_variant in (None, cfg.variant),
         f"is a {seed_variant!r} model (its {CONFIG_FILE}); this run trains {cfg.variant!r}")
    if cfg.dataset != "synthetic":  # only the synthetic set is generated when missing
        need("data_dir", os.path.isdir(cfg.data_dir), f"no such directory (the {cfg.dataset} "
                                                      "data set in its official layout)")
    need("model_dir", not in_shipped_presets(cfg.model_dir),
         "is inside the shipped presets (dkd_tf/presets/), which training never writes: pass "
         "another --model_dir (--init_encoder_from / --init_initializer_from=<member>/"
         "model.keras start from a member's weights)")
    need("model_dir", in_shipped_presets(cfg.model_dir) or not foreign_model(cfg.model_dir),
         f"holds a {MODEL_FILE} but no {CHECKPOINT_DIR}/ (a model saved by other means, e.g. a "
         "copied preset member): training would start from scratch and replace it; pass another "
         "--model_dir (--init_encoder_from / --init_initializer_from=<this>/"
         f"{MODEL_FILE} start from its weights)")
    if not in_shipped_presets(cfg.model_dir):
        # A file on the way (a.txt/run) once surfaced as "File exists" from os.makedirs.
        try:
            output_paths.check_dir(cfg.model_dir, flag="--model_dir")
        except output_paths.OutputPathError as e:
            out.append(("model_dir", e.problem.split(": ", 1)[-1]))
    return out


def foreign_model(model_dir: str) -> bool:
    """Whether model_dir holds a model.keras that no training run of ours wrote (no
    checkpoints/ beside it): training into it would replace the user's model."""
    return (os.path.isfile(os.path.join(model_dir, MODEL_FILE))
            and not os.path.isdir(os.path.join(model_dir, CHECKPOINT_DIR)))


def in_shipped_presets(path) -> bool:
    """Whether path is, or is inside, dkd_tf/presets/ (shipped models: read-only to training,
    which once replaced a preset's model.keras and config.json when given its directory)."""
    root = os.path.realpath(presets.PRESETS_DIR)
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


def validate_config(cfg, paths: bool = True) -> list[tuple[str, str]]:
    """Raise RunStateError listing every setting of cfg that cannot work (all at once).

    paths=False reports missing files and directories (PATH_FIELDS) without raising: they are
    returned, for a dry run on a machine without the data."""
    problems = config_problems(cfg)
    missing = [p for p in problems if p[0] in PATH_FIELDS]
    if not paths:
        problems = [p for p in problems if p[0] not in PATH_FIELDS]
    if problems:
        _raise(cfg, problems)
    return missing


def check_paths(cfg) -> None:
    """Raise RunStateError naming every file or directory of cfg that cannot work (no
    TensorFlow needed: see path_problems)."""
    problems = path_problems(cfg)
    if problems:
        _raise(cfg, problems)


def _raise(cfg, problems):
    first, *rest = problems
    lines = [f"--{field}={_show(getattr(cfg, field))}: {problem}" for field, problem in rest]
    raise RunStateError(f"--{first[0]}={_show(getattr(cfg, first[0]))}",
                        first[1] + "".join(f"\n  also {l}" for l in lines))


def _normalized(field, value):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    if field in PATH_FIELDS and value:
        return os.path.normpath(value)
    return value


def config_differences(stored, new) -> list[tuple[str, object, object]]:
    """[(field, stored value, new value)] for the compared fields that differ."""
    out = []
    for f in dataclasses.fields(new):
        if f.name in RUN_FIELDS:
            continue
        a, b = getattr(stored, f.name), getattr(new, f.name)
        if _normalized(f.name, a) != _normalized(f.name, b):
            out.append((f.name, a, b))
    return out


def is_architecture(field: str) -> bool:
    """Settings that never change in a resumed run: ARCHITECTURE_FIELDS, and any TrainConfig
    field not classified here yet (a new setting is refused until someone says it is safe)."""
    return field not in SAFE_FIELDS and field not in RUN_FIELDS


def format_differences(diffs, stored_label="stored (config.json)", new_label="now") -> str:
    rows = [("flag", stored_label, new_label, "kind")] + [
        (f"--{n}", _show(a), _show(b),
         "architecture" if is_architecture(n) else "safe") for n, a, b in diffs]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in rows)


def has_checkpoints(model_dir: str) -> bool:
    return bool(checkpoint_numbers(os.path.join(model_dir, CHECKPOINT_DIR)))


def check_resume(cfg, allow_changes=()) -> list:
    """Compare cfg with the config.json of a run that has checkpoints; nothing is written.

    Returns the allowed differences [(field, stored, new)] (empty for a new run or the same
    settings); raises RunStateError with a table of the differences when an architecture setting
    changed or a safe one changed without being named in allow_changes."""
    allow = set(allow_changes)
    unknown = allow - set(SAFE_FIELDS)
    if unknown:
        bad = sorted(unknown)
        arch = [n for n in bad if n in ARCHITECTURE_FIELDS]
        raise RunStateError(f"--allow_changes={','.join(sorted(allow))}",
                            (f"{', '.join(arch)} define the model and can never change in a "
                             "resumed run; " if arch else f"unknown setting(s) {', '.join(bad)}; ")
                            + f"allowed: {', '.join(SAFE_FIELDS)}")
    path = os.path.join(cfg.model_dir, CONFIG_FILE)
    if not has_checkpoints(cfg.model_dir):
        return []  # nothing trained yet: the new settings simply apply
    if not os.path.isfile(path):
        raise RunStateError(path, f"missing, but {os.path.join(cfg.model_dir, CHECKPOINT_DIR)} "
                                  "holds checkpoints: the settings they were trained with are "
                                  "unknown; restore config.json or use a new --model_dir")
    try:
        stored = TrainConfig.load(cfg.model_dir)
    except (ValueError, TypeError) as e:
        raise RunStateError(path, f"unreadable ({e}); restore it or use a new --model_dir"
                            ) from None
    diffs = config_differences(stored, cfg)
    if not diffs:
        return []
    arch = [d for d in diffs if is_architecture(d[0])]
    not_allowed = [d for d in diffs if not is_architecture(d[0]) and d[0] not in allow]
    if arch:
        raise RunStateError(path, "this run's checkpoints were trained with other settings, and "
                                  f"{', '.join('--' + d[0] for d in arch)} cannot change in a "
                                  "resumed run (use a new --model_dir, or the stored values):\n"
                            + format_differences(diffs))
    if not_allowed:
        names = ",".join(d[0] for d in diffs)
        raise RunStateError(path, "the flags differ from the settings this run was trained with; "
                                  "to resume with the new values pass --allow_changes="
                                  f"{names} (or give the stored values):\n"
                            + format_differences(diffs))
    return diffs


def dry_run(cfg, allow_changes=()) -> None:
    """Validate every setting (and, for a run with checkpoints, the comparison with its
    config.json) without writing anything; print the resolved config (dkd_tf.train --dry_run)."""
    missing = validate_config(cfg, paths=False)
    changes = check_resume(cfg, allow_changes)
    for field, problem in missing:  # not fatal here: the data may live on the training machine
        print(f"warning: --{field}={getattr(cfg, field)}: {problem} (training here would fail)",
              file=sys.stderr)
    print(json.dumps(dataclasses.asdict(cfg), indent=2))
    if has_checkpoints(cfg.model_dir):
        print(f"{cfg.model_dir}: would resume"
              + (" with these allowed changes:\n" + format_differences(changes)
                 if changes else " with the stored settings"))


def save_config(cfg, changes=(), log=None) -> str:
    """Write config.json (atomically); log each allowed change of a resumed run."""
    log = log or logging.warning
    for name, old, new in changes:
        log(f"{cfg.model_dir}: resuming with --{name} changed from {_show(old)} to {_show(new)} "
            "(allowed by --allow_changes)")
    os.makedirs(cfg.model_dir, exist_ok=True)
    path = os.path.join(cfg.model_dir, CONFIG_FILE)
    _write_json(path, dataclasses.asdict(cfg))
    return path


# ---------------------------------------------------------------------------------- files
def _write_json(path, doc) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


file_sha256 = presets.sha256_of  # one file checksum for runs, presets and exports


def clean_litter(model_dir: str, log=None) -> list[str]:
    """Remove what interrupted writes leave behind; returns the removed paths."""
    log = log or logging.warning
    ckpt_dir = os.path.join(model_dir, CHECKPOINT_DIR)
    found = (glob.glob(os.path.join(ckpt_dir, f"{CHECKPOINT_PREFIX}-*_temp"))
             + glob.glob(os.path.join(ckpt_dir, "checkpoint.tmp*"))
             + glob.glob(os.path.join(model_dir, "*.tmp.keras"))
             + glob.glob(os.path.join(model_dir, "*.json.tmp")))
    for path in found:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
    if found:
        log(f"{model_dir}: removed {len(found)} file(s) left by an interrupted write: "
            + ", ".join(os.path.relpath(p, model_dir) for p in sorted(found)))
    return found


_CKPT_RE = re.compile(rf"^{CHECKPOINT_PREFIX}-(\d+)\.(index|data-\d+-of-\d+)$")


def checkpoint_numbers(ckpt_dir: str) -> list[int]:
    """Numbers N of the ckpt-N files on disk (any part of them), ascending."""
    if not os.path.isdir(ckpt_dir):
        return []
    nums = {int(m.group(1)) for m in map(_CKPT_RE.match, os.listdir(ckpt_dir)) if m}
    return sorted(nums)


def _checkpoint_files(ckpt_dir, number) -> list[str]:
    return [os.path.join(ckpt_dir, n) for n in os.listdir(ckpt_dir)
            if (m := _CKPT_RE.match(n)) and int(m.group(1)) == number]


def read_whole_checkpoint(prefix: str) -> None:
    """Read every tensor of the checkpoint at `prefix`; raises when any byte is missing."""
    import tensorflow as tf
    if not os.path.isfile(prefix + ".index"):
        raise tf.errors.NotFoundError(None, None, f"{prefix}.index is missing")
    reader = tf.train.load_checkpoint(prefix)
    for name in reader.get_variable_to_shape_map():
        reader.get_tensor(name)


def restore_newest(checkpoint, ckpt_dir: str, log=None) -> str | None:
    """Restore `checkpoint` (a tf.train.Checkpoint) from the newest checkpoint in ckpt_dir that is
    whole; returns its prefix (None: nothing restorable, a fresh start).

    Unreadable newer checkpoints are moved to ckpt_dir/unreadable/ and reported. The checkpoint
    state file is rewritten to list the remaining checkpoints, so tf.train.CheckpointManager
    continues from the one restored. A whole checkpoint that does not fit the model (another
    architecture) is an error, not a fallback."""
    import tensorflow as tf
    log = log or logging.warning
    numbers = checkpoint_numbers(ckpt_dir)
    restored, broken = None, []
    for number in reversed(numbers):
        prefix = os.path.join(ckpt_dir, f"{CHECKPOINT_PREFIX}-{number}")
        try:
            read_whole_checkpoint(prefix)
        except Exception as e:  # noqa: BLE001 - TF raises OpError, IndexError, ... for torn files
            reason = getattr(e, "message", None) or str(e)
            broken.append((number, reason.strip().splitlines()[0] if reason.strip() else
                           type(e).__name__))
            continue
        try:
            checkpoint.restore(prefix).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            raise RunStateError(prefix, f"does not fit the model built from the flags ({e}); "
                                        "the run was trained with other settings") from None
        restored = prefix
        break
    for number, reason in broken:
        target = os.path.join(ckpt_dir, UNREADABLE_DIR)
        os.makedirs(target, exist_ok=True)
        for path in _checkpoint_files(ckpt_dir, number):
            os.replace(path, os.path.join(target, os.path.basename(path)))
        log(f"{os.path.join(ckpt_dir, f'{CHECKPOINT_PREFIX}-{number}')}: unreadable ({reason}); "
            f"moved to {target}/ and "
            + (f"resuming from {os.path.basename(restored)}" if restored
               else "starting from scratch (no older checkpoint restores)"))
    if broken or numbers:
        remaining = [os.path.join(ckpt_dir, f"{CHECKPOINT_PREFIX}-{n}")
                     for n in checkpoint_numbers(ckpt_dir)
                     if restored is None or n <= int(restored.rsplit("-", 1)[1])]
        state = os.path.join(ckpt_dir, "checkpoint")
        if remaining:
            write_checkpoint_state(ckpt_dir, remaining)
        elif os.path.exists(state):
            os.remove(state)
    return restored


def write_checkpoint_state(ckpt_dir: str, prefixes) -> str:
    """Write ckpt_dir/checkpoint, the state tf.train.CheckpointManager reads, listing `prefixes`
    (oldest first, the last the latest) as the manager itself writes it: paths relative to
    ckpt_dir, each with its save time (its .index file's), and a preserved time before them all,
    so the manager goes on sweeping them by max_to_keep. (tf.compat.v1.train.
    update_checkpoint_state, which did this before, is deprecated and logged so on every resume;
    it wrote no times, and the manager then kept those checkpoints forever.) Returns the path."""
    names = [os.path.basename(p) for p in prefixes]
    times = [os.path.getmtime(os.path.join(ckpt_dir, n + ".index")) for n in names]
    lines = ([f'model_checkpoint_path: "{names[-1]}"']
             + [f'all_model_checkpoint_paths: "{n}"' for n in names]
             + [f"all_model_checkpoint_timestamps: {t!r}" for t in times]
             + [f"last_preserved_timestamp: {min(times) - 1.0!r}"])
    path = os.path.join(ckpt_dir, "checkpoint")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)
    return path


# ---------------------------------------------------------------------------------- model.keras
def read_record(model_dir: str) -> dict | None:
    path = os.path.join(model_dir, MODEL_RECORD)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else None
    except (OSError, json.JSONDecodeError):
        return None


def write_model(model, model_dir: str, epoch: int, train_seconds: float | None = None) -> str:
    """model.keras of checkpoint `epoch`, then its record; each replaced atomically.
    train_seconds: the run's training time up to this epoch, summed over resumes (kept in the
    record so that a later invocation that finds the run finished still knows what it cost)."""
    path = os.path.join(model_dir, MODEL_FILE)
    tmp = path + ".tmp.keras"
    model.save(tmp)
    os.replace(tmp, path)  # never leave a half-written model behind
    record = {
        "epoch": int(epoch), "checkpoint": f"{CHECKPOINT_PREFIX}-{int(epoch)}",
        "sha256": file_sha256(path),
        "written": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if train_seconds is not None:
        record["train_seconds"] = round(float(train_seconds), 1)
    _write_json(os.path.join(model_dir, MODEL_RECORD), record)
    return path


def recorded_train_seconds(model_dir: str, fresh=None) -> float | None:
    """The training time summed over the run's invocations; `fresh` when the run has no record
    yet, None when its record predates that entry (or a resume lost count: EpochCheckpoint)."""
    record = read_record(model_dir)
    if record is None:
        return fresh
    value = record.get("train_seconds")
    return float(value) if isinstance(value, (int, float)) else None


def model_mismatch(model_dir: str, epoch: int) -> str | None:
    """Why model.keras is not the model of checkpoint `epoch`, or None when it provably is."""
    path = os.path.join(model_dir, MODEL_FILE)
    if not os.path.isfile(path):
        return f"{MODEL_FILE} is missing"
    record = read_record(model_dir)
    if record is None:
        return f"{MODEL_RECORD} (the epoch model.keras was written from) is missing or unreadable"
    if record.get("epoch") != epoch:
        return (f"{MODEL_FILE} was written from epoch {record.get('epoch')}, the newest "
                f"checkpoint is epoch {epoch}")
    if record.get("sha256") != file_sha256(path):
        return f"{MODEL_FILE} is not the file {MODEL_RECORD} describes (checksum differs)"
    return None


def reconcile_model(model, model_dir: str, epoch: int, input_size: int, log=None) -> bool:
    """Make model.keras the model of checkpoint `epoch` (already restored into `model`); True when
    it had to be rewritten."""
    log = log or logging.warning
    if epoch <= 0:
        return False
    reason = model_mismatch(model_dir, epoch)
    if reason is None:
        return False
    log(f"{os.path.join(model_dir, MODEL_FILE)}: {reason}; rewriting it from "
        f"{CHECKPOINT_DIR}/{CHECKPOINT_PREFIX}-{epoch}")
    if not model.built:
        import numpy as np
        model(np.zeros((1, 2, input_size, input_size, 3), np.float32), training=False)
    write_model(model, model_dir, epoch)
    return True


def verify_model_dir(model_dir: str) -> None:
    """Refuse a model.keras that is not the model of the run's newest checkpoint.

    A directory without checkpoints (a model saved by other means) is taken as it is; one with
    a model record is checked against it."""
    ckpt_dir = os.path.join(model_dir, CHECKPOINT_DIR)
    numbers = checkpoint_numbers(ckpt_dir)
    if numbers:
        reason = model_mismatch(model_dir, numbers[-1])
    elif read_record(model_dir) is not None:
        record = read_record(model_dir)
        path = os.path.join(model_dir, MODEL_FILE)
        reason = (None if os.path.isfile(path) and record.get("sha256") == file_sha256(path)
                  else f"{MODEL_FILE} is not the file {MODEL_RECORD} describes")
    else:
        reason = None
    if reason:
        raise RunStateError(os.path.join(model_dir, MODEL_FILE),
                            f"not the model of this run's newest checkpoint ({reason}); rerun "
                            "the training command (it rebuilds model.keras from the newest "
                            "checkpoint that restores)")


# ---------------------------------------------------------------------------------- loading
def check_model_dir(model_dir) -> None:
    """The cheap checks of a model directory, file reads only (no TensorFlow), which commands run
    before they import it: it exists and is a folder; a preset member matches its preset.json
    (presets.verify_path); config.json and model.keras exist; model.keras is the model of the
    newest checkpoint (verify_model_dir). load_model_dir runs them first too."""
    model_dir = os.fspath(model_dir)
    if not os.path.exists(model_dir):
        raise FileNotFoundError(f"{model_dir}: model directory does not exist")
    if not os.path.isdir(model_dir):
        raise RunStateError(model_dir, "is a file, not a model directory (config.json + "
                                       "model.keras)")
    presets.verify_path(model_dir)
    config_path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(f"{config_path}: no training config; is {model_dir!r} a model "
                                "directory written by dkd_tf.train?")
    path = os.path.join(model_dir, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no {MODEL_FILE} in the model directory (it is written "
                                "after the first training epoch)")
    verify_model_dir(model_dir)  # never a model.keras older than the newest checkpoint


def load_model_dir(model_dir: str):
    """(model, TrainConfig) of a model directory (config.json + model.keras): the one loader of
    trained models (evaluation, export, the runtimes' keras backend; DKD.from_preset shares its
    second half). check_model_dir first (it exists, a preset member matches its preset.json,
    model.keras is the model of the newest checkpoint), then model_dir.load_checked: config.json
    parses with each setting of its JSON type, model.keras loads in safe mode, and both describe
    one network, else one RunStateError naming config.json and both values."""
    from dkd_tf.models import dkd as dkd_lib  # registers DKD and its layers for safe mode
    model_dir = os.fspath(model_dir)
    check_model_dir(model_dir)  # verifies a preset member first
    return model_dir_lib.load_checked(model_dir, dkd_lib.DKD, verified=True)
