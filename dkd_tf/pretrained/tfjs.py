"""TF.js graph models (model.json + .bin shards) loaded into TensorFlow without tensorflowjs.

A TF.js graph model is a GraphDef in protobuf-JSON form whose Const nodes carry no values; the
weights live in binary shards listed by `weightsManifest`, in manifest order, optionally
quantized (MoveNet's are float16). TF.js's converter also fuses ops into `_FusedConv2D` and
`FusedDepthwiseConv2dNative` (conv + BiasAdd [+ Relu/Relu6]), which TF's importer cannot take
without attributes TF.js drops; they are rewritten here into the plain ops, the last of which
keeps the fused node's name so every consumer still finds its input.
"""
from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.framework import graph_pb2

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_QUANT = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}
_FUSED = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative"}
_ACTIVATIONS = {b"Relu": "Relu", b"Relu6": "Relu6", b"Elu": "Elu", b"Sigmoid": "Sigmoid"}
_CONV_ATTRS = ("T", "strides", "padding", "dilations", "data_format", "explicit_paddings")


class ModelFormatError(ValueError):
    """A model file that is not what it claims to be. The message names the file."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


def read_weights(model_json: dict, model_dir: str, source: str) -> dict[str, np.ndarray]:
    """{name: array} of every weight in the manifest, dequantized to its original dtype."""
    out = {}
    for group in model_json.get("weightsManifest", []):
        blob = b""
        for shard in group["paths"]:
            path = os.path.join(model_dir, shard)
            if not os.path.isfile(path):
                raise ModelFormatError(path, f"weight shard listed in {source} is missing")
            with open(path, "rb") as f:
                blob += f.read()
        offset = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            if quant:
                store = np.dtype(_QUANT[quant["dtype"]])
            else:
                store = np.dtype(_DTYPES[w["dtype"]])
            size = count * store.itemsize
            if offset + size > len(blob):
                raise ModelFormatError(source, f"weights end after {len(blob)} bytes, "
                                               f"{w['name']} needs {offset + size}")
            raw = np.frombuffer(blob, store, count, offset)
            offset += size
            if quant and quant["dtype"] != "float16":  # affine uint8/uint16 quantization
                raw = raw * quant["scale"] + quant["min"]
            out[w["name"]] = raw.astype(_DTYPES[w["dtype"]]).reshape(shape)
        if offset != len(blob):
            raise ModelFormatError(source, f"{len(blob) - offset} bytes of the weight shards "
                                           "are not described by the manifest")
    return out


def _unfuse(node, graph: graph_pb2.GraphDef) -> None:
    """Append conv -> BiasAdd [-> activation] for one fused node; the last keeps its name."""
    ops = [s for s in node.attr["fused_ops"].list.s]
    if not ops or ops[0] != b"BiasAdd" or len(ops) > 2 or (len(ops) == 2
                                                           and ops[1] not in _ACTIVATIONS):
        raise ValueError(f"unsupported fused ops {ops} in {node.name}")
    x, kernel, bias = node.input[:3]
    conv = graph.node.add(name=node.name + "/_conv", op=_FUSED[node.op], input=[x, kernel])
    for key in _CONV_ATTRS:
        if key in node.attr:
            conv.attr[key].CopyFrom(node.attr[key])
    conv.attr["T"].type = tf.float32.as_datatype_enum
    last = graph.node.add(name=node.name + ("/_bias" if len(ops) == 2 else ""), op="BiasAdd",
                          input=[conv.name, bias])
    last.attr["T"].type = tf.float32.as_datatype_enum
    if len(ops) == 2:
        act = graph.node.add(name=node.name, op=_ACTIVATIONS[ops[1]], input=[last.name])
        act.attr["T"].type = tf.float32.as_datatype_enum


def graph_def(model_json_path: str) -> tuple[graph_pb2.GraphDef, dict]:
    """(GraphDef with weights and plain ops, the model.json's signature)."""
    try:
        with open(model_json_path) as f:
            model_json = json.load(f)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFormatError(model_json_path, f"not a readable TF.js model.json ({e})") from None
    if model_json.get("format") != "graph-model" or "modelTopology" not in model_json:
        raise ModelFormatError(model_json_path, "not a TF.js graph model (format "
                                                f"{model_json.get('format')!r})")
    src = graph_pb2.GraphDef()
    json_format.ParseDict(model_json["modelTopology"], src, ignore_unknown_fields=True)
    weights = read_weights(model_json, os.path.dirname(model_json_path), model_json_path)
    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(src.versions)
    for node in src.node:
        if node.op in _FUSED:
            _unfuse(node, out)
            continue
        new = out.node.add()
        new.CopyFrom(node)
        if node.op == "Const" and node.name in weights:
            new.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
            new.attr["dtype"].type = tf.as_dtype(weights[node.name].dtype).as_datatype_enum
    missing = [n.name for n in out.node if n.op == "Const"
               and not n.attr["value"].tensor.ByteSize()]
    if missing:
        raise ModelFormatError(model_json_path, f"{len(missing)} constants have no weights "
                                                f"(first: {missing[0]})")
    return out, model_json.get("signature", {})


def load_graph_model(model_json_path: str, outputs: list[str] | None = None):
    """A concrete function of the TF.js graph: its signature's inputs -> `outputs` (node names
    with ':0', default the signature's outputs). Internal tensors can be named as outputs, e.g.
    a backbone's feature map, which is how the Keras mapping is checked."""
    gdef, signature = graph_def(model_json_path)
    # A signature entry's tensor is its 'name' (MultiPose keys them 'input' / 'output_0'; the
    # single-pose graphs key them by the tensor name itself).
    inputs = [v.get("name", k) for k, v in signature.get("inputs", {}).items()]
    outputs = outputs or [v.get("name", k) for k, v in signature.get("outputs", {}).items()]
    if not inputs or not outputs:
        raise ModelFormatError(model_json_path, "the model.json has no signature inputs/outputs")

    def _import():
        tf.compat.v1.import_graph_def(gdef, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    graph = wrapped.graph
    return wrapped.prune([graph.get_tensor_by_name(n) for n in inputs],
                         [graph.get_tensor_by_name(n) for n in outputs])
