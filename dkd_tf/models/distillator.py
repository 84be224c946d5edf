"""Pose kernel distillator Phi (paper eq. 1, Fig. 2c).

concat(f_t, h_t) -> 3 x (3x3 conv, BN, ReLU) with a 2x2 max-pool after the first two -> resized to
S x S: the kernel bases k'_t [B, S, S, C]. The final bilinear resize makes S independent of the
input size (the paper's 256 px input gives 8 x 8 after the pools; S = 7).

`pools` < 2 drops pools from the end: at 128 px two pools leave 4 x 4 cells, and resizing those
up to 7 x 7 makes every kernel a smooth bump that cannot be sharper than the pooled map, so the
matched heatmaps are blurred; one pool leaves 8 x 8, resized down to 7 x 7 as in the paper.

`output` = 'linear' ends Phi at its last BN, without the ReLU: ReLU kernels are non-negative,
so every matched channel is a blurred copy of V f, which no choice of U can sharpen again; signed
kernels can be a centred delta (the Baseline's 1x1 classifier is then a special case) or an edge.
"""
from __future__ import annotations

import keras
from keras import layers

from dkd_tf.core import train_config

# What ends Phi (BN + ReLU, Fig. 2c read literally, or BN alone) and how many 2x2 max-pools it
# may have (2: the paper's): the settings' choices (dkd_tf.core.train_config).
OUTPUTS, POOLS = train_config.DISTILLATOR_OUTPUTS, train_config.DISTILLATOR_POOLS


def build_distillator(feature_channels: int, num_joints: int, kernel_size: int = 7,
                      channels: int = 256, pools: int = 2, output: str = "relu",
                      name: str = "distillator") -> keras.Model:
    if output not in OUTPUTS:
        raise ValueError(f"distillator output must be one of {OUTPUTS}, got {output!r}")
    features = keras.Input((None, None, feature_channels), name="features")
    heatmaps = keras.Input((None, None, num_joints), name="heatmaps")
    x = layers.Concatenate(name=f"{name}_concat")([features, heatmaps])
    for i in range(3):
        x = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i + 1}")(x)
        if i < 2 or output == "relu":
            x = layers.ReLU(name=f"{name}_relu{i + 1}")(x)
        if i < pools:
            x = layers.MaxPooling2D(2, padding="same", name=f"{name}_pool{i + 1}")(x)
    x = layers.Resizing(kernel_size, kernel_size, interpolation="bilinear",
                        name=f"{name}_to_kernel_size")(x)
    return keras.Model([features, heatmaps], x, name=name)
