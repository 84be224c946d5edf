"""Matching distilled pose kernels to new features (paper eq. 2 and 6).

The kernels differ per sample, so an ordinary convolution layer cannot hold them. Folding the
batch into the channel axis turns B per-sample depthwise convolutions into one depthwise
convolution of a single [1, H, W, B*C] image with a [S, S, B*C, 1] filter: one kernel launch on
every runtime, and an op (DEPTHWISE_CONV_2D) that TFLite and ONNX run with a runtime filter.
The price is a static batch in exported graphs (batch 1 on devices).
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers


def _dim(x, i):
    """Static size of axis i when known (keeps exported graphs fully static), else dynamic."""
    static = x.shape[i]
    return static if static is not None else tf.shape(x)[i]


def dynamic_depthwise_conv(features, kernels):
    """Per-sample depthwise convolution ('SAME' padding, stride 1).

    Args:
      features: [B, H, W, C].
      kernels: [B, S, S, C], a different S x S filter per sample and channel.
    Returns:
      [B, H, W, C] with out[b, :, :, c] = features[b, :, :, c] (*) kernels[b, :, :, c]
      (cross-correlation, as tf.nn.conv2d).
    """
    b, h, w = _dim(features, 0), _dim(features, 1), _dim(features, 2)
    c = features.shape[-1]
    s = kernels.shape[1]
    x = tf.reshape(tf.transpose(features, [1, 2, 0, 3]), [1, h, w, b * c])
    k = tf.reshape(tf.transpose(kernels, [1, 2, 0, 3]), [s, s, b * c, 1])
    y = tf.nn.depthwise_conv2d(x, k, strides=[1, 1, 1, 1], padding="SAME")
    return tf.transpose(tf.reshape(y, [h, w, b, c]), [2, 0, 1, 3])


@keras.saving.register_keras_serializable(package="dkd_tf")
class PoseKernelMatching(layers.Layer):
    """h_{t+1} = BN(U * (k'_t (*)_C (V * f_{t+1}))), eq. 6: 1x1 V, dynamic depthwise, 1x1 U, BN.

    call([features, kernels]): features [B, h, w, C_f] from the frame encoder F, kernel bases
    [B, S, S, C] from the distillator Phi -> heatmaps [B, h, w, num_joints].

    residual=True matches with k'_t + delta (a centred unit tap in every channel), i.e. adds
    V * f_{t+1} to the dynamic convolution's output: the static 1x1 classifier U V, as sharp as a
    single-frame network's, becomes the starting point that the distilled kernels correct, instead
    of something the smooth S x S kernels would have to learn to imitate.

    activation='sigmoid' ends the head as the movenet_* pose networks' classifiers end (their
    heatmaps are MoveNet's sigmoid scores), so a head seeded from such a classifier
    (training.seed_matcher) starts as its heatmaps, not as its logits.
    """

    ACTIVATIONS = (None, "sigmoid")

    def __init__(self, num_joints: int, channels: int, residual: bool = False,
                 activation: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"activation must be one of {self.ACTIVATIONS}, got {activation!r}")
        self.num_joints = num_joints
        self.channels = channels
        self.residual = bool(residual)
        self.activation = activation
        self.v = layers.Conv2D(channels, 1, use_bias=False, name="v")
        self.u = layers.Conv2D(num_joints, 1, use_bias=False, name="u")
        # Heatmap targets (unit Gaussian peaks on a near-zero map) have a std of about 0.1 per
        # channel; starting BN's scale there spares the first hundreds of steps of shrinking it.
        self.bn = layers.BatchNormalization(gamma_initializer=keras.initializers.Constant(0.1),
                                            name="bn")

    def build(self, input_shape):
        feat_shape, kern_shape = input_shape
        self.v.build(feat_shape)
        self.u.build(tuple(feat_shape[:-1]) + (self.channels,))
        self.bn.build(tuple(feat_shape[:-1]) + (self.num_joints,))
        if kern_shape[-1] != self.channels:
            raise ValueError(f"kernel bases have {kern_shape[-1]} channels, expected "
                             f"{self.channels}")

    def call(self, inputs, training=None):
        features, kernels = inputs
        v = self.v(features)
        x = dynamic_depthwise_conv(v, kernels)
        if self.residual:
            x = x + v
        return self.read_out(x, training)

    def read_out(self, matched, training=None):
        """U, BN and the activation: matched features [B, h, w, C] -> heatmaps."""
        x = self.bn(self.u(matched), training=training)
        return keras.ops.sigmoid(x) if self.activation == "sigmoid" else x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self.num_joints,)

    def get_config(self):
        return {**super().get_config(), "num_joints": self.num_joints, "channels": self.channels,
                "residual": self.residual, "activation": self.activation}
