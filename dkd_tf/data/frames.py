"""Frame image I/O. One place decides the pixel convention: uint8 RGB, [H, W, 3].

OpenCV reads and writes BGR; every caller in the project works in RGB (the exported graphs take
RGB 0..255), so the conversion lives here and nowhere else.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

from dkd_tf.data.records import DatasetError


def load_frame(path) -> np.ndarray:
    """Read an image file as uint8 RGB [H, W, 3].

    cv2.imread returns None silently on any failure, so the cause is reported explicitly; the
    error names the file because a data set has thousands of them.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DatasetError(path, "frame file is missing")
    # imdecode via np.fromfile also handles non-ASCII paths, which imread does not on all OSes.
    try:
        buf = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DatasetError(path, f"cannot read frame file ({e})") from None
    if buf.size == 0:
        raise DatasetError(path, "frame file is empty")
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None:
        raise DatasetError(path, "cannot decode image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def save_frame(path, rgb, quality: int = 90) -> None:
    """Write uint8 RGB [H, W, 3] (or [H, W] gray) as JPEG or PNG, chosen by the extension."""
    path = os.fspath(path)
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        raise ValueError(f"frame must be uint8, got {rgb.dtype}")
    if rgb.ndim == 3 and rgb.shape[2] == 3:
        img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    elif rgb.ndim == 2:
        img = rgb
    else:
        raise ValueError(f"frame must be [H, W, 3] or [H, W], got shape {rgb.shape}")
    ext = os.path.splitext(path)[1].lower()
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == ".png":
        params = []
    else:
        raise ValueError(f"{path}: unsupported image extension {ext!r} (use .jpg or .png)")
    ok, data = cv2.imencode(ext, img, params)
    if not ok:
        raise OSError(f"{path}: cv2 failed to encode the image")
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    data.tofile(path)


def image_size(path, listed_in) -> tuple[int, int]:
    """(H, W) of an image from its header only (PIL does not decode the pixels): single-photo
    readers (MPII, LSP) record every photo's size without decoding thousands of them."""
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DatasetError(path, f"image is missing (listed in {listed_in})")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError) as e:
        raise DatasetError(path, f"cannot read image ({e})") from None
    return int(h), int(w)
