"""Adversarial discriminators (paper eq. 4, sec. 3.2; w-SAT ablation of Table 2).

The temporal D(I_t, h_t, I_t+1, h_t+1) reconstructs the heatmap change d_t = h_t+1 - h_t. It uses
the frame encoder's backbone family, so generator and discriminator learn at a similar pace.
Heatmaps are upsampled to the image size and stacked with the normalized images.

`input_scale` < 1 runs D on downscaled images (its output is upsampled back to the heatmap grid):
the paper's D sees full-size frames (1.0); on a CPU, D at full size costs three times the whole
generator, and 0.5 quarters that.
"""
from __future__ import annotations

import keras
from keras import layers

from dkd_tf.models import backbones
from dkd_tf.models.pose_net import STRIDE, deconv_head
from dkd_tf.models.preprocessing import ImagePreprocess


def build_discriminator(backbone: str, num_joints: int, deconv_filters: int = 256,
                        width: int = 64, temporal: bool = True, input_scale: float = 1.0,
                        name: str = "discriminator") -> keras.Model:
    """Temporal: [I_t, h_t, I_t+1, h_t+1] -> d_t [B, H/8, W/8, K].
    Spatial (w-SAT): [I_t, h_t] -> reconstructed h_t [B, H/8, W/8, K].
    """
    factor = round(1.0 / input_scale)
    if input_scale > 1 or factor * input_scale != 1.0 or STRIDE % factor:
        raise ValueError(f"discriminator input_scale must be 1, 1/2, 1/4 or 1/8, got {input_scale}")
    pairs = 2 if temporal else 1
    inputs, parts = [], []
    prep = ImagePreprocess(backbones.preprocessing_mode(backbone), name=f"{name}_preprocess")
    up = layers.UpSampling2D(STRIDE // factor, interpolation="bilinear", name=f"{name}_upsample")
    down = layers.AveragePooling2D(factor, name=f"{name}_downscale") if factor > 1 else None
    for p in range(pairs):
        image = keras.Input((None, None, 3), name=f"frame_{p}")
        heat = keras.Input((None, None, num_joints), name=f"heatmaps_{p}")
        inputs += [image, heat]
        image = prep(image)
        parts += [down(image) if down else image, up(heat)]
    x = layers.Concatenate(name=f"{name}_concat")(parts)
    x = backbones.build_backbone(backbone, pairs * (3 + num_joints), None, width,
                                 model_name=f"{name}_backbone")(x)
    x = deconv_head(x, deconv_filters, name)
    x = layers.Conv2D(num_joints, 1, name=f"{name}_out")(x)
    if factor > 1:
        x = layers.UpSampling2D(factor, interpolation="bilinear", name=f"{name}_to_heatmaps")(x)
    return keras.Model(inputs, x, name=name)
