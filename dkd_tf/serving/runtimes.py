"""One interface over the runtimes that execute the streaming contract: Keras, TFLite, ONNX.

Every runner has
  initialize(frame) -> (heatmaps, state)
  step(frame, state) -> (heatmaps, state)
on numpy arrays of batch 1: frame float32 [1, S, S, 3] RGB 0..255 ([S, S, 3] is accepted too),
heatmaps float32 [1, S/8, S/8, K], state float32 [1, *state]; and a `manifest` (the export's
manifest.json) from which callers take input size, stride, joints and the decoding rule.

TFLite and ONNX runners open an export directory and refuse files that do not match its manifest
(checksum and tensor shapes), so a stale manifest fails at load time with the file named, not as
wrong keypoints later. The Keras runner opens either a training model directory (model.keras +
config.json; its manifest is built in memory) or an export directory, whose manifest records the
source model directory and the checksum of its model.keras.
"""
from __future__ import annotations

import os

import numpy as np

from dkd_tf.serving import graphs as graphs_lib
from dkd_tf.serving import manifest as manifest_lib
from dkd_tf.serving.manifest import ManifestError

BACKENDS = ("tflite", "onnx", "keras")


class Runner:
    """Base: shape checks shared by the backends. Subclasses implement _initialize and _step."""

    backend = "?"

    def __init__(self, manifest: dict, source: str):
        self.manifest = manifest
        self.source = source
        self.input_size = manifest_lib.input_size(manifest)
        self.stride = int(manifest["stride"])
        self.frame_shape = (1, self.input_size, self.input_size, 3)
        self.state_shape = tuple(manifest["state_shape"])
        self.heatmap_shape = tuple(manifest["heatmap_shape"])

    def _frame(self, frame) -> np.ndarray:
        frame = np.asarray(frame, dtype=np.float32)
        if frame.ndim == 3:
            frame = frame[None]
        if frame.shape != self.frame_shape:
            raise ValueError(f"frame has shape {frame.shape}, the graphs take {self.frame_shape} "
                             "(float32 RGB 0..255, batch 1)")
        return np.ascontiguousarray(frame)

    def _state(self, state) -> np.ndarray:
        state = np.asarray(state, dtype=np.float32)
        if state.shape != self.state_shape:
            raise ValueError(f"state has shape {state.shape}, expected {self.state_shape}")
        return np.ascontiguousarray(state)

    def _check_out(self, heatmaps, state, graph):
        heatmaps, state = np.array(heatmaps, np.float32), np.array(state, np.float32)  # copies
        if heatmaps.shape != self.heatmap_shape or state.shape != self.state_shape:
            raise ManifestError(self.source, f"{graph} returned heatmaps {heatmaps.shape} and "
                                             f"state {state.shape}; the manifest says "
                                             f"{self.heatmap_shape} and {self.state_shape}")
        return heatmaps, state

    def initialize(self, frame):
        """frame -> (heatmaps [1, h, w, K], state [1, ...]), the pose initializer's graph."""
        return self._check_out(*self._initialize(self._frame(frame)), "initializer")

    def step(self, frame, state):
        """(frame, previous state) -> (heatmaps, next state), the stepper's graph."""
        return self._check_out(*self._step(self._frame(frame), self._state(state)), "stepper")

    def describe(self) -> str:
        return f"{self.backend} ({self.source})"

    def warmup(self):
        """One untimed initialize + step on a blank frame: the first invoke of every runtime pays
        one-time costs (allocation, delegate set-up, tracing) that are no per-frame latency."""
        frame = np.zeros(self.frame_shape, np.float32)
        _, state = self.initialize(frame)
        self.step(frame, state)
        return self


def _check_shape(source, graph, kind, name, actual, expected):
    actual = [int(d) for d in actual]
    if list(actual) != list(expected):
        raise ManifestError(source, f"manifest does not match {graph}: {kind} {name!r} has shape "
                                    f"{actual}, the manifest says {list(expected)} (re-export, or "
                                    "use the manifest written with these files)")


def check_verified(manifest, fmt, export_dir, allow_unverified=False) -> None:
    """Refuse an export whose manifest does not record a passed parity check for `fmt` (a failed,
    pending or missing verification), unless allow_unverified."""
    result = manifest.get("verification", {}).get(fmt)
    if allow_unverified or (isinstance(result, dict) and result.get("passed") is True):
        return
    if not isinstance(result, dict):
        state = "no verification result"
    elif result.get("status") == "pending":
        state = "its check never finished"
    else:
        state = "it failed its check against the Keras model" + (
            f" ({'; '.join(map(str, result.get('problems', [])))})" if result.get("problems")
            else "")
    raise ManifestError(manifest_lib.manifest_path(export_dir),
                        f"the {fmt} export is not verified: {state}. Re-export it (`python -m "
                        f"export.verify --export_dir {export_dir}` shows how it differs from "
                        "Keras), or pass --allow_unverified to run it anyway")


def _graph_file(export_dir, entry, graph, fmt, check_hash=True) -> str:
    g = entry[graph]
    path = os.path.join(export_dir, g["file"])
    if not os.path.isfile(path):
        raise ManifestError(manifest_lib.manifest_path(export_dir),
                            f"{fmt} {graph} file {g['file']!r} is missing from {export_dir}")
    if check_hash:  # manifest_lib.validate requires the checksum; a missing one is refused there
        digest = graphs_lib.file_sha256(path)
        if digest != g["sha256"]:
            raise ManifestError(manifest_lib.manifest_path(export_dir),
                                f"does not match {path}: the file changed after the manifest was "
                                "written (checksum differs); re-export the model")
    return path


def _expected_shapes(manifest, graph):
    shapes = {"frame": [1, manifest["input"]["height"], manifest["input"]["width"], 3],
              "state": manifest["state_shape"], "heatmaps": manifest["heatmap_shape"]}
    return shapes, graphs_lib.INPUTS[graph]


class TFLiteRunner(Runner):
    """initializer.tflite and stepper.tflite through the LiteRT interpreter (signature runners)."""

    backend = "tflite"

    def __init__(self, export_dir: str, num_threads: int | None = None, check_hash=True,
                 allow_unverified=False):
        from ai_edge_litert.interpreter import Interpreter
        manifest = manifest_lib.read(export_dir)
        super().__init__(manifest, export_dir)
        entry = manifest_lib.format_entry(manifest, "tflite", export_dir)
        check_verified(manifest, "tflite", export_dir, allow_unverified)
        self.quantization = entry["quantization"]
        self.interpreters, self.runners, self.names = {}, {}, {}
        for graph in manifest_lib.GRAPHS:
            path = _graph_file(export_dir, entry, graph, "tflite", check_hash)
            try:
                interp = Interpreter(model_path=path, num_threads=num_threads)
            except (ValueError, RuntimeError) as e:
                raise ManifestError(path, f"LiteRT cannot load the file ({e})") from None
            key = entry[graph]["signature"]
            sigs = interp.get_signature_list()
            if key not in sigs:
                raise ManifestError(path, f"has no signature {key!r} (it has {sorted(sigs)}); "
                                          "the manifest does not match this file")
            runner = interp.get_signature_runner(key)
            shapes, inputs = _expected_shapes(manifest, graph)
            names = entry[graph]
            details_in = runner.get_input_details()
            details_out = runner.get_output_details()
            for logical in inputs:
                tensor = names["inputs"].get(logical)
                if tensor not in details_in:
                    raise ManifestError(path, f"signature {key!r} has no input {tensor!r} "
                                              f"(inputs: {sorted(details_in)})")
                _check_shape(path, graph, "input", tensor, details_in[tensor]["shape"],
                             shapes[logical])
            for logical in ("heatmaps", "state"):
                tensor = names["outputs"].get(logical)
                if tensor not in details_out:
                    raise ManifestError(path, f"signature {key!r} has no output {tensor!r} "
                                              f"(outputs: {sorted(details_out)})")
                _check_shape(path, graph, "output", tensor, details_out[tensor]["shape"],
                             shapes[logical])
            self.interpreters[graph], self.runners[graph], self.names[graph] = interp, runner, names

    def _run(self, graph, **feeds):
        names = self.names[graph]
        out = self.runners[graph](**{names["inputs"][k]: v for k, v in feeds.items()})
        return out[names["outputs"]["heatmaps"]], out[names["outputs"]["state"]]

    def _initialize(self, frame):
        return self._run("initializer", frame=frame)

    def _step(self, frame, state):
        return self._run("stepper", frame=frame, state=state)

    def describe(self) -> str:
        return f"tflite/{self.quantization} ({self.source})"


class OnnxRunner(Runner):
    """initializer.onnx and stepper.onnx through onnxruntime (CPU)."""

    backend = "onnx"

    def __init__(self, export_dir: str, num_threads: int | None = None, check_hash=True,
                 allow_unverified=False):
        import onnxruntime as ort
        manifest = manifest_lib.read(export_dir)
        super().__init__(manifest, export_dir)
        entry = manifest_lib.format_entry(manifest, "onnx", export_dir)
        check_verified(manifest, "onnx", export_dir, allow_unverified)
        options = ort.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = int(num_threads)
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.sessions, self.names = {}, {}
        for graph in manifest_lib.GRAPHS:
            path = _graph_file(export_dir, entry, graph, "onnx", check_hash)
            try:
                sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            except Exception as e:  # onnxruntime raises its own exception types
                raise ManifestError(path, f"onnxruntime cannot load the file ({e})") from None
            shapes, inputs = _expected_shapes(manifest, graph)
            names = entry[graph]
            ins = {i.name: i.shape for i in sess.get_inputs()}
            outs = {o.name: o.shape for o in sess.get_outputs()}
            for logical in inputs:
                tensor = names["inputs"].get(logical)
                if tensor not in ins:
                    raise ManifestError(path, f"has no input {tensor!r} (inputs: {sorted(ins)})")
                _check_shape(path, graph, "input", tensor, ins[tensor], shapes[logical])
            for logical in ("heatmaps", "state"):
                tensor = names["outputs"].get(logical)
                if tensor not in outs:
                    raise ManifestError(path, f"has no output {tensor!r} (outputs: {sorted(outs)})")
                _check_shape(path, graph, "output", tensor, outs[tensor], shapes[logical])
            self.sessions[graph], self.names[graph] = sess, names

    def _run(self, graph, **feeds):
        names = self.names[graph]
        outputs = [names["outputs"]["heatmaps"], names["outputs"]["state"]]
        heatmaps, state = self.sessions[graph].run(
            outputs, {names["inputs"][k]: v for k, v in feeds.items()})
        return heatmaps, state

    def _initialize(self, frame):
        return self._run("initializer", frame=frame)

    def _step(self, frame, state):
        return self._run("stepper", frame=frame, state=state)


class KerasRunner(Runner):
    """The Keras model through the same batch-1 tf.functions the exporters convert."""

    backend = "keras"

    def __init__(self, model, manifest: dict, source: str = "keras model"):
        super().__init__(manifest, source)
        expected = tuple(model.state_shape_for(self.input_size))
        if tuple(manifest["state_shape"][1:]) != expected:
            raise ManifestError(source, f"manifest state_shape {manifest['state_shape']} does not "
                                        f"match the model's state {list(expected)} at input "
                                        f"size {self.input_size}")
        if manifest["heatmap_shape"][3] != model.num_joints:
            raise ManifestError(source, f"manifest has {manifest['heatmap_shape'][3]} joints, "
                                        f"the model predicts {model.num_joints}")
        self.model = model
        self.graphs = graphs_lib.build_graphs(model, self.input_size)

    @classmethod
    def from_dir(cls, path: str) -> "KerasRunner":
        """A training model dir (model.keras + config.json) or an export dir (its manifest names
        the source model dir; the model file must still have the checksum it had at export)."""
        if os.path.isfile(manifest_lib.manifest_path(path)):
            manifest = manifest_lib.read(path)
            model_dir = manifest_lib.source_model_dir(manifest, path)
            mpath = manifest_lib.manifest_path(path)
            if not graphs_lib.is_model_dir(model_dir):
                raise ManifestError(mpath, f"the keras backend needs the source model directory "
                                           f"{model_dir!r} named in the manifest, and it has no "
                                           "model.keras/config.json; pass --model_dir=<training "
                                           "model dir> instead")
            digest = graphs_lib.file_sha256(graphs_lib.model_file(model_dir))
            if digest != manifest["model"].get("sha256"):
                raise ManifestError(mpath, f"{graphs_lib.model_file(model_dir)} changed since the "
                                           "export (checksum differs); re-export, or pass the "
                                           "training model dir itself")
            model, _ = graphs_lib.load_model_dir(model_dir)
            return cls(model, manifest, path)
        if graphs_lib.is_model_dir(path):
            return cls(*keras_manifest(path), path)
        raise FileNotFoundError(f"{path}: neither an export directory (manifest.json) nor a "
                                "training model directory (model.keras + config.json)")

    def _initialize(self, frame):
        out = self.graphs.initialize(frame)
        return out["heatmaps"].numpy(), out["state"].numpy()

    def _step(self, frame, state):
        out = self.graphs.step(frame, state)
        return out["heatmaps"].numpy(), out["state"].numpy()


class PeerRunner:
    """A published pose network (dkd_tf.pretrained.peers: MoveNet, BlazePose) behind the
    runner interface, so that a peer streams through exactly our crop, follow and
    re-initialization policy (dkd_tf.tracking.pose_tracker.PoseTracker) and is scored beside our exports on
    the same frames. Both graphs are the peer on the crop (it has no state); in place of
    heatmaps they return keypoints [1, K, 3] (x, y in crop pixels, confidence) mapped to
    `joint_set` by name (peers.joint_mapping), which `yields_keypoints` tells the tracker."""

    backend = "peer"
    yields_keypoints = True

    def __init__(self, key: str, joint_set, num_threads: int | None = None, log=None):
        from dkd_tf.core import codec
        from dkd_tf.data import transforms
        from dkd_tf.pretrained import fetch, peers
        self.peer = peers.load(key, num_threads, log)
        # Which peer rows make each of our joints: found once here, applied per frame.
        self._mapping = peers.joint_mapping(self.peer.names, joint_set)
        self._map_keypoints = peers.map_keypoints
        self.key, self.joint_set, self.source = key, joint_set, self.peer.path
        s, k = self.peer.input_size, joint_set.num_joints
        self.input_size = s
        self.manifest = {
            "decoding": codec.DEFAULT_DECODING, "crop": {"margin": transforms.CROP_MARGIN},
            "input": {"height": s, "width": s, "channels": 3}, "stride": 1,
            "heatmap_shape": [1, s, s, k], "state_shape": [1, 1, 1, 1],
            "joints": joint_set.to_json(),
            "model": {"variant": f"peer {key}", "sha256": fetch.sha256(self.peer.path),
                      "dataset": "published"}}
        self._state = np.zeros((1, 1, 1, 1), np.float32)

    def _run(self, frame):
        frame = np.asarray(frame, np.float32)
        xy, conf = self._map_keypoints(
            self.peer.predict(frame[0] if frame.ndim == 4 else frame), self._mapping)
        return np.concatenate([xy, conf[:, None]], -1)[None], self._state

    def initialize(self, frame):
        return self._run(frame)

    def step(self, frame, state):
        return self._run(frame)

    def describe(self) -> str:
        return f"peer {self.key} ({self.source})"

    def warmup(self):
        self._run(np.zeros((self.input_size, self.input_size, 3), np.float32))
        return self


def decoding_of(runner) -> str | None:
    """The decoding rule the runner's heatmaps are read by (its manifest's); None for a runner
    that yields keypoints (a published network decodes itself)."""
    if getattr(runner, "yields_keypoints", False):
        return None
    return runner.manifest.get("decoding")


def peer_like(key: str, runner, num_threads: int | None = None, log=None) -> PeerRunner:
    """A published network (dkd_tf.pretrained.peers key) whose keypoints are mapped to the
    joints `runner` (one of our runners) predicts, so both are scored and tracked alike."""
    return PeerRunner(key, manifest_lib.joint_set(runner.manifest), num_threads, log)


def keras_manifest(model_dir: str):
    """(model, in-memory manifest) of a training model directory. Its tracker entry and decoding
    rule are those of an export of exactly this model beside it (a preset's dkd_tflite/ next to
    dkd/: the settings its card was scored with), else the current defaults."""
    from dkd_tf.data.datasets import joint_set_of
    model, cfg = graphs_lib.load_model_dir(model_dir)
    sha = graphs_lib.file_sha256(graphs_lib.model_file(model_dir))
    sibling = sibling_export(model_dir, sha)
    manifest = manifest_lib.build(model, cfg, joint_set_of(cfg.dataset), cfg.input_size, sha,
                                  model_dir, decoding=sibling and sibling["decoding"])
    if sibling is not None and isinstance(sibling.get("tracker"), dict):
        manifest["tracker"] = sibling["tracker"]
    return model, manifest


def sibling_export(model_dir: str, model_sha256: str) -> dict | None:
    """The manifest of a sibling export (model_dir/../*/manifest.json) that names this model
    directory and file checksum, once manifest.read has verified it (the export's files
    checksummed: only for a manifest that names this model); None when there is none."""
    import glob
    import json
    from dkd_tf.presets import PresetError
    here = os.path.realpath(model_dir)
    for path in sorted(glob.glob(os.path.join(os.path.dirname(here), "*",
                                              manifest_lib.MANIFEST_FILE))):
        export_dir = os.path.dirname(path)
        try:
            with open(path) as f:
                named = json.load(f)
            source = manifest_lib.source_model_dir(named, export_dir)
            if not (source and os.path.realpath(source) == here
                    and named["model"].get("sha256") == model_sha256):
                continue  # another model's export
            found = manifest_lib.read(export_dir)
        except (OSError, ValueError, KeyError, AttributeError, ManifestError, PresetError):
            continue  # unreadable, edited, stale or not an export: not used
        if found["model"].get("sha256") == model_sha256:
            return found
    return None


def open_runner(backend: str, model_dir: str, num_threads: int | None = None,
                allow_unverified: bool = False) -> Runner:
    """A runner for `backend` over an export directory (or, for keras, a training model dir).
    TFLite and ONNX graphs run only when the manifest records their passed parity check, unless
    allow_unverified."""
    if backend == "tflite":
        return TFLiteRunner(model_dir, num_threads, allow_unverified=allow_unverified)
    if backend == "onnx":
        return OnnxRunner(model_dir, num_threads, allow_unverified=allow_unverified)
    if backend == "keras":
        return KerasRunner.from_dir(model_dir)
    raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
