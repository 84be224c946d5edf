"""The square person crop of a frame, in numpy and OpenCV: the crop of training and evaluation.

crop_frame computes dkd_tf.data.transforms' crop (the matrix of dkd_tf.core.crop_geometry: the
box's centre, its longer side x CROP_MARGIN) with cv2.warpAffine, so streaming, export checks
and teacher labelling crop frames exactly as the model saw them in training, without
TensorFlow.
"""
from __future__ import annotations

import cv2
import numpy as np

from dkd_tf.core import crop_geometry
from dkd_tf.data.video_frames import StreamError

# What an evaluation crops around: the ground-truth person box, or the whole frame (as a
# single-person peer with no box sees it).
VIEWS = ("box", "image")


def full_frame_box(height: int, width: int) -> np.ndarray:
    """The person box whose crop (box side * CROP_MARGIN) just covers the whole frame."""
    side = max(height, width) / crop_geometry.CROP_MARGIN
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)


def crop_frame(image: np.ndarray, box, input_size: int):
    """The model's input crop of a person box, as training and evaluation crop it.

    image: [H, W, 3] (uint8 RGB); box: (x1, y1, x2, y2) frame pixels. Returns (crop float32
    [1, S, S, 3], matrix float64 [3, 3] frame -> crop pixels, centre [2], size): the matrix of
    transforms.crop_matrix (no rotation, no flip: the one formula, core.crop_geometry), and the
    bilinear, zero-filled warp of transforms.warp_image done by cv2.warpAffine (equal to
    2e-4 of a pixel value, tested). Those eager TensorFlow ops took about 15 ms a frame on the
    2-core benchmark machine, more than the demo model; this takes 0.3 ms."""
    box = np.asarray(box, np.float32)
    center = (box[:2] + box[2:]) / np.float32(2.0)
    size = np.maximum(np.max(box[2:] - box[:2]), np.float32(1.0))
    one, zero = np.float32(1.0), np.float32(0.0)  # scale 1, no rotation (cos 1, sin 0), no flip
    r00, r01, tx, r10, r11, ty = crop_geometry.crop_affine(
        center[0], center[1], size, input_size, one, one, zero, one)
    matrix = np.array([[r00, r01, tx], [r10, r11, ty], [0.0, 0.0, 1.0]], np.float32)
    crop = cv2.warpAffine(np.asarray(image, np.float32), matrix[:2], (input_size, input_size),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return crop[None], matrix.astype(np.float64), center, size


# A crop less than this share frame (the rest is the zero fill beyond the frame's edges) has its
# confidences scaled down in proportion: a model answers about 0.47 on a black crop, which would
# keep a box off the frame "confident" and re-initialization (threshold 0.1) from ever firing.
# Every crop of the whole frame of an aspect ratio up to 4:1 holds at least this share.
MIN_FRAME_SHARE = 0.25


def check_box(box, frame_shape=None, what: str = "box") -> np.ndarray:
    """The box as float32 [4] after checking it: four finite numbers x1,y1,x2,y2 with x2 > x1,
    y2 > y1 and, when frame_shape (H, W, ...) is given, overlapping the frame. StreamError
    otherwise (a NaN or off-frame box used to run, and report a pose, without a word)."""
    arr = np.asarray(box, np.float64).reshape(-1) if box is not None else np.zeros(0)
    shown = np.array2string(arr, precision=2, separator=", ") if arr.size <= 8 else "(...)"
    if arr.shape != (4,) or not np.all(np.isfinite(arr)):
        raise StreamError(f"{what} {shown}: expected four finite numbers x1, y1, x2, y2")
    if not (arr[2] > arr[0] and arr[3] > arr[1]):
        raise StreamError(f"{what} {shown}: has no area (needs x2 > x1 and y2 > y1)")
    if frame_shape is not None:
        h, w = frame_shape[:2]
        if arr[2] <= 0 or arr[3] <= 0 or arr[0] >= w or arr[1] >= h:
            raise StreamError(f"{what} {shown}: lies outside the {w}x{h} frame")
    return arr.astype(np.float32)


def frame_share(crop_region, height: int, width: int) -> float:
    """The share of a crop region (x1, y1, x2, y2 in frame pixels) that lies inside the frame
    (pixel centres 0..W-1, so the frame spans -0.5..W-0.5)."""
    x1, y1, x2, y2 = (float(v) for v in crop_region)
    area = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    if area <= 0:
        return 0.0
    ix = max(0.0, min(x2, width - 0.5) - max(x1, -0.5))
    iy = max(0.0, min(y2, height - 0.5) - max(y1, -0.5))
    return min(1.0, ix * iy / area)


def parse_bbox(text: str) -> np.ndarray | None:
    if not text:
        return None
    try:
        box = np.array([float(v) for v in text.split(",")], np.float32)
    except ValueError:
        raise StreamError(f"--bbox {text!r}: expected four numbers x1,y1,x2,y2") from None
    if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
        raise StreamError(f"--bbox {text!r}: expected x1,y1,x2,y2 with x2 > x1 and y2 > y1")
    return check_box(box, what="--bbox")
