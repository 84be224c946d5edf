"""MoveNet's network shape in Keras: MobileNetV2 + its small FPN + its keypoint branch.

MoveNet SinglePose (Lightning: MobileNetV2 alpha 1.0 at 192 px; Thunder: alpha 1.75 at 256 px,
whose last 1x1 conv keeps 1280 outputs where keras.applications would build 2240) is the
real-world initialization at hand: its published weights map onto these layers by name
(dkd_tf.models.movenet_weights).

  c5 = out_relu (s32, 1280)  -> conv2d 1x1 -> 64, x2 bilinear  + conv2d_1 (block_9_add, s16)
     -> separable 3x3 -> 32, ReLU, x2 bilinear                 + conv2d_2 (block_5_add, s8)
     -> separable 3x3 -> 24, ReLU, x2 bilinear                 + conv2d_3 (block_2_add, s4)
     -> separable 3x3 -> 24, ReLU                               = FPN output [B, H/4, W/4, 24]
     -> keypoint branch: separable 3x3 -> hidden (96), ReLU     [B, H/4, W/4, hidden]
     -> 2 x 2 average pool                                      = features [B, H/8, W/8, hidden]

DKD's heatmaps, features and kernels live at stride 8 (pose_net.STRIDE), so the branch's hidden
maps are pooled once. A 1x1 classifier commutes with the pool, so P = sigmoid(classifier(features))
starts as MoveNet's own keypoint heatmaps averaged over 2 x 2 cells (mapping the branch at
stride 8 instead, on the FPN's stride-8 level, starts below 1 % PCK on LSP: its weights only fit
stride-4 maps).

Batch norm in the backbone holds MoveNet's folded biases (gamma 1, mean 0, var 1 - eps), so it is
frozen (inference mode): training with batch statistics would undo the mapped network at the
first step, and CPU batches are too small for good statistics anyway.
"""
from __future__ import annotations

import warnings

import keras
from keras import layers

# backbone name -> MobileNetV2 width multiplier, MoveNet's input size
MOVENET_BACKBONES = {"movenet_lightning": (1.0, 192), "movenet_thunder": (1.75, 256)}
LATERALS = ("block_2_add", "block_5_add", "block_9_add")  # stride 4, 8 and 16 FPN inputs
FPN_WIDTHS = (64, 32, 24)  # s32/s16 level, s8 merge level, s4 merge level and output
LAST_CONV = 1280


def mobilenet_v2(backbone: str, input_channels: int = 3, name: str | None = None) -> keras.Model:
    """[B, H, W, C] (already normalized to [-1, 1]) -> stride-32 features [B, H/32, W/32, 1280],
    keras.applications MobileNetV2 with MoveNet's last conv (1280 outputs at every alpha)."""
    alpha, _ = MOVENET_BACKBONES[backbone]
    with warnings.catch_warnings():
        # keras warns that no ImageNet weights exist for a free input size; none are loaded.
        warnings.filterwarnings("ignore", message=".*input_shape.*", category=UserWarning)
        base = keras.applications.MobileNetV2(input_shape=(None, None, input_channels),
                                              alpha=alpha, include_top=False, weights=None)
    x = base.get_layer("block_16_project_BN").output
    x = layers.Conv2D(LAST_CONV, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    model = keras.Model(base.input, x, name=name or f"{backbone}_backbone")
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    return model


def _separable(x, filters: int, name: str):
    """MoveNet's separable block: depthwise 3x3 (no bias) + pointwise 1x1 with bias, ReLU."""
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"{name}_dw")(x)
    return layers.Conv2D(filters, 1, activation="relu", name=f"{name}_pw")(x)


def fpn_features(backbone: keras.Model, x, name: str):
    """Stride-4 features [B, H/4, W/4, 24] of MoveNet's FPN over `backbone`'s outputs for x."""
    taps = keras.Model(backbone.input, [backbone.get_layer(n).output for n in LATERALS]
                       + [backbone.output], name=backbone.name)
    c2, c3, c4, c5 = taps(x)
    top, mid, out = FPN_WIDTHS
    y = layers.Conv2D(top, 1, name=f"{name}_fpn_conv2d")(c5)
    y = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_fpn_up16")(y)
    y = layers.Add(name=f"{name}_fpn_add16")([y, layers.Conv2D(top, 1,
                                                               name=f"{name}_fpn_conv2d_1")(c4)])
    y = _separable(y, mid, f"{name}_fpn_separable_conv2d")
    y = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_fpn_up8")(y)
    y = layers.Add(name=f"{name}_fpn_add8")([y, layers.Conv2D(mid, 1,
                                                              name=f"{name}_fpn_conv2d_2")(c3)])
    y = _separable(y, out, f"{name}_fpn_separable_conv2d_1")
    y = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_fpn_up4")(y)
    y = layers.Add(name=f"{name}_fpn_add4")([y, layers.Conv2D(out, 1,
                                                              name=f"{name}_fpn_conv2d_3")(c2)])
    return _separable(y, out, f"{name}_fpn_separable_conv2d_2")


def keypoint_head(x, hidden: int, name: str, pool: bool = True):
    """MoveNet's keypoint-heatmap branch up to its hidden layer (separable 3x3 -> hidden, ReLU)
    at stride 4, pooled to stride 8 (pool=False keeps stride 4, MoveNet's own grid): the
    features F hands to Phi and the matching, or P's classifier reads."""
    x = _separable(x, hidden, f"{name}_head")
    return layers.AveragePooling2D(2, name=f"{name}_to_stride8")(x) if pool else x
