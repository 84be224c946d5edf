"""Shipped trained models (presets), as keras-hub ships them: a folder per preset.

    dkd_tf/presets/<name>/preset.json      what produced it (command, machine, wall time, commit),
                                           the results table, and a sha256 of every file below
    dkd_tf/presets/<name>/<member>/        a model directory (config.json + model.keras), as
                                           dkd_tf.train writes one: evaluate, bench and export
                                           take it as --model_dir
    dkd_tf/presets/<name>/<export>/        a verified export (manifest.json, *.tflite)
    dkd_tf/presets/<name>/README.md        its model card: data, numbers, the command

A preset is only used after its files match preset.json (`verify`), so a model that was replaced
or truncated by hand is refused, never run silently. `python -m dkd_tf.demo --recipe reference
--ship` writes the reference preset.

Names: `list()` gives names that say what a preset is (architecture-data-input size, NAMES);
the folder names (`reference`, `mobile`, which the checksums, recipes and the Android tooling
use) stay valid as aliases, and so does the path of a preset folder (e.g. a copy). This module
reads files only (no TensorFlow), so that listing or verifying presets is cheap.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess

PRESETS_DIR = os.path.dirname(os.path.abspath(__file__))
PRESET_FILE = "preset.json"
CARD_FILE = "README.md"  # the model card: about the preset, not used by it, so not checksummed
FORMAT_VERSION = 1
# = dkd_tf.serving.manifest.MANIFEST_FILE and training.MODEL_FILE: this module imports neither layer.
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.keras"

# Descriptive name -> folder. A name says the architecture (DKD and its per-frame encoder F),
# the training data and the input size; the folder names stay as aliases.
NAMES = {
    "dkd-resnet18-synthetic-128": "reference",
    "dkd-mobilenetv3small-synthetic-128": "mobile",
    # the real-world single-frame pair, named by its P (MoveNet Thunder's network, 256 px;
    # the F-path Baseline beside it is Lightning's, 192 px), both fine-tuned on LSP + LSPET
    "singleframe-movenetthunder-lsp-256": "movenet_lsp",
    # the real-world DKD: P as above (frozen), F MoveNet Lightning's network at half the 256 px
    # crop, trained on LSP photos set in motion + teacher-labelled footage
    "dkd-movenetlightning-realvideo-256": "dkd_movenet_video",
}


# What `python -m dkd_tf.stream`, `make demo` and the Android app run without a model: the
# real-world DKD (its TFLite member is the DKD pair: P on the first frame, the stepper after it).
DEFAULT = "dkd_movenet_video"


class PresetError(ValueError):
    """A preset that is missing, or whose files do not match its preset.json."""


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def machine() -> str:
    """The machine a preset was made on, as its preset.json and model card record it."""
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
            f"Python {platform.python_version()}")


def git_commit() -> str:
    """The checkout's short commit id, recorded beside what a preset was made with."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=PRESETS_DIR).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def available() -> list[str]:
    """Folder names of the presets shipped in this package (what the tooling uses)."""
    return sorted(d for d in os.listdir(PRESETS_DIR)
                  if os.path.isfile(os.path.join(PRESETS_DIR, d, PRESET_FILE)))


def list() -> "list[str]":  # noqa: A001 - keras-hub's name for it
    """Names of the shipped presets, as from_preset takes them: the descriptive name of each
    folder that has one (NAMES), else the folder name."""
    folders = available()
    described = {folder: name for name, folder in NAMES.items()}
    return sorted(described.get(folder, folder) for folder in folders)


def aliases() -> dict:
    """{alias: name} for the shipped presets: the folder names that list() shows otherwise."""
    shipped = set(available())
    return {folder: name for name, folder in NAMES.items() if folder in shipped}


def is_path(name: str) -> bool:
    """A preset given as a folder path (has a separator or starts with '.'), not as a name."""
    name = os.fspath(name)
    return os.sep in name or "/" in name or name.startswith(".")


def preset_dir(name: str) -> str:
    """The folder of a preset given by name, alias (folder name) or folder path."""
    name = os.fspath(name)
    if is_path(name):
        path = os.path.abspath(name)
        if not os.path.isfile(os.path.join(path, PRESET_FILE)):
            raise PresetError(f"{os.path.join(path, PRESET_FILE)}: not a preset folder (no "
                              f"{PRESET_FILE})")
        return path
    path = os.path.join(PRESETS_DIR, NAMES.get(name, name))
    if not os.path.isfile(os.path.join(path, PRESET_FILE)):
        raise PresetError(f"{os.path.join(path, PRESET_FILE)}: no preset named {name!r} "
                          f"(shipped: {', '.join(list()) or 'none'}; aliases: "
                          f"{', '.join(aliases()) or 'none'})")
    return path


def metadata(name: str) -> dict:
    path = os.path.join(preset_dir(name), PRESET_FILE)
    with open(path) as f:
        meta = json.load(f)
    if meta.get("format_version") != FORMAT_VERSION:
        raise PresetError(f"{path}: preset format {meta.get('format_version')!r}, this code "
                          f"reads {FORMAT_VERSION}")
    return meta


def list_files(root: str) -> list[str]:
    """Every file under root except preset.json and the model card, as sorted '/'-separated
    relative paths."""
    out = []
    for dirpath, _, files in os.walk(root):
        for fn in files:
            rel = os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")
            if rel not in (PRESET_FILE, CARD_FILE) and "__pycache__" not in rel:
                out.append(rel)
    return sorted(out)


def _check_files(root: str, listed: dict, under: str = "") -> None:
    """The files below root/under are exactly those `listed` (preset.json's "files") names there,
    with their sha256; raises PresetError naming the first file that differs."""
    prefix = under.rstrip("/") + "/" if under else ""
    present = {rel for rel in list_files(root) if rel.startswith(prefix)}
    for rel in sorted({r for r in listed if r.startswith(prefix)} | present):
        path = os.path.join(root, rel)
        if rel not in present:
            raise PresetError(f"{path}: listed in {PRESET_FILE} but missing")
        if rel not in listed:
            raise PresetError(f"{path}: not listed in {PRESET_FILE} (stale or foreign file)")
        if sha256_of(path) != listed[rel]:
            raise PresetError(f"{path}: sha256 differs from {PRESET_FILE} (file changed)")


def _listed(meta: dict, root: str) -> dict:
    listed = meta.get("files")
    if not isinstance(listed, dict) or not listed:
        raise PresetError(f"{os.path.join(root, PRESET_FILE)}: lists no files with checksums")
    return listed


def verify(name: str) -> dict:
    """metadata(name) after checking that the preset's files are exactly those it lists, with
    their sha256; raises PresetError naming the first file that differs."""
    meta = metadata(name)
    root = preset_dir(name)
    _check_files(root, _listed(meta, root))
    return meta


def enclosing(path) -> str | None:
    """The preset folder that `path` is, or lies in (a folder up the path has preset.json), or
    None. Used for paths given to commands: a member used by path is verified (verify_path), and
    no command writes there (dkd_tf.core.output_paths)."""
    folder = os.path.realpath(os.fspath(path))
    while True:
        if os.path.isfile(os.path.join(folder, PRESET_FILE)):
            return folder
        up = os.path.dirname(folder)
        if up == folder:
            return None
        folder = up


def verify_path(path) -> str | None:
    """Verify a model or export directory used by path (`--model_dir`, `--export_dir`) when it
    is a member of a preset: its files must be exactly those preset.json lists under it, with
    their sha256 (PresetError names the first that differs). Returns the preset folder, or None
    when `path` lies in no preset (its own checks apply: dkd_tf.serving.manifest's content checksum,
    run_state's model record). The one check of a preset's files is _check_files, as in verify."""
    root = enclosing(path)
    if root is None:
        return None
    meta_path = os.path.join(root, PRESET_FILE)
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise PresetError(f"{meta_path}: cannot read the preset's checksums ({e})") from None
    if not isinstance(meta, dict):
        raise PresetError(f"{meta_path}: not a preset record (a JSON object)")
    under = os.path.relpath(os.path.realpath(os.fspath(path)), root).replace(os.sep, "/")
    _check_files(root, _listed(meta, root), "" if under == "." else under)
    return root


def member_dir(name: str, member: str, verified: dict | None = None) -> str:
    """The verified preset's model or export directory `member` (e.g. 'dkd', 'dkd_tflite').

    verified: what verify(name) returned in this process, so that a caller opening several
    members hashes the preset's files once; without it the preset is verified here."""
    meta = verified if verified is not None else verify(name)
    if member not in meta.get("members", {}):
        raise PresetError(f"{os.path.join(preset_dir(name), PRESET_FILE)}: no member "
                          f"{member!r} (members: {', '.join(meta.get('members', {}))})")
    return os.path.join(preset_dir(name), member)


def member_for(name: str, backend: str, verified: dict | None = None) -> str:
    """The member a runtime backend opens by default: for 'keras' the model directory 'dkd',
    for 'tflite'/'onnx' the first export whose manifest lists that format ('dkd*' first)."""
    meta = verified if verified is not None else verify(name)
    root = preset_dir(name)
    members = sorted(meta.get("members", {}), key=lambda m: (not m.startswith("dkd"), m))
    if backend == "keras":
        found = [m for m in members if os.path.isfile(os.path.join(root, m, MODEL_FILE))]
    else:
        found = []
        for m in members:
            try:
                with open(os.path.join(root, m, MANIFEST_FILE)) as f:
                    if backend in json.load(f).get("formats", {}):
                        found.append(m)
            except (OSError, ValueError, AttributeError):
                continue
    if not found:
        raise PresetError(f"{os.path.join(root, PRESET_FILE)}: preset {name!r} ships no "
                          f"{backend} model (members: {', '.join(meta.get('members', {}))}); "
                          f"export one, e.g. `python -m export.{backend} --model_dir "
                          f"{os.path.join(root, 'dkd')} --out_dir OUT`, and open OUT with "
                          "dkd_tf.serving.runtimes.open_runner" if backend in ("tflite", "onnx") else
                          f"{os.path.join(root, PRESET_FILE)}: preset {name!r} has no Keras "
                          "model member")
    return "dkd" if "dkd" in found else found[0]


def write(name: str, members: dict, info: dict, root: str | None = None) -> str:
    """Write preset.json for the files already copied into root/name (root: PRESETS_DIR):
    members {member: role}, info (command, machine, results, ...); every file gets its sha256.
    Exports' manifests first get their source model directory relative (relative_model_dirs)."""
    path = os.path.join(root or PRESETS_DIR, name)
    relative_model_dirs(path)
    meta = {"format_version": FORMAT_VERSION, "name": name, "members": members, **info,
            "files": {rel: sha256_of(os.path.join(path, rel)) for rel in list_files(path)}}
    tmp = os.path.join(path, PRESET_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, os.path.join(path, PRESET_FILE))
    return path


@contextlib.contextmanager
def staged(root: str):
    """An empty <root>.staging folder for a preset being built (then `install`ed over root). A
    build that fails, however it fails, leaves no half-written folder among the presets."""
    staging = root + ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def install(staging: str, root: str) -> str:
    """Swap a fully written staging folder in for the preset folder root: the old one is moved
    aside first and removed only once the new one is in place, so a failure leaves one whole."""
    old = root + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(root):
        os.replace(root, old)
    os.replace(staging, root)
    shutil.rmtree(old, ignore_errors=True)
    return root


def relative_model_dirs(path: str) -> "list[str]":
    """Rewrite the manifests under preset folder `path` whose source model_dir (absolute, as
    dkd_tf.serving.manifest.build records it) lies inside the preset as a path relative to the export,
    e.g. "../dkd": a shipped file names no machine's folder, and the keras backend still finds
    the model (dkd_tf.serving.manifest.source_model_dir). Returns the rewritten manifests."""
    rewritten = []
    root = os.path.realpath(path)
    for rel in list_files(path):
        if os.path.basename(rel) != MANIFEST_FILE:
            continue
        manifest_path = os.path.join(path, rel)
        with open(manifest_path) as f:
            manifest = json.load(f)
        model_dir = manifest.get("model", {}).get("model_dir")
        if not (isinstance(model_dir, str) and os.path.isabs(model_dir)):
            continue
        target = os.path.realpath(model_dir)
        if os.path.commonpath([root, target]) != root:
            continue  # a model outside the preset: left as recorded
        export_dir = os.path.dirname(os.path.realpath(manifest_path))
        manifest["model"]["model_dir"] = os.path.relpath(target, export_dir).replace(os.sep, "/")
        tmp = manifest_path + ".tmp"
        with open(tmp, "w") as f:  # dkd_tf.serving.manifest.write's layout
            json.dump(manifest, f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(tmp, manifest_path)
        rewritten.append(manifest_path)
    return rewritten
