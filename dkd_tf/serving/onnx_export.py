"""A trained model's two streaming graphs as verified ONNX files (tf2onnx, opset <= 18).

Same batch-1 graphs and the same stage-verify-commit path as dkd_tf.serving.tflite_export; the
tensors get the manifest's names (TENSOR_NAMES) so every runtime finds them alike.
"""
from __future__ import annotations

import os

from dkd_tf.core import lazy_modules, output_paths
from dkd_tf.serving import manifest as manifest_lib
from dkd_tf.serving import rewrites as rewrites_lib
from dkd_tf.serving import staging, verify


# TensorFlow, and dkd_tf.serving.graphs which imports it, on first use: `python -m export.onnx` checks
# --model_dir and --out_dir before TensorFlow loads (dkd_tf/core/lazy_modules.py).
tf = lazy_modules.module("tensorflow")
graphs_lib = lazy_modules.module("dkd_tf.serving.graphs")

DEFAULT_OPSET = 17
MAX_OPSET = 18  # the newest opset tf2onnx 1.17 writes
FILES = {"initializer": "initializer.onnx", "stepper": "stepper.onnx"}
# Tensor names per graph: logical name -> ONNX name.
TENSOR_NAMES = {
    "initializer": {"inputs": {"frame": "frame"},
                    "outputs": {"heatmaps": "heatmaps", "state": "state"}},
    "stepper": {"inputs": {"frame": "frame", "state": "state"},
                "outputs": {"heatmaps": "heatmaps", "state": "next_state"}},
}


def _renamed(fn, graph):
    """fn with its outputs under the ONNX tensor names of `graph`."""
    outputs = TENSOR_NAMES[graph]["outputs"]

    @tf.function(input_signature=fn.input_signature, autograph=False)
    def wrapped(*args):
        out = fn(*args)
        return {outputs[k]: tf.identity(v, name=outputs[k]) for k, v in out.items()}

    return wrapped


def convert(graphs, graph: str, path: str, opset: int = DEFAULT_OPSET):
    import tf2onnx
    fn = _renamed(graphs.function(graph), graph)
    model_proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature,
                                                   opset=opset, output_path=path)
    names = TENSOR_NAMES[graph]
    got_in = [i.name for i in model_proto.graph.input]
    got_out = [o.name for o in model_proto.graph.output]
    if sorted(got_in) != sorted(names["inputs"].values()) or sorted(got_out) != sorted(
            names["outputs"].values()):
        raise RuntimeError(f"tf2onnx named the {graph} tensors {got_in} -> {got_out}, expected "
                           f"{list(names['inputs'].values())} -> {list(names['outputs'].values())}")
    return model_proto


def export_onnx(model_dir, out_dir, opset=DEFAULT_OPSET, input_size=None,
                verify_frames=verify.MIN_FRAMES, video=None, rewrites=(), log=print,
                decoding: str | None = None) -> dict:
    """Convert, write files + manifest, verify. Returns the manifest; raises VerificationError.
    decoding: the rule the manifest names (codec.DECODING_RULES; default manifest.DECODING;
    beside a TFLite export of this model, its rule, and its tracker entry: manifest.joined_policy).
    rewrites: dkd_tf.serving.rewrites names applied to the graphs; none by default (with the deconv
    rewrite tf2onnx turns the folded weights of MobileNetV3 pose nets into extra graph inputs,
    which convert() refuses; ResNet pose nets convert and verify)."""
    output_paths.check_dir(out_dir, flag="--out_dir")  # before the export work, not after it
    import onnx
    import onnxruntime
    import tf2onnx

    from dkd_tf.data.datasets import joint_set_of
    if not 13 <= int(opset) <= MAX_OPSET:
        raise ValueError(f"opset {opset} unsupported: tf2onnx {tf2onnx.__version__} writes "
                         f"opsets 13..{MAX_OPSET}")
    model_sha = graphs_lib.file_sha256(graphs_lib.model_file(model_dir))
    decoding, tracker = manifest_lib.joined_policy(out_dir, model_sha, "onnx", decoding)
    model, cfg = graphs_lib.load_model_dir(model_dir)
    input_size = int(input_size or cfg.input_size)
    graphs = graphs_lib.build_graphs(model, input_size, rewrites)
    # Staged, and moved into out_dir only after the check passed (dkd_tf.serving.staging).
    stage = staging.begin(out_dir)
    try:
        entry = {"opset": int(opset), "precision": "fp32",
                 "rewrites": rewrites_lib.manifest_entry(graphs.rewrites)}
        for g in manifest_lib.GRAPHS:
            path = os.path.join(stage, FILES[g])
            convert(graphs, g, path, opset)
            entry[g] = {"file": FILES[g], "sha256": graphs_lib.file_sha256(path),
                        "bytes": os.path.getsize(path), **TENSOR_NAMES[g]}
            log(f"converted {g} ({os.path.getsize(path) / 1e6:.2f} MB, opset {opset})")
        fresh = manifest_lib.build(model, cfg, joint_set_of(cfg.dataset), input_size,
                                   model_sha, model_dir, tracker, decoding)
        fresh["formats"]["onnx"] = entry
        fresh["versions"].update({"tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__,
                                  "onnxruntime": onnxruntime.__version__})
        manifest = verify.verify_and_commit(stage, out_dir, "onnx", fresh, model, model_dir,
                                            cfg, input_size, verify_frames, video,
                                            f"opset {opset}", log)
    finally:
        staging.discard(stage)
    log(f"export ok: {out_dir} (onnx opset {opset}, input {input_size}, state "
        f"{manifest['state_shape']})")
    return manifest
