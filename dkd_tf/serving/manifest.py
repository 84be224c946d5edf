"""manifest.json: everything a runtime needs to run an exported model, written once at export.

Runtimes (dkd_tf.serving.runtimes, dkd_tf.stream, the Android app) read the constants they need here and
nowhere else: input size, stride, state shape, joint names and skeleton, the decoding rule, and
which file holds which graph under which tensor names. One export directory holds one model; the
TFLite and the ONNX exporters write into the same manifest (each adds its `formats` entry), and a
manifest written for a different model is replaced, never merged.

Layout (format_version 1):
  format_version, created
  model:   variant, temporal, num_joints, backbones, widths, kernel size/channels, sha256 of
           model.keras, source model_dir (absolute, or relative to the export directory as
           in the shipped presets: source_model_dir), dataset
  batch:   1 (static; see `batch_note`)
  input:   height, width, channels 3, dtype float32, color RGB, range [0, 255], normalization
  stride, heatmap_shape [1, h, w, K], state_shape [1, S, S, C]
  decoding (a codec.DECODING_RULES name; DECODING unless the export chose another) and
           decoding_description
  crop:    margin (crop side = person size * margin), description
  tracker: the streaming tracker's defaults (dkd_tf.serving.tracking_policy.to_json(): re-initialization
           threshold and period, keypoint threshold, follow margin, per-frame resize bound, scale
           range, ..., the person finder: a dkd_tf.pretrained.peers key or ""); optional, absent
           from manifests written before it existed (so are its later keys)
  joints:  dkd_tf.core.joints JointSet.to_json() (names, edges, flip_pairs, groups, torso, evaluated)
  graphs:  initializer / stepper: signature key, inputs, outputs (logical names)
  formats: tflite: {initializer: {file, sha256, signature, inputs, outputs}, stepper: ...,
                    quantization, io_dtype}
           onnx:   {initializer: {...}, stepper: {...}, opset}
           both may carry rewrites: [{name, description}], the dkd_tf.serving.rewrites applied to the
           graph files (e.g. deconv_bn_as_conv2x2_depth_to_space); [] or absent: none (exports
           written before the field existed have none)
           (inputs/outputs map logical names to the file's tensor names; an ONNX graph cannot
           reuse an input's name for an output, so its stepper returns the state as
           'next_state')
  verification: per format, the parity check's numbers and whether it passed
  versions: dkd_tf, tensorflow, keras, python, numpy, converter versions
  content_sha256: sha256 of everything above but model.model_dir (a location, which
           dkd_tf.presets rewrites) as canonical JSON (content_sha256()); written by write(), so
           a hand-edited manifest (two joint names swapped, a stride changed) is refused by
           read(). A manifest without it (written before it existed) is only read inside a
           preset, whose preset.json checksums every file (dkd_tf.presets.verify_path).
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import platform

import numpy as np

from dkd_tf.core import codec
from dkd_tf.core.train_config import MANIFEST_FIELDS, TrainConfig

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
CONTENT_KEY = "content_sha256"
DECODING = codec.DEFAULT_DECODING  # the rule new exports record
_TO_PIXELS = ("Input pixels (integer coordinates are pixel centres): x = (x_cell + 0.5) * stride "
              "- 0.5, y = (y_cell + 0.5) * stride - 0.5. Map back to the source image with the "
              "inverse of the crop matrix.")
DECODING_DESCRIPTIONS = {
    "argmax_log_parabola": (
        "Per joint k: (i, j) = argmax over the heatmap cells of channel k; confidence c = the peak "
        "value h[i, j, k]. Sub-cell offset per axis from the peak and its two neighbours l, r "
        "(columns j-1, j+1 for x; rows for y): when 0 < j < w-1 and c > 0, floor l and r at "
        "0.01 * c, a = ln c - ln l, b = ln c - ln r, offset = 0.5 * (a - b) / (a + b) (0 when "
        "a + b = 0), x_cell = j + offset; else x_cell = j. " + _TO_PIXELS),
    "argmax_quarter_offset": (
        "Per joint k: (i, j) = argmax over the heatmap cells of channel k; confidence = the peak "
        "value h[i, j, k]. Quarter-cell shift: x_cell = j + 0.25 * sign(h[i, j+1, k] - "
        "h[i, j-1, k]) when 0 < j < w-1 (else x_cell = j); likewise y_cell with rows. "
        + _TO_PIXELS),
    "argmax_smoothed_log_parabola": (
        "Per joint k: (i, j) = argmax over the heatmap cells of channel k; confidence c = the peak "
        f"value h[i, j, k]. s = channel k smoothed by a Gaussian of std {codec.SMOOTH_SIGMA:g} "
        f"cells on each axis (taps t_d = exp(-d^2 / (2 * {codec.SMOOTH_SIGMA:g}^2)) for |d| <= "
        f"{codec.SMOOTH_RADIUS}, divided by their sum; cells beyond the border repeat the edge "
        "cell), needed at (i, j) and its 8 neighbours only. Sub-cell offset per axis from s at "
        "the peak cell and its two neighbours l, r (columns j-1, j+1 for x; rows for y): when "
        "0 < j < w-1 and s_c > 0, floor l and r at 0.01 * s_c, a = ln s_c - ln l, b = ln s_c - "
        "ln r, offset = 0.5 * (a - b) / (a + b) (0 when a + b = 0), clipped to [-0.5, 0.5], "
        "x_cell = j + offset; else x_cell = j. " + _TO_PIXELS),
}
QUANTIZATIONS = ("none", "fp16", "dynamic", "int8")
# How reports name each mode's precision.
PRECISION_NAMES = {"none": "fp32", "fp16": "fp16", "dynamic": "dynamic-range int8",
                   "int8": "int8"}
FORMATS = ("tflite", "onnx")
GRAPHS = ("initializer", "stepper")
BATCH_NOTE = ("Every graph has a static batch of 1: the per-sample dynamic depthwise convolution "
              "folds the batch into channels, so a graph only runs at the batch it was traced for.")


class ManifestError(ValueError):
    """A missing, malformed or mismatching manifest. The message names the file."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


def manifest_path(export_dir: str) -> str:
    return os.path.join(export_dir, MANIFEST_FILE)


def source_model_dir(manifest: dict, export_dir: str) -> str:
    """The model directory the manifest was exported from ('' when it names none). A relative
    path is relative to the export directory, so that an export shipped beside its model (a
    preset's dkd_tflite/ next to dkd/, "../dkd") names no machine's folder and still resolves."""
    model_dir = str(manifest.get("model", {}).get("model_dir") or "")
    if model_dir and not os.path.isabs(model_dir):
        model_dir = os.path.normpath(os.path.join(str(export_dir), model_dir))
    return model_dir


def versions(extra: dict | None = None) -> dict:
    import keras
    import tensorflow as tf
    out = {"tensorflow": tf.__version__, "keras": keras.__version__,
           "numpy": np.__version__, "python": platform.python_version()}
    try:
        from importlib import metadata
        out["dkd_tf"] = metadata.version("dkd_tf")
    except Exception:  # not installed as a distribution (e.g. run from a source tree)
        out["dkd_tf"] = "source"
    out.update(extra or {})
    return out


def build(model, cfg, joint_set, input_size: int, model_sha256: str, model_dir: str,
          tracker: dict | None = None, decoding: str | None = None) -> dict:
    """The format-independent part of the manifest for `model` at `input_size`; tracker: the
    tracker settings this export carries instead of the defaults (tracking_policy.to_json);
    decoding: its rule (codec.DECODING_RULES) instead of DECODING."""
    from dkd_tf.serving import tracking_policy
    from dkd_tf.data.transforms import CROP_MARGIN
    from dkd_tf.serving import graphs as graphs_lib
    decoding = decoding or DECODING
    if decoding not in DECODING_DESCRIPTIONS:
        raise ValueError(f"unknown decoding rule {decoding!r}; known: {codec.DECODING_RULES}")
    stride = int(model.stride)
    h = int(input_size) // stride
    if joint_set.num_joints != model.num_joints:
        raise ValueError(f"joint set {joint_set.name!r} has {joint_set.num_joints} joints, the "
                         f"model predicts {model.num_joints}")
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "variant": model.variant,
            "temporal": bool(model.temporal),
            "num_joints": int(model.num_joints),
            **architecture_of(model),
            "sha256": model_sha256,
            "model_dir": os.path.abspath(model_dir),
            "dataset": cfg.dataset,
        },
        "batch": graphs_lib.BATCH,
        "batch_note": BATCH_NOTE,
        "input": {
            "height": int(input_size), "width": int(input_size), "channels": 3,
            "dtype": "float32", "color": "RGB", "range": [0.0, 255.0],
            "normalization": "inside the graph; feed raw pixel values",
        },
        "stride": stride,
        "heatmap_shape": [graphs_lib.BATCH, h, h, int(model.num_joints)],
        "state_shape": [graphs_lib.BATCH,
                        *[int(d) for d in model.state_shape_for(int(input_size))]],
        "decoding": decoding,
        "decoding_description": DECODING_DESCRIPTIONS[decoding],
        "crop": {
            "margin": float(CROP_MARGIN),
            "description": "square crop centred on the person box centre, side = max(box w, h) "
                           "* margin source pixels, resized to the input size (bilinear)",
        },
        "tracker": tracking_policy.to_json(**(tracker or {})),
        "joints": joint_set.to_json(),
        "graphs": {g: {"signature": graphs_lib.SIGNATURES[g], "inputs": list(graphs_lib.INPUTS[g]),
                       "outputs": list(graphs_lib.OUTPUTS)} for g in GRAPHS},
        "formats": {},
        "verification": {},
        "versions": versions(),
    }


def architecture_of(model) -> dict:
    """The model's value of every setting declared manifest=True (dkd_tf.core.train_config), as the
    JSON type of the setting's default."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    return {name: type(defaults[name])(getattr(model, name)) for name in MANIFEST_FIELDS}


def same_model(a: dict, b: dict) -> bool:
    """Whether two manifests describe the same model at the same input size."""
    keys = ("input", "state_shape", "heatmap_shape", "stride", "decoding")
    return (a.get("model", {}).get("sha256") == b.get("model", {}).get("sha256")
            and all(a.get(k) == b.get(k) for k in keys)
            and a.get("joints", {}).get("names") == b.get("joints", {}).get("names"))


def joined_policy(export_dir: str, model_sha256: str, fmt: str, decoding: str | None = None,
                  tracker: dict | None = None):
    """(decoding, tracker overrides) an export of `fmt` writes into export_dir. One manifest holds
    every format of a model, so where export_dir's manifest holds another format's export of this
    model, the new one takes that manifest's decoding rule and tracker entry (None asks for
    them); a different one asked for is a ValueError, raised before any export work (merging
    would otherwise drop that export or change its settings). Elsewhere: the given ones."""
    from dkd_tf.serving import tracking_policy
    path = manifest_path(export_dir)
    try:
        old = read(export_dir) if os.path.exists(path) else None
    except ValueError:  # replaced, never merged (merge)
        old = None
    others = sorted(set((old or {}).get("formats", {})) - {fmt})
    if old is None or old.get("model", {}).get("sha256") != model_sha256 or not others:
        return decoding, tracker
    beside = f"{path}: its {', '.join(others)} export of this model"
    rule = old.get("decoding", DECODING)
    if decoding is not None and decoding != rule:
        raise ValueError(f"{beside} decodes by {rule}, not {decoding}: export with --decoding "
                         f"{rule} to add {fmt} beside it, or into another --out_dir")
    entry = old.get("tracker")
    if entry is None:  # written before the tracker entry existed: as merge always did
        return rule, tracker
    if tracker is not None:
        wanted = tracking_policy.to_json(**tracker)
        differ = {k: (entry.get(k), wanted.get(k)) for k in sorted(set(entry) | set(wanted))
                  if k != "description" and entry.get(k) != wanted.get(k)}
        if differ:
            raise ValueError(f"{beside} carries other tracker settings (theirs, this export's: "
                             + ", ".join(f"{k} {a} / {b}" for k, (a, b) in differ.items())
                             + f"): export with the same ones to add {fmt} beside it, or into "
                             "another --out_dir")
    return rule, {k: v for k, v in entry.items() if k != "description"}


def merge(export_dir: str, fresh: dict) -> dict:
    """`fresh` plus the other formats of the manifest already in export_dir when it describes the
    same model; a manifest of another model is replaced (its files no longer count)."""
    path = manifest_path(export_dir)
    if not os.path.exists(path):
        return fresh
    try:
        old = read(export_dir)
    except ValueError:  # ManifestError, or a preset's PresetError: replaced, never merged
        return fresh
    if not same_model(old, fresh):
        return fresh
    out = dict(fresh)
    out["formats"] = {**old.get("formats", {}), **fresh.get("formats", {})}
    out["verification"] = {**old.get("verification", {}), **fresh.get("verification", {})}
    out["versions"] = {**old.get("versions", {}), **fresh.get("versions", {})}
    return out


def content_sha256(manifest: dict) -> str:
    """The checksum of a manifest's content: every entry but content_sha256 itself and
    model.model_dir, as JSON with sorted keys and no spaces (so a re-indented file keeps it)."""
    doc = json.loads(json.dumps(manifest))
    doc.pop(CONTENT_KEY, None)
    if isinstance(doc.get("model"), dict):
        doc["model"].pop("model_dir", None)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(manifest: dict) -> dict:
    """manifest with its content_sha256 (what write() stores)."""
    out = {k: v for k, v in manifest.items() if k != CONTENT_KEY}
    out[CONTENT_KEY] = content_sha256(out)
    return out


def write(export_dir: str, manifest: dict) -> str:
    manifest = seal(manifest)
    validate(manifest, manifest_path(export_dir))
    os.makedirs(export_dir, exist_ok=True)
    path = manifest_path(export_dir)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read(export_dir: str) -> dict:
    """Load and validate export_dir/manifest.json, after verifying it: inside a preset, every file
    of the export against preset.json (dkd_tf.presets.verify_path, which raises PresetError);
    elsewhere, the manifest's content against its content_sha256 (validate)."""
    from dkd_tf import presets
    path = manifest_path(export_dir)
    if not os.path.isfile(path):
        raise ManifestError(path, "no manifest; is this an export directory written by "
                                  "`python -m export.tflite` or `python -m export.onnx`?")
    in_preset = presets.verify_path(export_dir) is not None
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ManifestError(path, f"cannot parse the manifest ({e})") from None
    validate(manifest, path)
    if not in_preset and CONTENT_KEY not in manifest:
        raise ManifestError(path, f"has no {CONTENT_KEY} (the checksum of its own content that "
                                  "exports write), so an edit to it cannot be detected; "
                                  "re-export the model")
    return manifest


def _require(cond, path, problem):
    if not cond:
        raise ManifestError(path, problem)


def _is_shape(x, rank) -> bool:
    return (isinstance(x, list) and len(x) == rank
            and all(isinstance(d, int) and d > 0 for d in x))


def validate(manifest: dict, path="manifest") -> dict:
    """Check the fields every runtime relies on; raise ManifestError naming the problem."""
    _require(isinstance(manifest, dict), path, "manifest must be a JSON object")
    version = manifest.get("format_version")
    _require(version == FORMAT_VERSION, path,
             f"format_version is {version!r}; this code reads version {FORMAT_VERSION}")
    for key in ("model", "input", "stride", "heatmap_shape", "state_shape", "decoding", "joints",
                "graphs", "formats", "batch"):
        _require(key in manifest, path, f"missing field {key!r}")
    _require(manifest["batch"] == 1, path, f"batch is {manifest['batch']!r}; graphs are batch 1")
    inp = manifest["input"]
    _require(isinstance(inp, dict) and isinstance(inp.get("height"), int)
             and isinstance(inp.get("width"), int) and inp.get("channels") == 3, path,
             f"input must give integer height, width and channels 3, got {inp!r}")
    stride = manifest["stride"]
    _require(isinstance(stride, int) and not isinstance(stride, bool) and stride > 0, path,
             f"stride {stride!r} is not a positive integer"
             + (" (a string in the JSON: write it without quotes)" if isinstance(stride, str)
                else ""))
    _require(_is_shape(manifest["heatmap_shape"], 4), path,
             f"heatmap_shape {manifest['heatmap_shape']!r} is not [1, h, w, K]")
    _require(_is_shape(manifest["state_shape"], 4), path,
             f"state_shape {manifest['state_shape']!r} is not [1, S, S, C]")
    hm = manifest["heatmap_shape"]
    _require(hm[1] * stride == inp["height"] and hm[2] * stride == inp["width"], path,
             f"heatmap_shape {hm} does not match input {inp['height']}x{inp['width']} at "
             f"stride {stride}")
    _require(manifest["decoding"] in codec.DECODING_RULES, path,
             f"unknown decoding rule {manifest['decoding']!r} (this code implements "
             f"{', '.join(codec.DECODING_RULES)})")
    names = manifest["joints"].get("names")
    _require(isinstance(names, list) and len(names) == hm[3], path,
             f"joints.names has {len(names) if isinstance(names, list) else names!r} entries, "
             f"heatmaps have {hm[3]} channels")
    for a, b in manifest["joints"].get("edges", []):
        _require(0 <= a < hm[3] and 0 <= b < hm[3], path, f"skeleton edge {[a, b]} out of range")
    tracker = manifest.get("tracker", {})
    _require(isinstance(tracker, dict), path, f"tracker must be an object, got {tracker!r}")
    finder = tracker.get("finder", "")
    from dkd_tf.pretrained.peers import PEERS
    _require(finder == "" or finder in PEERS, path,
             f"tracker.finder {finder!r} is not a published network this code runs (one of "
             f"{', '.join(PEERS)}, or empty)")
    for key, value in tracker.items():
        if key not in ("description", "finder"):
            _require(all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                         for v in (value if isinstance(value, list) else [value])), path,
                     f"tracker.{key} {value!r} is not a number >= 0")
    _require(tracker.get("follow_smoothing", 0) < 1, path,
             f"tracker.follow_smoothing {tracker.get('follow_smoothing')!r} must be below 1 (at "
             "1 the box never moves)")
    _require(tracker.get("follow_velocity", 0) <= 1, path,
             f"tracker.follow_velocity {tracker.get('follow_velocity')!r} must be at most 1 (a "
             "share of the velocity)")
    _require(tracker.get("motion_prior", 0) < 10, path,
             f"tracker.motion_prior {tracker.get('motion_prior')!r} must be below 10")
    _require(tracker.get("follow_velocity_memory", 0) < 1, path,
             f"tracker.follow_velocity_memory {tracker.get('follow_velocity_memory')!r} must be "
             "below 1 (at 1 the velocity never changes)")
    for fmt, entry in manifest["formats"].items():
        _require(fmt in FORMATS, path, f"unknown format {fmt!r}")
        for g in GRAPHS:
            _require(isinstance(entry.get(g), dict) and "file" in entry[g], path,
                     f"formats.{fmt}.{g} must name its file")
            digest = entry[g].get("sha256")
            _require(isinstance(digest, str) and len(digest) == 64
                     and all(c in "0123456789abcdef" for c in digest), path,
                     f"formats.{fmt}.{g}.sha256 is {digest!r}; every graph file needs the "
                     "checksum it was exported with (a manifest without it is not trusted)")
            for key in ("inputs", "outputs"):
                _require(isinstance(entry[g].get(key), dict), path,
                         f"formats.{fmt}.{g}.{key} must map logical to tensor names")
        rewrites = entry.get("rewrites", [])
        _require(isinstance(rewrites, list) and all(isinstance(r, dict) and isinstance(
            r.get("name"), str) for r in rewrites), path,
                 f"formats.{fmt}.rewrites must be a list of {{name, description}}, got "
                 f"{rewrites!r}")
        if fmt == "tflite":
            _require(entry.get("quantization") in QUANTIZATIONS, path,
                     f"formats.tflite.quantization {entry.get('quantization')!r} is not one of "
                     f"{QUANTIZATIONS}")
    if CONTENT_KEY in manifest:  # last: a field's own problem is the clearer message
        _require(manifest[CONTENT_KEY] == content_sha256(manifest), path,
                 f"its content differs from its {CONTENT_KEY} checksum (edited after the "
                 "export: joints, decoding, crop or shapes may no longer describe the graph "
                 "files); re-export the model")
    return manifest


def format_entry(manifest: dict, fmt: str, export_dir: str | None = None) -> dict:
    """manifest['formats'][fmt], with a clear error when this export has no such files."""
    path = manifest_path(export_dir) if export_dir else "manifest"
    entry = manifest.get("formats", {}).get(fmt)
    if entry is None:
        have = sorted(manifest.get("formats", {})) or ["none"]
        exporter = "export.tflite" if fmt == "tflite" else "export.onnx"
        raise ManifestError(path, f"this export has no {fmt} graphs (formats: "
                                  f"{', '.join(have)}); run `python -m {exporter}` first")
    return entry


def input_size(manifest: dict) -> int:
    return int(manifest["input"]["height"])


def joint_set(manifest: dict):
    """The dkd_tf JointSet named in the manifest, checked against the manifest's own names."""
    from dkd_tf.core import joints as joints_lib
    js = joints_lib.get(manifest["joints"]["name"])
    if list(js.names) != list(manifest["joints"]["names"]):
        raise ManifestError("manifest", f"joint names differ from dkd_tf.core.joints "
                                        f"{js.name!r}: {manifest['joints']['names']}")
    return js
