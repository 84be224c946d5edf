"""SimpleBaseline-style pose network (Xiao et al. 2018; paper sec. 3.2, Fig. 2b).

backbone (stride 32) -> 2 x (Conv2DTranspose 4x4 stride 2, BN, ReLU) -> stride 8 features.
The pose initializer P adds a 1x1 joint classifier; the frame encoder F stops at the features.

The movenet_* backbones take MoveNet's own path instead (dkd_tf.models.movenet): its FPN to
stride 4, its keypoint branch's separable layer (deconv_filters wide; 96 is MoveNet's) pooled to
stride 8 as the features, and a sigmoid classifier as MoveNet's heatmaps have, so the mapped
network starts as MoveNet's keypoint heatmaps averaged to stride 8.
"""
from __future__ import annotations

import keras
from keras import layers

from dkd_tf.models import backbones, movenet
from dkd_tf.models.preprocessing import ImagePreprocess

STRIDE = 8


def deconv_head(x, filters: int, name: str):
    """Two 4x4 stride-2 deconvolutions take stride 32 to stride 8."""
    for i in range(2):
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                   name=f"{name}_deconv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"{name}_deconv{i + 1}_bn")(x)
        x = layers.ReLU(name=f"{name}_deconv{i + 1}_relu")(x)
    return x


def build_pose_net(backbone: str, num_joints: int | None, deconv_filters: int = 256,
                   weights=None, width: int = 64, name: str = "pose_net",
                   stride4: bool = False) -> keras.Model:
    """[B, H, W, 3] float RGB 0..255 -> [B, H/8, W/8, num_joints] heatmaps (P), or
    -> [B, H/8, W/8, deconv_filters] features when num_joints is None (F); H/4 x W/4 with
    stride4 (movenet_* backbones only: MoveNet's keypoint branch unpooled).
    """
    if stride4 and backbone not in movenet.MOVENET_BACKBONES:
        raise ValueError(f"stride-4 features need a movenet_* backbone, not {backbone!r}")
    inputs = keras.Input((None, None, 3), name="frame")
    x = ImagePreprocess(backbones.preprocessing_mode(backbone), name=f"{name}_preprocess")(inputs)
    net = backbones.build_backbone(backbone, 3, weights, width, model_name=f"{name}_backbone")
    activation = None
    if backbone in movenet.MOVENET_BACKBONES:
        x = movenet.keypoint_head(movenet.fpn_features(net, x, name), deconv_filters, name,
                                  pool=not stride4)
        activation = "sigmoid"
    else:
        x = deconv_head(net(x), deconv_filters, name)
    if num_joints is not None:
        x = layers.Conv2D(num_joints, 1, activation=activation, name=f"{name}_classifier")(x)
    return keras.Model(inputs, x, name=name)
