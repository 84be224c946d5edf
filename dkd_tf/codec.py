"""Heatmap targets and keypoint decoding: the one encode/decode rule of the project.

Pixel convention: integer pixel coordinates are pixel centres (0-based). Heatmap cell (i, j)
covers input pixels [8j, 8j + 8) horizontally, so its centre is at x = (j + 0.5) * stride - 0.5.
Decoding (DESIGN.md, shared with the Android app through golden vectors): argmax per joint, a
quarter-cell shift towards the larger neighbour, then x_img = (x_cell + 0.5) * stride - 0.5.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf


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
    cells = pixel_to_cell(tf.cast(joints, tf.float32), float(stride))
    ys = tf.range(height, dtype=tf.float32)[:, None, None]
    xs = tf.range(width, dtype=tf.float32)[None, :, None]
    d2 = tf.square(xs - cells[None, None, :, 0]) + tf.square(ys - cells[None, None, :, 1])
    maps = tf.exp(-d2 / (2.0 * sigma * sigma))
    return maps * tf.cast(weights > 0, tf.float32)[None, None, :]


def decode_heatmaps(heatmaps: np.ndarray, stride: int):
    """Keypoints from heatmaps [..., h, w, K] -> (xy [..., K, 2] input pixels, conf [..., K])."""
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

    dx = np.where((xs > 0) & (xs < w - 1), np.sign(at(ys, xs + 1) - at(ys, xs - 1)), 0.0)
    dy = np.where((ys > 0) & (ys < h - 1), np.sign(at(ys + 1, xs) - at(ys - 1, xs)), 0.0)
    cells = np.stack([xs + 0.25 * dx, ys + 0.25 * dy], axis=-1).astype(np.float32)
    xy = cell_to_pixel(cells, stride)
    return xy.reshape(*lead, k, 2), conf.reshape(*lead, k)
