"""Multiply-adds of the linear ops, counted one way for every graph format.

The TF-graph counter (dkd_tf.benchmarks.costs.op_macs: Conv2D, DepthwiseConv2dNative,
Conv2DBackpropInput, MatMul) and the TFLite counter (dkd_tf.core.tflite_graphs.op_macs:
CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED, BATCH_MATMUL) only read each op's
shapes in their format's layout; the rules are these. Batch norm, activations, pooling and
elementwise ops count nothing (module docstring of dkd_tf.benchmarks.costs).
"""
from __future__ import annotations

import numpy as np


def _elements(shape) -> int:
    return int(np.prod([int(d) for d in shape]))


def conv(out_shape, kh: int, kw: int, c_in: int) -> int:
    """A convolution: every output element reads kh x kw x C_in inputs."""
    return _elements(out_shape) * int(kh) * int(kw) * int(c_in)


def depthwise(out_shape, kh: int, kw: int) -> int:
    """A depthwise convolution (DKD's matching among them): kh x kw per output element."""
    return _elements(out_shape) * int(kh) * int(kw)


def transposed_conv(in_shape, kh: int, kw: int, c_out: int) -> int:
    """A transposed convolution (the deconvolutions): every input element is scattered through
    the whole kernel, kh x kw x C_out."""
    return _elements(in_shape) * int(kh) * int(kw) * int(c_out)


def matmul(out_shape, inner: int) -> int:
    """A (batched) matrix product or dense layer: the inner dimension per output element."""
    return _elements(out_shape) * int(inner)
