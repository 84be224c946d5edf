"""Export-time graph rewrites that keep the math: the pose nets' Conv2DTranspose + BN as a conv +
depth-to-space with BN folded into the weights.

The pose nets (dkd_tf/models/pose_net.py, `deconv_head`) upsample with Conv2DTranspose(4x4,
stride 2, 'same', no bias) -> BatchNormalization -> ReLU, twice. A transposed conv runs at about
half the throughput of an ordinary conv in TFLite/XNNPACK. Per output phase it is a small ordinary
conv, so the pair is rewritten exactly (up to float rounding) as

    pad 1 -> Conv2D 2x2 VALID, C_in -> 4 C_out, BN folded (bias) and ReLU fused
          -> depth_to_space(2) -> crop 1 pixel per side

Derivation (one axis; both axes are independent). TF's 'same' transposed conv with kernel 4 and
stride 2 is the input-gradient of a stride-2 conv with padding 1 before:
    out[o] = sum over (i, k) with o = 2 i + k - 1 of x[i] w[k],   o in [0, 2H)
so out[2m] = x[m] w[1] + x[m-1] w[3] and out[2m+1] = x[m+1] w[0] + x[m] w[2]. A 2x2 window j over
the input padded by 1 on each side covers x[j-1], x[j] (taps 0, 1), j in [0, H]. Sub-pixel 0 of
window j is out[2j-1] (taps -> w[2], w[0]); sub-pixel 1 is out[2j] (taps -> w[3], w[1]).
depth_to_space puts sub-pixel q of window j at 2j + q, which is out[2j + q - 1]: cropping one pixel
from each side of the (2H + 2)-wide result gives out exactly. BN(y) = s y + (beta - s mean) with
s = gamma / sqrt(var + eps) scales the output channels of the kernel and becomes the bias.

The rewrite reads the trained weights and never changes the Keras model: `exported_pose_nets`
builds replacement callables for model.initializer / model.encoder, and `pose_nets_swapped` puts
them in place only while a graph is being traced (dkd_tf.serving.graphs). Each rewritten net is checked
against the original on a random input when it is built (RewriteError beyond 1e-4 relative), and
the export's parity check (export.verify) then compares the whole exported graphs with Keras.
"""
from __future__ import annotations

import contextlib

import numpy as np

from dkd_tf.core import lazy_modules

# Imported on first use, so that the exporters' command lines (which define --deconv_as_conv
# here) check their input before TensorFlow loads (dkd_tf/core/lazy_modules.py).
keras = lazy_modules.module("keras")
tf = lazy_modules.module("tensorflow")

# Manifest values (formats.<fmt>.rewrites): which rewrites the graph files carry.
DECONV_AS_CONV = "deconv_bn_as_conv2x2_depth_to_space"
REWRITES = (DECONV_AS_CONV,)
DEFAULT = (DECONV_AS_CONV,)  # what the exporters apply unless told otherwise
DESCRIPTIONS = {
    DECONV_AS_CONV: ("Each Conv2DTranspose(4x4, stride 2, same) + BatchNorm + ReLU of the pose "
                     "nets is exported as pad 1 -> Conv2D 2x2 (4x the channels, BN folded into "
                     "weights and bias, ReLU fused) -> depth_to_space(2) -> crop 1 pixel per "
                     "side: the same function, checked against Keras by the parity check."),
}
SELF_CHECK_TOLERANCE = 1e-4  # relative to max(1, peak |output|), on a random input

# For sub-pixel q (0, 1) and 2x2 tap t (0, 1): the index of the 4-tap transposed-conv kernel.
_TAP = ((2, 0), (3, 1))


class RewriteError(ValueError):
    """A pose net the rewrite does not recognize, or a rewrite that changed the output."""


def deconv_as_conv_weights(deconv_kernel, bn_scale=None, bn_shift=None):
    """Weights of the 2x2 conv equivalent to a 4x4 stride-2 'same' transposed conv.

    Args:
      deconv_kernel: Keras Conv2DTranspose kernel [4, 4, C_out, C_in].
      bn_scale, bn_shift: per output channel [C_out] (BN folded as s * y + b); None = identity.
    Returns:
      (kernel [2, 2, C_in, 4 C_out], bias [4 C_out]); output channel (2 qy + qx) * C_out + c
      is sub-pixel (qy, qx) of depth_to_space.
    """
    w = np.asarray(deconv_kernel, np.float64)
    kh, kw, c_out, c_in = w.shape
    if (kh, kw) != (4, 4):
        raise RewriteError(f"the rewrite handles 4x4 transposed convs, got {kh}x{kw}")
    scale = np.ones(c_out) if bn_scale is None else np.asarray(bn_scale, np.float64)
    shift = np.zeros(c_out) if bn_shift is None else np.asarray(bn_shift, np.float64)
    kernel = np.zeros((2, 2, c_in, 4 * c_out))
    for qy in range(2):
        for qx in range(2):
            group = slice((2 * qy + qx) * c_out, (2 * qy + qx + 1) * c_out)
            for ty in range(2):
                for tx in range(2):
                    # w[ky, kx] is [C_out, C_in]; the conv kernel wants [C_in, C_out].
                    kernel[ty, tx, :, group] = (w[_TAP[qy][ty], _TAP[qx][tx]] * scale[:, None]).T
    bias = np.tile(shift, 4)
    return kernel.astype(np.float32), bias.astype(np.float32)


def folded_batchnorm(bn: keras.layers.BatchNormalization):
    """(scale, shift) [C] of an inference-mode BatchNormalization: y = scale * x + shift."""
    if bn.axis not in (-1, [-1], len(bn.input.shape) - 1, [len(bn.input.shape) - 1]):
        raise RewriteError(f"{bn.name}: BatchNormalization over axis {bn.axis}, not channels")
    mean = np.asarray(bn.moving_mean, np.float64)
    var = np.asarray(bn.moving_variance, np.float64)
    gamma = np.asarray(bn.gamma, np.float64) if bn.scale else np.ones_like(mean)
    beta = np.asarray(bn.beta, np.float64) if bn.center else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + bn.epsilon)
    return scale, beta - mean * scale


def conv_depth_to_space(x, kernel, bias, relu: bool):
    """The rewritten upsampling: [B, H, W, C_in] -> [B, 2H, 2W, C_out] (module docstring)."""
    x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    y = tf.nn.bias_add(tf.nn.conv2d(x, kernel, strides=1, padding="VALID"), bias)
    if relu:
        y = tf.nn.relu(y)
    y = tf.nn.depth_to_space(y, 2)
    return y[:, 1:-1, 1:-1, :]


def _is_plain_relu(layer) -> bool:
    cfg = layer.get_config()
    return (isinstance(layer, keras.layers.ReLU) and cfg.get("max_value") is None
            and not cfg.get("negative_slope") and not cfg.get("threshold"))


class _FoldedUpsample:
    """Conv2DTranspose [+ BN] [+ ReLU] as conv_depth_to_space with constant folded weights."""

    def __init__(self, deconv, bn=None, relu=False):
        cfg = deconv.get_config()
        if (tuple(cfg["strides"]) != (2, 2) or cfg["padding"] != "same"
                or tuple(cfg["dilation_rate"]) != (1, 1) or cfg.get("output_padding")
                or cfg["activation"] != "linear" or cfg["data_format"] != "channels_last"):
            raise RewriteError(f"{deconv.name}: only 4x4 stride-2 'same' transposed convs "
                               f"without activation are rewritten, got {cfg}")
        scale, shift = folded_batchnorm(bn) if bn is not None else (None, None)
        kernel = np.asarray(deconv.kernel)
        if deconv.use_bias:
            b = np.asarray(deconv.bias, np.float64)
            shift = (b * (1.0 if scale is None else scale)
                     + (0.0 if shift is None else shift))
            scale = np.ones(kernel.shape[2]) if scale is None else scale
        k, b = deconv_as_conv_weights(kernel, scale, shift)
        self.kernel, self.bias, self.relu = tf.constant(k), tf.constant(b), relu
        self.names = [deconv.name] + ([bn.name] if bn is not None else [])

    def __call__(self, x):
        return conv_depth_to_space(x, self.kernel, self.bias, self.relu)


class RewrittenPoseNet:
    """A pose net (a linear functional keras.Model: preprocess, backbone, deconvs, classifier)
    with each Conv2DTranspose + BN (+ ReLU) replaced; every other layer is the original object,
    called in inference mode. Callable like the net: net(frame, training=False)."""

    def __init__(self, net: keras.Model):
        self.name = net.name
        layers = [l for l in net.layers if not isinstance(l, keras.layers.InputLayer)]
        self._check_linear(net, layers)
        self.steps, self.rewritten = [], []
        i = 0
        while i < len(layers):
            layer = layers[i]
            if isinstance(layer, keras.layers.Conv2DTranspose):
                bn = relu = None
                if i + 1 < len(layers) and isinstance(layers[i + 1],
                                                      keras.layers.BatchNormalization):
                    bn = layers[i + 1]
                    i += 1
                if i + 1 < len(layers) and _is_plain_relu(layers[i + 1]):
                    relu = layers[i + 1]
                    i += 1
                folded = _FoldedUpsample(layer, bn, relu is not None)
                self.steps.append(folded)
                self.rewritten.append(folded.names)
            else:
                self.steps.append(lambda x, layer=layer: layer(x, training=False))
            i += 1

    @staticmethod
    def _check_linear(net, layers):
        """Every layer must read the previous layer's output (the order of net.layers is then
        the order of the computation)."""
        previous = net.layers[0] if isinstance(net.layers[0], keras.layers.InputLayer) else None
        for layer in layers:
            nodes = [n for n in layer._inbound_nodes if n.operation is layer]
            parents = {id(t._keras_history.operation) for n in nodes for t in n.input_tensors}
            if len(nodes) != 1 or previous is None or parents != {id(previous)}:
                raise RewriteError(f"{net.name}: layer {layer.name} does not read the previous "
                                   "layer's output only; the rewrite handles linear pose nets")
            previous = layer

    def __call__(self, x, training=False):
        if training:
            raise RewriteError("the rewritten pose nets are inference graphs (training=False)")
        for step in self.steps:
            x = step(x)
        return x


def check_rewrite(original: keras.Model, rewritten, input_size: int, seed: int = 0) -> float:
    """Max abs difference of the two nets on one random frame, relative to max(1, peak); raises
    RewriteError beyond SELF_CHECK_TOLERANCE."""
    frame = tf.constant(np.random.default_rng(seed).uniform(
        0, 255, (1, input_size, input_size, 3)).astype(np.float32))
    ref = original(frame, training=False).numpy()
    got = np.asarray(rewritten(frame))
    diff = float(np.abs(ref - got).max()) / max(1.0, float(np.abs(ref).max()))
    if not diff <= SELF_CHECK_TOLERANCE:
        raise RewriteError(f"{original.name}: the rewritten net differs from Keras by {diff:.3g} "
                           f"(relative; tolerance {SELF_CHECK_TOLERANCE:g})")
    return diff


POSE_NET_ATTRIBUTES = ("initializer", "encoder")


def check_names(rewrites) -> tuple:
    unknown = [r for r in rewrites if r not in REWRITES]
    if unknown:
        raise ValueError(f"unknown export rewrite(s) {unknown}; known: {list(REWRITES)}")
    return tuple(rewrites)


def exported_pose_nets(model, input_size: int, rewrites=DEFAULT) -> dict:
    """{attribute: RewrittenPoseNet} for the model's pose nets, each self-checked; empty when
    `rewrites` does not name DECONV_AS_CONV."""
    nets = {}
    if DECONV_AS_CONV not in check_names(rewrites):
        return nets
    for attr in POSE_NET_ATTRIBUTES:
        net = getattr(model, attr, None)
        if isinstance(net, keras.Model) and any(
                isinstance(l, keras.layers.Conv2DTranspose) for l in net.layers):
            # (a MoveNet-shaped net has no deconvolution: nothing to rewrite, exported as is)
            rewritten = RewrittenPoseNet(net)
            if rewritten.rewritten:
                check_rewrite(net, rewritten, input_size)
                nets[attr] = rewritten
    return nets


@contextlib.contextmanager
def pose_nets_swapped(model, nets: dict):
    """model.initializer / model.encoder replaced by `nets` inside the block (for tracing the
    export graphs). object.__setattr__ bypasses Keras tracking, so the model's layers, weights
    and saved format are untouched, and the originals are back after the block."""
    originals = {attr: model.__dict__[attr] for attr in nets}
    try:
        for attr, net in nets.items():
            object.__setattr__(model, attr, net)
        yield model
    finally:
        for attr, net in originals.items():
            object.__setattr__(model, attr, net)


def manifest_entry(rewrites) -> list:
    """The `rewrites` list a format entry records (empty: the graphs are the plain Keras ops)."""
    return [{"name": r, "description": DESCRIPTIONS[r]} for r in rewrites]


def define_flags():
    """--deconv_as_conv for the exporters' command lines."""
    from absl import flags
    flags.DEFINE_bool("deconv_as_conv", True, "Export each Conv2DTranspose + BN of the pose nets as "
                      "a 2x2 conv + depth-to-space with BN folded (same math, faster; recorded "
                      "in manifest.json as formats.<fmt>.rewrites). --nodeconv_as_conv keeps "
                      "the transposed convs.")


def from_flag(deconv_as_conv: bool) -> tuple:
    return (DECONV_AS_CONV,) if deconv_as_conv else ()
