"""Any .tflite graph as a timed callable: random inputs of its own shapes, its multiply-adds.

The benchmark times graphs that are not our streaming pair in the same loop and on the same
LiteRT interpreter (ai_edge_litert, same --num_threads): a peer's model file (e.g. a MediaPipe
landmark model), the parts of our stepper, and a large matmul that measures this machine's fp32
throughput. `TFLiteGraph` opens one; `convert_function` makes one from a tf.function;
`matmul_peak_graph` is the throughput probe.

Multiply-adds are counted from the graph's ops and static tensor shapes, with the rules of
dkd_tf/core/macs.py (the TF-graph counter's too): CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED, BATCH_MATMUL;
everything else costs nothing.
"""
from __future__ import annotations

import os

import numpy as np

from dkd_tf.core import macs


class TFLiteFileError(ValueError):
    """A file that is missing or that LiteRT cannot load ('<file>: <problem>')."""


def _interpreter(content: bytes, num_threads=None, delegates=True):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kind = (OpResolverType.AUTO if delegates
            else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp = Interpreter(model_content=content, num_threads=num_threads,
                         experimental_op_resolver_type=kind)
    interp.allocate_tensors()
    return interp


def op_macs(op_name: str, inputs: list, outputs: list) -> int:
    """Multiply-adds of one TFLite op from its tensor shapes (None for absent optional inputs).

    CONV_2D: output elements x kh x kw x C_in (filter [C_out, kh, kw, C_in]).
    DEPTHWISE_CONV_2D: output elements x kh x kw (filter [1, kh, kw, C]).
    TRANSPOSE_CONV (inputs: output shape, filter [C_out, kh, kw, C_in], input): input elements x
    kh x kw x C_out. FULLY_CONNECTED: output elements x K (weights [N, K]). BATCH_MATMUL: output
    elements x the inner dimension."""
    if op_name == "CONV_2D":
        return macs.conv(outputs[0], *inputs[1][1:4])
    if op_name == "DEPTHWISE_CONV_2D":
        return macs.depthwise(outputs[0], *inputs[1][1:3])
    if op_name == "TRANSPOSE_CONV":
        c_out, kh, kw = inputs[1][:3]
        return macs.transposed_conv(inputs[2], kh, kw, c_out)
    if op_name == "FULLY_CONNECTED":
        return macs.matmul(outputs[0], inputs[1][-1])
    if op_name == "BATCH_MATMUL":
        return macs.matmul(outputs[0], inputs[0][-1])  # adj_x graphs: the converter transposes
    return 0


def graph_macs(interp) -> int:
    """Multiply-adds of one invoke of an interpreter opened without delegates."""
    total = 0
    for op in interp._get_ops_details():
        def shapes(indices):
            return [interp._get_tensor_details(int(t), 0)["shape"] if t >= 0 else None
                    for t in indices]
        total += op_macs(op["op_name"], shapes(op["inputs"]), shapes(op["outputs"]))
    return total


def file_macs(path) -> int:
    """Multiply-adds of one invoke of the .tflite file at `path`."""
    with open(path, "rb") as f:
        return graph_macs(_interpreter(f.read(), delegates=False))


def random_inputs(details, seed: int = 0) -> list[np.ndarray]:
    """One random array per input tensor, in its own shape and dtype (floats in [0, 1), integers
    in the small range every quantized or index input accepts)."""
    rng = np.random.default_rng(seed)
    out = []
    for d in details:
        shape, dtype = [int(v) for v in d["shape"]], np.dtype(d["dtype"])
        if dtype.kind == "f":
            out.append(rng.random(shape).astype(dtype))
        elif dtype.kind == "b":
            out.append(rng.random(shape) < 0.5)
        else:
            out.append(rng.integers(0, 2, shape).astype(dtype))
    return out


class TFLiteGraph:
    """One TFLite graph, called with random inputs: `graph()` runs one invoke.

    Args:
      source: a .tflite path or the model bytes.
      name: how the report names it (default: the file name).
      num_threads: interpreter threads (None: LiteRT's default).
    """

    def __init__(self, source, name: str = "", num_threads: int | None = None, seed: int = 0):
        if isinstance(source, (bytes, bytearray)):
            content, self.path = bytes(source), ""
        else:
            self.path = os.fspath(source)
            if not os.path.isfile(self.path):
                raise TFLiteFileError(f"{self.path}: no such TFLite file")
            with open(self.path, "rb") as f:
                content = f.read()
        self.name = name or os.path.basename(self.path) or "graph"
        where = self.path or self.name
        try:
            self.interpreter = _interpreter(content, num_threads)
            self.macs = graph_macs(_interpreter(content, delegates=False))
        except (ValueError, RuntimeError) as e:
            raise TFLiteFileError(f"{where}: LiteRT cannot load it as a TFLite model "
                                  f"({str(e).strip().splitlines()[0] if str(e).strip() else e})"
                                  ) from None
        self.size_bytes = len(content)
        details = self.interpreter.get_input_details()
        self.inputs = [{"name": d["name"], "shape": [int(v) for v in d["shape"]],
                        "dtype": np.dtype(d["dtype"]).name} for d in details]
        self._feeds = [(d["index"], x) for d, x in zip(details, random_inputs(details, seed))]

    def __call__(self):
        for index, value in self._feeds:
            self.interpreter.set_tensor(index, value)
        self.interpreter.invoke()

    def describe(self) -> dict:
        return {"name": self.name, "file": self.path, "inputs": self.inputs, "macs": self.macs,
                "gmacs": round(self.macs / 1e9, 4),
                "file_mb": round(self.size_bytes / 2 ** 20, 3)}


def convert_function(concrete_function) -> bytes:
    """fp32 TFLite bytes of a concrete function with static shapes (builtin ops only).

    The variables are frozen into the function first and the converter takes the graph directly:
    about 0.2 s a graph, where the converter's SavedModel path (from_concrete_functions with a
    trackable object) takes 5 s for the same graph. Its warning that this path is deprecated is
    silenced for the call."""
    import tensorflow as tf
    from absl import logging
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)
    frozen = convert_variables_to_constants_v2(concrete_function)
    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)
    try:
        return tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()
    finally:
        logging.set_verbosity(verbosity)


def matmul_peak_graph(m: int = 256, k: int = 1024, n: int = 1024) -> tuple[bytes, str]:
    """(TFLite bytes, description) of x [m, k] @ W [k, n] with constant weights, one
    FULLY_CONNECTED op: the fp32 throughput this interpreter reaches on its best-tuned kernel
    (m x k x n multiply-adds), against which every graph's GFLOP/s is read."""
    import tensorflow as tf
    weights = tf.constant(np.random.default_rng(0).standard_normal((k, n)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([m, k], tf.float32, name="x")],
                 autograph=False)
    def matmul(x):
        return tf.matmul(x, weights)

    return (convert_function(matmul.get_concrete_function()),
            f"FullyConnected {m}x{k} @ {k}x{n}")
