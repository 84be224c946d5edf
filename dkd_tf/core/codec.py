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
      neighbour;
  'argmax_smoothed_log_parabola': argmax and peak value as above, the log-parabola taken on the
      heatmap smoothed by a Gaussian of SMOOTH_SIGMA cells (DARK's modulation, Zhang et al., CVPR
      2020: a heatmap that is no clean Gaussian, e.g. a coarser map resized up, gives noisy
      three-sample offsets, which a video sees as jitter).
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


DECODING_RULES = ("argmax_log_parabola", "argmax_quarter_offset", "argmax_smoothed_log_parabola")
DEFAULT_DECODING = "argmax_log_parabola"
PARABOLA_FLOOR = 0.01  # neighbours are floored at this fraction of the peak before the log
# 'argmax_smoothed_log_parabola': Gaussian std (heatmap cells) and taps each side (3 sigma).
# 1.5 was chosen on the tuning clips (docs/experiments.md, "Decoding a smoothed heatmap").
SMOOTH_SIGMA = 1.5
SMOOTH_RADIUS = 5


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


def smoothing_taps() -> np.ndarray:
    """The 1-D Gaussian of 'argmax_smoothed_log_parabola': [2R + 1] float64, sum 1."""
    i = np.arange(-SMOOTH_RADIUS, SMOOTH_RADIUS + 1, dtype=np.float64)
    taps = np.exp(-i * i / (2.0 * SMOOTH_SIGMA * SMOOTH_SIGMA))
    return taps / taps.sum()


def _smoothed_around(grid, ys, xs):
    """The heatmap smoothed by smoothing_taps on both axes (edge cells repeated beyond the
    border) at each chosen cell and its 8 neighbours: grid [N, h, w, K], ys, xs [N, K] ->
    [N, K, 3, 3] float32 (rows y-1..y+1, columns x-1..x+1). Only these 9 values are made, in
    float64 (the Java twin sums in double; both round to float32 once)."""
    n, h, w, k = grid.shape
    r = SMOOTH_RADIUS
    steps = np.arange(-r - 1, r + 2)  # the patch the 3 x 3 cells' windows cover
    rows = np.clip(ys[..., None] + steps, 0, h - 1)  # [N, K, P]
    cols = np.clip(xs[..., None] + steps, 0, w - 1)
    patch = grid[np.arange(n)[:, None, None, None], rows[..., :, None], cols[..., None, :],
                 np.arange(k)[None, :, None, None]].astype(np.float64)  # [N, K, P, P]
    band = np.zeros((3, 2 * r + 3))
    for j in range(3):
        band[j, j:j + 2 * r + 1] = smoothing_taps()
    return (band @ patch @ band.T).astype(np.float32)


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
    _check_rule(rule)
    hm = np.asarray(heatmaps, dtype=np.float32)
    *lead, h, w, k = hm.shape
    idx = hm.reshape(-1, h * w, k).argmax(axis=1)  # [N, K]
    xy, conf = _refine_cells(hm.reshape(-1, h, w, k), idx, stride, rule)
    return xy.reshape(*lead, k, 2), conf.reshape(*lead, k)


def decode_near(heatmaps: np.ndarray, stride: int, rule: str, prior_xy, prior_ok, sigma: float):
    """decode_heatmaps of one heatmap set [h, w, K], each joint's peak looked for near where it
    was: the cell maximizing H_k(c) exp(-|c - p_k|^2 / (2 sigma^2)), p_k = prior_xy[k] (input
    pixels, e.g. the last frame's keypoint mapped into this crop), for the joints where
    prior_ok [K] is true (the others: the plain argmax). The position is refined and the
    confidence read on the unweighted heatmap at that cell, as the rule does at an argmax.

    A person who walks past in front puts a second, often stronger, peak in the crop; the
    weight keeps each joint on the peak that continues its own track (sigma: input pixels).
    """
    _check_rule(rule)
    hm = np.asarray(heatmaps, dtype=np.float32)
    h, w, k = hm.shape
    ys, xs = np.mgrid[0:h, 0:w]
    centres = cell_to_pixel(np.stack([xs, ys], -1).astype(np.float32), stride)  # [h, w, 2]
    prior_xy = np.asarray(prior_xy, np.float32)
    d2 = np.sum(np.square(centres[:, :, None, :] - prior_xy[None, None]), axis=-1)  # [h, w, K]
    weight = np.where(np.asarray(prior_ok, bool)[None, None, :],
                      np.exp(-d2 / np.float32(2.0 * sigma * sigma)), np.float32(1.0))
    idx = (hm * weight).reshape(1, h * w, k).argmax(axis=1)
    xy, conf = _refine_cells(hm[None], idx, stride, rule)
    return xy[0], conf[0]


def _check_rule(rule):
    if rule not in DECODING_RULES:
        raise ValueError(f"unknown decoding rule {rule!r}; known: {DECODING_RULES}")


def _refine_cells(grid, idx, stride, rule):
    """The rule's sub-cell position and the peak value at chosen cells: grid [N, h, w, K],
    idx [N, K] flat cell indices -> (xy [N, K, 2] input pixels, conf [N, K])."""
    n, h, w, k = grid.shape
    ys, xs = np.divmod(idx, w)
    n_idx = np.arange(n)[:, None]
    k_idx = np.arange(k)[None, :]
    conf = grid[n_idx, ys, xs, k_idx]

    def at(y, x):
        return grid[n_idx, np.clip(y, 0, h - 1), np.clip(x, 0, w - 1), k_idx]

    inner_x, inner_y = (xs > 0) & (xs < w - 1), (ys > 0) & (ys < h - 1)
    if rule == "argmax_quarter_offset":
        dx = np.where(inner_x, 0.25 * np.sign(at(ys, xs + 1) - at(ys, xs - 1)), 0.0)
        dy = np.where(inner_y, 0.25 * np.sign(at(ys + 1, xs) - at(ys - 1, xs)), 0.0)
    else:  # the log-parabola through the peak cell and its neighbours, raw or smoothed
        if rule == "argmax_smoothed_log_parabola":
            s = _smoothed_around(grid, ys, xs)  # [N, K, 3, 3]
            left, centre, right, up, down = (s[..., 1, 0], s[..., 1, 1], s[..., 1, 2],
                                             s[..., 0, 1], s[..., 2, 1])
        else:
            left, centre, right = at(ys, xs - 1), conf, at(ys, xs + 1)
            up, down = at(ys - 1, xs), at(ys + 1, xs)
        # At an argmax the vertex lies within half a cell; decode_near's cell need not be a
        # local maximum of the heatmap, so the offset is held to that half cell.
        dx = np.where(inner_x, np.clip(_parabola_offset(left, centre, right), -0.5, 0.5), 0.0)
        dy = np.where(inner_y, np.clip(_parabola_offset(up, centre, down), -0.5, 0.5), 0.0)
    cells = np.stack([xs + dx, ys + dy], axis=-1).astype(np.float32)
    return cell_to_pixel(cells, stride), conf
