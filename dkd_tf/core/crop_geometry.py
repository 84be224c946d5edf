"""The person crop's geometry, written once for numpy and TensorFlow alike.

The crop is the square around a person box's centre, its side the box's longer side x
CROP_MARGIN x scale, rotated and mirrored on request, mapped onto out_size x out_size pixels by
one affine matrix (integer coordinates are pixel centres). crop_affine computes that matrix's
entries with arithmetic operators only, so the tf.data graph (dkd_tf.data.transforms, TF
tensors) and the streaming crop (dkd_tf.data.frame_crops, numpy float32 under NumPy 2's
promotion rules, no TensorFlow) run the same formula in the same order and agree to the bit.
"""
from __future__ import annotations

# The crop is this much larger than the person box (SimpleBaseline's padding).
CROP_MARGIN = 1.25


def crop_affine(center_x, center_y, box_size, out_size: int, scale, cos_a, sin_a, mirror):
    """(r00, r01, tx, r10, r11, ty) of p_out = half + M (p_src - centre), M = mirror_x x zoom x
    R(-a): the content turns counter-clockwise on screen (y points down) by the angle whose
    cosine and sine are given; mirror is -1 for a horizontally flipped crop, else 1; zoom =
    out_size / (box_size x CROP_MARGIN x scale); half = (out_size - 1) / 2."""
    zoom = out_size / (box_size * CROP_MARGIN * scale)
    cos, sin = cos_a * zoom, sin_a * zoom
    half = (out_size - 1) / 2.0
    r00, r01 = mirror * cos, mirror * sin
    r10, r11 = -sin, cos
    tx = half - (r00 * center_x + r01 * center_y)
    ty = half - (r10 * center_x + r11 * center_y)
    return r00, r01, tx, r10, r11, ty


def transform_points(matrix, points):
    """numpy points [..., 2] mapped by the affine `matrix` [3, 3] (or [2, 3]), in float64: the
    one numpy point mapping of the photo clips, the teacher labels and the streaming tracker."""
    import numpy as np
    m = np.asarray(matrix, np.float64)
    return np.asarray(points, np.float64) @ m[:2, :2].T + m[:2, 2]
