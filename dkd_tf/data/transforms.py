"""Person-centred crops with scale, rotation and flip as one 3x3 affine matrix (TF ops).

One matrix maps source pixels to input pixels; images are warped with its inverse through
tf.raw_ops.ImageProjectiveTransformV3 (what tensorflow-addons' rotate used), joints with the
matrix itself, so an image and its labels can never disagree. Integer coordinates are pixel
centres in both images, the convention of ImageProjectiveTransformV3 and of dkd_tf.core.codec.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from dkd_tf.core import crop_geometry

CROP_MARGIN = crop_geometry.CROP_MARGIN  # the crop's padding around the person box


def crop_matrix(center, box_size, out_size: int, scale=1.0, rotation_deg=0.0, flip=False):
    """Affine [3, 3] from source pixels to a square out_size x out_size crop.

    Args:
      center: [2] person centre (x, y) in source pixels.
      box_size: person size in source pixels (max side of the box); the crop covers
        box_size * CROP_MARGIN * scale source pixels.
      scale: zoom-out factor (> 1 shows more context, the person appears smaller).
      rotation_deg: rotation of the content, counter-clockwise on screen.
      flip: mirror the crop horizontally.
    """
    center = tf.cast(center, tf.float32)
    a = tf.cast(rotation_deg, tf.float32) * (math.pi / 180.0)
    mirror = tf.where(tf.cast(flip, tf.bool), -1.0, 1.0)
    r00, r01, tx, r10, r11, ty = crop_geometry.crop_affine(
        center[0], center[1], tf.cast(box_size, tf.float32), out_size,
        tf.cast(scale, tf.float32), tf.cos(a), tf.sin(a), mirror)
    zero, one = tf.zeros_like(r00), tf.ones_like(r00)
    return tf.reshape(tf.stack([r00, r01, tx, r10, r11, ty, zero, zero, one]), [3, 3])


def transform_points(matrix, points):
    """points [..., 2] -> matrix applied (affine), [..., 2]."""
    points = tf.cast(points, tf.float32)
    return tf.linalg.matvec(matrix[None, :2, :2], points) + matrix[:2, 2]


def warp_image(image, matrix, out_size: int):
    """image [H, W, C] (any dtype) -> float32 [out_size, out_size, C] crop through `matrix`."""
    inv = tf.linalg.inv(matrix)
    inv = inv / inv[2, 2]
    transform = tf.reshape(inv, [9])[:8][None, :]
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(image, tf.float32)[None], transforms=transform,
        output_shape=tf.constant([out_size, out_size], tf.int32), fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")
    return out[0]


def box_center_size(box):
    """[..., 4] (x1, y1, x2, y2) -> centre [..., 2], size [...] = max side (person size)."""
    box = tf.cast(box, tf.float32)
    center = (box[..., :2] + box[..., 2:]) / 2.0
    size = tf.reduce_max(box[..., 2:] - box[..., :2], axis=-1)
    return center, tf.maximum(size, 1.0)


def invert_points(matrix, points):
    """Map crop pixels back to source pixels (numpy, for evaluation and streaming)."""
    inv = np.linalg.inv(np.asarray(matrix, np.float64))
    pts = np.asarray(points, np.float64)
    return (pts @ inv[:2, :2].T + inv[:2, 2]).astype(np.float32)
