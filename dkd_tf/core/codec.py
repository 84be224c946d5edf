"""Heatmap targets and keypoint decoding: the one encode/decode rule of the project.

Pixel convention: integer pixel coordinates are pixel centres (0-based). Heatmap cell (i, j)
covers input pixels [8j, 8j + 8) horizontally, so its centre is at x = (j + 0.5) * stride - 0.5.
Decoding (DESIGN.md, shared with the Android app through golden vectors) is one named rule,
recorded in every export's manifest so that every runtime decodes alike:
  'argmax_log_parabola' (the default): argmax per joint, then on each axis the vertex of the
      parabola through the log values of the peak and its two neighbours (exact for a Gaussian
      peak; each neighbour floored at 1 % of the peak, no shift at the border or when the peak is
      not positive), offset within [-0.5, 0.5] cell;
  'argmax_quarter_offset' (SimpleBaseline's): argmax, a quarter-cell shift towards the larger
      neighbour.
Then x_img = (x_cell + 0.5) * stride - 0.5 (likewise y); the confidence is the peak value.
At stride 8 a quarter-cell rule is off by up to 2 px on a perfect heatmap, a fifth of the torso
threshold on a 128-px crop; the log-parabola recovers a Gaussian's centre exactly.

Decoding is numpy only; TensorFlow is imported by encode_heatmaps alone (the tf.data pipeline
already has it), so the manifest and the stream command read this module without loading
TensorFlow.
"""
from __future__ import annotations

import numpy as np


def pixel_to_cell(xy, stride):
    return (xy + 0.5) / stride - 0.5


def cell_to_pixel(xy, stride):
    return (xy + 0.5) * stride - 0.5


def encode_heatmaps(joints, weights, height: int, width: int, stride: int, sigma: float):
    """Gaussian targets (TF, for the tf.data pipeline).

    Args:
      joints: [K, 2] (x, y) in input pixels. weights: [K], 0 for joints that are not supervised.
      height, width: heatmap size (input size / stride). sigma: Gaussian std in heatmap cells.
    Returns:
      [height, width, K] float32, peak 1 at each supervised joint, zeros for weight 0.
    """
    import tensorflow as tf
    cells = pixel_to_cell(tf.cast(joints, tf.float32), float(stride))
    ys = tf.range(height, dtype=tf.float32)[:, None, None]
    xs = tf.range(width, dtype=tf.float32)[None, :, None]
    d2 = tf.square(xs - cells[None, None, :, 0]) + tf.square(ys - cells[None, None, :, 1])
    maps = tf.exp(-d2 / (2.0 * sigma * sigma))
    return maps * tf.cast(weights > 0, tf.float32)[None, None, :]


DECODING_RULES = ("argmax_log_parabola", "argmax_quarter_offset")
DEFAULT_DECODING = "argmax_log_parabola"
PARABOLA_FLOOR = 0.01  # neighbours are floored at this fraction of the peak before the log


def _parabola_offset(left, center, right):
    """Sub-cell offset of a Gaussian peak from three samples (log-parabola vertex), in cells."""
    floor = PARABOLA_FLOOR * center
    good = center > 0
    c = np.where(good, center, 1.0)
    lo = np.log(np.maximum(np.where(good, left, 1.0), np.where(good, floor, 1.0)))
    ro = np.log(np.maximum(np.where(good, right, 1.0), np.where(good, floor, 1.0)))
    co = np.log(c)
    a, b = co - lo, co - ro  # both >= 0 at an argmax
    denom = a + b
    offset = np.where(denom > 0, 0.5 * (a - b) / np.where(denom > 0, denom, 1.0), 0.0)
    return np.where(good, offset, 0.0)


def refine_peak(channel: np.ndarray, y: int, x: int) -> np.ndarray:
    """Cell (x, y) of a given peak of one heatmap channel [h, w], refined by the default rule's
    log-parabola (as decode_heatmaps refines each channel's argmax); for peaks that are not the
    argmax, e.g. the second limb of a left/right pair (dkd_tf.left_right)."""
    h, w = channel.shape
    c = channel[y, x]
    dx = _parabola_offset(channel[y, x - 1], c, channel[y, x + 1]) if 0 < x < w - 1 else 0.0
    dy = _parabola_offset(channel[y - 1, x], c, channel[y + 1, x]) if 0 < y < h - 1 else 0.0
    return np.array([x + float(dx), y + float(dy)])


def decode_heatmaps(heatmaps: np.ndarray, stride: int, rule: str = DEFAULT_DECODING):
    """Keypoints from heatmaps [..., h, w, K] -> (xy [..., K, 2] input pixels, conf [..., K]).

    rule: one of DECODING_RULES (the manifest's 'decoding' entry).
    """
    if rule not in DECODING_RULES:
        raise ValueError(f"unknown decoding rule {rule!r}; known: {DECODING_RULES}")
    hm = np.asarray(heatmaps, dtype=np.float32)
    *lead, h, w, k = hm.shape
    flat = hm.reshape(-1, h * w, k)
    idx = flat.argmax(axis=1)  # [N, K]
    conf = np.take_along_axis(flat, idx[:, None, :], axis=1)[:, 0, :]
    ys, xs = np.divmod(idx, w)
    grid = hm.reshape(-1, h, w, k)
    n_idx = np.arange(grid.shape[0])[:, None]
    k_idx = np.arange(k)[None, :]

    def at(y, x):
        return grid[n_idx, np.clip(y, 0, h - 1), np.clip(x, 0, w - 1), k_idx]

    inner_x, inner_y = (xs > 0) & (xs < w - 1), (ys > 0) & (ys < h - 1)
    if rule == "argmax_quarter_offset":
        dx = np.where(inner_x, 0.25 * np.sign(at(ys, xs + 1) - at(ys, xs - 1)), 0.0)
        dy = np.where(inner_y, 0.25 * np.sign(at(ys + 1, xs) - at(ys - 1, xs)), 0.0)
    else:
        dx = np.where(inner_x, _parabola_offset(at(ys, xs - 1), conf, at(ys, xs + 1)), 0.0)
        dy = np.where(inner_y, _parabola_offset(at(ys - 1, xs), conf, at(ys + 1, xs)), 0.0)
    cells = np.stack([xs + dx, ys + dy], axis=-1).astype(np.float32)
    xy = cell_to_pixel(cells, stride)
    return xy.reshape(*lead, k, 2), conf.reshape(*lead, k)
