"""A trained model's two streaming graphs as verified TFLite files: fp32, fp16, dynamic or int8.

The initializer and stepper are batch-1 concrete functions (dkd_tf.serving.graphs) converted with
TFLiteConverter.from_concrete_functions; int8 calibrates on representative crops of the training
data; DKD's runtime-filter depthwise convolution and the heatmap head can stay float
(float_island_nodes). export_tflite stages the files, verifies them against Keras
(dkd_tf.serving.verify) and writes the manifest only when they pass.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings

from dkd_tf.core import lazy_modules, output_paths
from dkd_tf.serving import manifest as manifest_lib
from dkd_tf.serving import rewrites as rewrites_lib
from dkd_tf.serving import staging, verify


# TensorFlow, and dkd_tf.serving.graphs which imports it, on first use: `python -m export.tflite` checks
# --model_dir and --out_dir before TensorFlow loads (dkd_tf/core/lazy_modules.py).
tf = lazy_modules.module("tensorflow")
graphs_lib = lazy_modules.module("dkd_tf.serving.graphs")

QUANTIZATIONS = manifest_lib.QUANTIZATIONS
FILES = {"initializer": "initializer.tflite", "stepper": "stepper.tflite"}


def _records_for_calibration(cfg, data_dir):
    from dkd_tf.data import datasets, penn_action
    if data_dir:
        if not os.path.isdir(data_dir):
            raise FileNotFoundError(f"--representative_data {data_dir}: no such directory")
        records = penn_action.read_split(data_dir, "train") or penn_action.read_split(data_dir,
                                                                                     "all")
        if not records:
            raise ValueError(f"{data_dir}: no videos in Penn Action format (labels/*.mat, "
                             "frames/<id>/*.jpg)")
        return records, data_dir
    if cfg.dataset == "mpii" or not os.path.isdir(cfg.data_dir or ""):
        raise ValueError(f"int8 needs calibration videos: pass --representative_data (the model's "
                         f"data dir {cfg.data_dir!r} is not available)")
    _, records = datasets.load(cfg, "train")
    return records, cfg.data_dir


def representative_samples(model, input_size, records, num_samples=64, clip_length=5, seed=0):
    """Calibration feeds {graph: [feed dict, ...]} from training-pipeline crops.

    Clips of `clip_length` consecutive frames are drawn (shuffled, no augmentation) from the
    records; every frame feeds the initializer, and each frame after the first feeds the stepper
    with the state Keras carried to it.
    """
    from dkd_tf.core import joints as joints_lib
    from dkd_tf.data import pipeline
    joint_set = joints_lib.get(records[0].joint_set)
    clip_length = max(2, min(clip_length, min(r.num_frames for r in records)))
    n_clips = len(pipeline.clip_table(records, clip_length)["paths"])
    per_clip = clip_length - 1
    want = max(1, min(n_clips, -(-num_samples // per_clip)))
    ds = pipeline.make_dataset(records, joint_set, input_size, clip_length, batch_size=1,
                               training=True, augmentation=pipeline.NO_AUGMENTATION,
                               clips_per_epoch=want, seed=seed)
    feeds = {"initializer": [], "stepper": []}
    graphs = graphs_lib.build_graphs(model, input_size)
    for frames, _, _ in ds.take(want):
        frames = frames[0]
        state = None
        for t in range(clip_length):
            frame = frames[t:t + 1]
            if state is None:
                out = graphs.initialize(frame)
            else:
                feeds["stepper"].append({"frame": frame.numpy(), "state": state.numpy()})
                out = graphs.step(frame, state)
            feeds["initializer"].append({"frame": frame.numpy()})
            state = out["state"]
    for g in feeds:
        feeds[g] = feeds[g][:num_samples]
    return feeds


def _op_graph(calibrated: bytes, signature: str | None = None):
    """(ops, tensor names, producer {tensor: op index}, the runtime-filter ops' indices, the
    heatmaps output tensor or None)."""
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=calibrated)
    ops = interp._get_ops_details()
    names = {t["index"]: t["name"] for t in interp.get_tensor_details()}
    producer = {o: op["index"] for op in ops for o in op["outputs"]}
    dynamic = set(producer) | {d["index"] for d in interp.get_input_details()}
    filters = [op["index"] for op in ops
               if op["op_name"] == "DEPTHWISE_CONV_2D" and op["inputs"][1] in dynamic]
    heatmaps = None
    if signature is not None:
        outputs = interp.get_signature_runner(signature).get_output_details()
        heatmaps = outputs["heatmaps"]["index"]
    return ops, names, producer, filters, heatmaps


def runtime_filter_nodes(calibrated: bytes) -> list:
    """Output tensor names of the DEPTHWISE_CONV_2D ops whose filter is computed at run time (a
    graph input or another op's output, not a constant): the matching's dynamic depthwise conv
    (dkd_tf/models/matching.py), fed by the state. Constant-filter depthwise convs (MobileNet
    backbones) are not listed."""
    ops, names, _, filters, _ = _op_graph(calibrated)
    return [names[ops[i]["outputs"][0]] for i in filters]


def _walk_back(ops, producer, tensor, inputs_of) -> set:
    """Indices of the ops reached from the op that writes `tensor` through its producers,
    following each op's `inputs_of(op)` tensors."""
    seen, todo = set(), [tensor]
    while todo:
        i = producer.get(todo.pop())
        if i is None or i in seen:
            continue
        seen.add(i)
        todo.extend(inputs_of(ops[i]))
    return seen


def _ancestors(ops, producer, tensor) -> set:
    """Indices of the ops the tensor depends on (its producer included)."""
    return _walk_back(ops, producer, tensor, lambda op: [t for t in op["inputs"] if t >= 0])


def _descendants(ops, starts) -> set:
    """Indices of the ops that depend on the ops `starts` (those included)."""
    consumers = {}
    for op in ops:
        for t in op["inputs"]:
            consumers.setdefault(t, []).append(op["index"])
    seen, todo = set(), list(starts)
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        todo.extend(c for o in ops[i]["outputs"] for c in consumers.get(o, ()))
    return seen


def _head_ops(ops, producer, heatmaps) -> set:
    """Indices of the ops that write the heatmaps, back to and including the last convolution
    on each branch (heatmap_head_nodes): each op's activation input (not a size or constant) is
    followed until a convolution."""
    return _walk_back(ops, producer, heatmaps, lambda op: (
        [] if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D") else [op["inputs"][0]]))


def heatmap_head_nodes(calibrated: bytes, signature: str) -> list:
    """Output tensor names of the ops that write the signature's 'heatmaps' output, back to and
    including the last convolution on each branch: the pose head's final 1x1 conv (+ folded BN),
    in the stepper the matching's U, with what follows it (a sigmoid read-out, the resize that
    grows a half-size encoder's heatmaps back to P's grid; dkd_tf/models/matching.py)."""
    ops, names, producer, _, heatmaps = _op_graph(calibrated, signature)
    return [names[ops[i]["outputs"][0]] for i in sorted(_head_ops(ops, producer, heatmaps))]


def float_island_nodes(calibrated: bytes, signature: str) -> list:
    """The ops int8 keeps in float: the runtime-filter depthwise conv, every op on a path from
    it to the heatmaps (the residual add before U, U, its read-out), and the heatmap head
    (heatmap_head_nodes). Output tensor names, in graph order.

    Measured on the shipped reference DKD (input 128, 30-frame carried parity clip, share of
    keypoints within 1 px of Keras), float beside the runtime-filter conv: nothing else 82.3 %;
    V (the 1x1 conv before it) 81.8 %; Phi 81.5 %; U (the 1x1 conv + BN after it) 98.2 %; V, U
    and Phi 97.7 %; U and the initializer's head 98.7 % (its first frame 85 % -> 100 %). Int8
    heatmaps are what move the keypoints (a 1-px shift is a fraction of a heatmap cell); each
    head is one 1x1 conv at 1/8 resolution, so the float island costs next to nothing. On the
    real-world DKD (a residual sigmoid head, heatmaps resized from F's half-size grid) an island
    of the ops that write the output tensor alone (the resize, the sigmoid) left U and the
    residual add int8: 44.1 % within 1 px (docs/real_people.md).
    """
    ops, names, producer, filters, heatmaps = _op_graph(calibrated, signature)
    on_path = _descendants(ops, filters) & _ancestors(ops, producer, heatmaps) | set(filters)
    island = on_path | _head_ops(ops, producer, heatmaps)
    return [names[ops[i]["outputs"][0]] for i in sorted(island)]


def convert(saved_model_dir: str, graph: str, quantization: str, samples=None) -> bytes:
    """One graph of the SavedModel (signature initialize | step) as a TFLite flatbuffer.

    int8: full-integer weights and activations (per-channel weights, float I/O) except a float
    island (float_island_nodes): the runtime-filter depthwise conv, because an int8
    DEPTHWISE_CONV_2D with a filter that changes every frame gives heatmaps as large as the
    signal itself and a stepper that barely follows its state, and the heatmap head (the 1x1 conv
    that writes the heatmaps; in the stepper U, which reads that conv's response), because int8
    heatmaps move the decoded keypoints by more than 1 px on 18 % of the joints. Both are excluded
    from quantization (TFLite selective quantization, the denylisted_nodes of
    tf.lite.experimental.QuantizationDebugOptions); the rest of the graph stays int8. Neither the
    16x8 mode (int16 activations, DEPTH_TO_SPACE left float: 3.3 % of the keypoints within 1 px,
    the stepper's 0 %; its quantizer takes no denylist) nor 256 calibration samples instead of 64
    (97.4 %) did better.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; choose one of {QUANTIZATIONS}")
    key = graphs_lib.SIGNATURES[graph]
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[key])
    if quantization != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        if not samples:
            raise ValueError("int8 quantization needs representative samples")

        def representative():
            for feed in samples:
                yield dict(feed)

        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.float32
        converter.inference_output_type = tf.float32
        # Selective quantization, as tf.lite.experimental.QuantizationDebugger does it (its
        # get_nondebug_quantized_model), without the debug model it also builds: calibrate,
        # find the float island, quantize all else.
        from tensorflow.lite.python import convert as lite_convert
        converter._experimental_calibrate_only = True
        with warnings.catch_warnings():
            # TF's calibrator runs the graph with tf.lite.Interpreter itself and warns that it
            # is deprecated: nothing of ours to change (our runners use ai_edge_litert).
            warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is "
                                    "deprecated", category=UserWarning)
            calibrated = converter.convert()
        return lite_convert.mlir_quantize(
            calibrated, disable_per_channel=False, input_data_type=tf.float32,
            output_data_type=tf.float32, denylisted_nodes=float_island_nodes(calibrated, key))
    return converter.convert()


def export_tflite(model_dir, out_dir, quantization="none", representative_data=None,
                  num_samples=64, input_size=None, verify_frames=verify.MIN_FRAMES, video=None,
                  rewrites=rewrites_lib.DEFAULT, log=print, keep_unverified=False,
                  tracker: dict | None = None, decoding: str | None = None) -> dict:
    """Convert, write files + manifest, verify. Returns the manifest; raises VerificationError.
    rewrites: dkd_tf.serving.rewrites names applied to the graphs (default: the deconv rewrite).
    keep_unverified: write a failed export all the same (verify.verify_and_commit). tracker:
    tracker settings the manifest carries instead of the defaults (tracking_policy.to_json).
    decoding: the rule the manifest names (codec.DECODING_RULES; default manifest.DECODING).
    Beside another format's export of this model, tracker and decoding default to its, and a
    different one is refused before any work (manifest.joined_policy)."""
    output_paths.check_dir(out_dir, flag="--out_dir")  # before the export work, not after it
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; choose one of {QUANTIZATIONS}")
    from dkd_tf.data.datasets import joint_set_of
    model_sha = graphs_lib.file_sha256(graphs_lib.model_file(model_dir))
    decoding, tracker = manifest_lib.joined_policy(out_dir, model_sha, "tflite", decoding,
                                                   tracker)
    model, cfg = graphs_lib.load_model_dir(model_dir)
    input_size = int(input_size or cfg.input_size)
    graphs = graphs_lib.build_graphs(model, input_size, rewrites)
    for g in manifest_lib.GRAPHS:
        graphs.function(g).get_concrete_function()
    samples = {}
    if quantization == "int8":
        records, source = _records_for_calibration(cfg, representative_data)
        log(f"int8: calibrating on {num_samples} crops per graph from {source}")
        samples = representative_samples(model, input_size, records, num_samples)
    # Everything is written to a staging folder and moved into out_dir only after the check
    # passed (dkd_tf.serving.staging): a failed export leaves nothing there that a runner accepts.
    stage = staging.begin(out_dir)
    try:
        tmp = tempfile.mkdtemp(prefix="dkd_savedmodel_")
        entry = {"quantization": quantization, "io_dtype": "float32",
                 "rewrites": rewrites_lib.manifest_entry(graphs.rewrites)}
        try:
            graphs_lib.write_saved_model(graphs, os.path.join(tmp, "saved_model"))
            for g in manifest_lib.GRAPHS:
                blob = convert(os.path.join(tmp, "saved_model"), g, quantization,
                               samples.get(g))
                path = os.path.join(stage, FILES[g])
                with open(path, "wb") as f:
                    f.write(blob)
                names = {n: n for n in graphs_lib.INPUTS[g]}
                entry[g] = {"file": FILES[g], "sha256": graphs_lib.file_sha256(path),
                            "bytes": len(blob), "signature": graphs_lib.SIGNATURES[g],
                            "inputs": names, "outputs": {n: n for n in graphs_lib.OUTPUTS}}
                log(f"converted {g} ({len(blob) / 1e6:.2f} MB, {quantization})")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        fresh = manifest_lib.build(model, cfg, joint_set_of(cfg.dataset), input_size,
                                   model_sha, model_dir, tracker, decoding)
        fresh["formats"]["tflite"] = entry
        fresh["versions"]["litert"] = _litert_version()
        manifest = verify.verify_and_commit(stage, out_dir, "tflite", fresh, model, model_dir,
                                            cfg, input_size, verify_frames, video,
                                            quantization, log, keep_unverified=keep_unverified)
    finally:
        staging.discard(stage)
    log(f"export ok: {out_dir} (tflite, {quantization}, input {input_size}, state "
        f"{manifest['state_shape']})")
    return manifest


def _litert_version() -> str:
    try:
        from importlib import metadata
        return metadata.version("ai-edge-litert")
    except Exception:
        return "unknown"
