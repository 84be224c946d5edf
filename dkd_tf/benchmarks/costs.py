"""What a frame costs: multiply-adds, parameters and latency of the two streaming graphs.

DKD's claim (paper, Tables 1-3) is a cost claim: after the first frame, each frame costs the small
encoder F, the kernel matching and the distillator Phi instead of the large network P. This module
measures that on the batch-1 graphs the exporters convert (dkd_tf/serving/graphs.py):

- multiply-adds (MACs) of every linear op (Conv2D, the dynamic DepthwiseConv2dNative, the
  Conv2DBackpropInput of the deconvolutions, MatMul) from the op's static shapes. Batch norm,
  ReLU, pooling and the elementwise ops are left out: BN folds into the convolutions when a graph
  is deployed, and the rest is a fraction of a percent. "GFLOPs" in pose-estimation papers,
  the DKD paper's included, conventionally count these multiply-adds.
- parameters the graph reads (the variables its concrete function captures);
- latency per graph invocation, timed over a carried state as in streaming, every graph in one
  interleaved loop so that their ratios are fair.

Library use: `graph_costs(graphs)`, `time_graphs(*runner_callables(runner), frame_shape, runs)`,
`time_interleaved({name: callable})` (any graphs in one loop),
`per_frame_macs(...)`. The CLI is `python -m dkd_tf.bench`.
"""
from __future__ import annotations

import dataclasses
import resource
import time

import numpy as np
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from dkd_tf.core import macs
from dkd_tf.tracking.pose_tracker import latency_stats

# The ops whose multiply-adds are counted (see the module docstring).
LINEAR_OPS = ("Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul",
              "BatchMatMulV2")


def _static(shape, op) -> list[int]:
    dims = shape.as_list() if shape.rank is not None else None
    if dims is None or any(d is None for d in dims):
        raise ValueError(f"{op.type} op {op.name!r} has a dynamic shape {shape}; cost is "
                         "counted on graphs traced with static shapes (batch 1)")
    return dims


def op_macs(op) -> int:
    """Multiply-adds of one graph op (0 for ops outside LINEAR_OPS).

    Conv2D: output elements x kh x kw x C_in. DepthwiseConv2dNative: output elements x kh x kw.
    Conv2DBackpropInput (transposed conv): input elements x kh x kw x C_out, every input value
    scattered through the whole kernel. MatMul: m x n x k (batched for BatchMatMulV2)."""
    if op.type == "Conv2D":
        kh, kw, cin, _ = _static(op.inputs[1].shape, op)
        return macs.conv(_static(op.outputs[0].shape, op), kh, kw, cin)
    if op.type == "DepthwiseConv2dNative":
        kh, kw, _, _ = _static(op.inputs[1].shape, op)
        return macs.depthwise(_static(op.outputs[0].shape, op), kh, kw)
    if op.type == "Conv2DBackpropInput":
        kh, kw, cout, _ = _static(op.inputs[1].shape, op)  # filter [kh, kw, C_out, C_in]
        # the transposed conv's input [B, h, w, C_in]
        return macs.transposed_conv(_static(op.inputs[2].shape, op), kh, kw, cout)
    if op.type in ("MatMul", "BatchMatMulV2"):
        a = _static(op.inputs[0].shape, op)
        transpose_a = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
        return macs.matmul(_static(op.outputs[0].shape, op), a[-2] if transpose_a else a[-1])
    return 0


def graph_macs(concrete_function) -> int:
    """Multiply-adds of one call of a concrete function (variables frozen to constants first, so
    every shape is static; nested function calls are inlined by the freezing)."""
    frozen = convert_variables_to_constants_v2(concrete_function)
    return sum(op_macs(op) for op in frozen.graph.get_operations())


def graph_params(concrete_function) -> int:
    """Parameters the graph reads: the sizes of the variables it captures."""
    return int(sum(int(np.prod(v.shape)) for v in concrete_function.variables))


@dataclasses.dataclass
class GraphCost:
    macs: int
    params: int

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    def to_json(self) -> dict:
        return {"macs": self.macs, "gmacs": round(self.gmacs, 4), "params": self.params,
                "fp32_weights_mb": round(self.params * 4 / 2 ** 20, 3)}


def graph_costs(graphs) -> dict[str, GraphCost]:
    """{'initializer': GraphCost, 'stepper': GraphCost} of dkd_tf.serving.graphs.InferenceGraphs."""
    from dkd_tf.serving.graphs import INITIALIZER, STEPPER
    out = {}
    for name in (INITIALIZER, STEPPER):
        fn = graphs.function(name).get_concrete_function()
        out[name] = GraphCost(graph_macs(fn), graph_params(fn))
    return out


def per_frame_macs(initializer_macs: int, stepper_macs: int, video_length: int) -> float:
    """Mean multiply-adds per frame over a video of `video_length` frames streamed without
    re-initialization: the initializer on frame 1, the stepper on the rest."""
    if video_length < 1:
        raise ValueError(f"video_length must be >= 1, got {video_length}")
    return (initializer_macs + (video_length - 1) * stepper_macs) / video_length


def time_interleaved(callables: dict, runs: int = 30, warmup: int = 2) -> dict:
    """Latency of several zero-argument callables measured in one interleaved loop.

    Every round calls each callable once, starting one further along the list each round, so
    that slow drifts of the machine (thermal state, a neighbour process, caches) fall on every
    graph alike and their ratios stay fair. `warmup` untimed rounds come first (allocation,
    tracing, delegate set-up). Returns {name: latency_stats} in milliseconds."""
    names = list(callables)
    for _ in range(warmup):
        for name in names:
            callables[name]()
    times = {name: [] for name in names}
    for r in range(runs):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            start = time.perf_counter()
            callables[name]()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: latency_stats(values) for name, values in times.items()}


def streaming_callables(initialize, step, frame_shape, seed: int = 0) -> dict:
    """{'initializer', 'stepper'} zero-argument callables for time_interleaved over
    `initialize(frame) -> state` and `step(frame, state) -> state`: the stepper is fed the state
    of its own previous call, as in streaming. Frames are random RGB 0..255 (the cost of these
    graphs does not depend on the pixels), drawn once before any clock starts."""
    rng = np.random.default_rng(seed)
    frames = rng.uniform(0, 255, (4, *frame_shape)).astype(np.float32)
    calls = {"initializer": 0, "stepper": 0}
    carried = {}

    def init_call():
        calls["initializer"] += 1
        initialize(frames[calls["initializer"] % 4])

    def step_call():
        calls["stepper"] += 1
        if "state" not in carried:  # the stream's first frame, before the first timed step
            carried["state"] = initialize(frames[0])
        carried["state"] = step(frames[calls["stepper"] % 4], carried["state"])
    return {"initializer": init_call, "stepper": step_call}


def time_graphs(initialize, step, frame_shape, runs: int = 30, warmup: int = 2,
                seed: int = 0) -> dict:
    """Latency of `initialize(frame) -> state` and `step(frame, state) -> state`, interleaved
    (time_interleaved over streaming_callables). Returns {'initializer': stats, 'stepper':
    stats} in milliseconds."""
    return time_interleaved(streaming_callables(initialize, step, frame_shape, seed), runs,
                            warmup)


def gflops(macs: int, median_ms) -> float | None:
    """Achieved GFLOP/s (2 FLOPs per multiply-add) of a graph of `macs` at `median_ms`."""
    if not median_ms or not macs:
        return None
    return 2.0 * macs / (median_ms * 1e-3) / 1e9


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB), TF runtime included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def runner_callables(runner):
    """(initialize, step) over an dkd_tf.serving.runtimes Runner (tflite, onnx, keras)."""
    def initialize(frame):
        return runner.initialize(frame)[1]

    def step(frame, state):
        return runner.step(frame, state)[1]
    return initialize, step
