"""Sub-JHMDB (Jhuang et al. 2013) reader: the official on-disk layout -> VideoRecord.

Layout under ROOT:
  joint_positions/<action>/<video>/joint_positions.mat   pos_img 2 x 15 x T, 1-based pixels
  Rename_Images/<action>/<video>/00001.png ...           frames, 5-digit, 1-based
  puppet_mask/<action>/<video>/puppet_mask.mat           part_mask H x W x T (person silhouette)
  sub_splits/<action>_test_split_<n>.txt                 lines '<video>.avi 1|2' (1 train, 2 test)

Sub-JHMDB labels only complete bodies, so every joint is visible. The person box of a frame is
the tight box of its puppet mask: the data set has no boxes, and the mask is the labelled extent
of the person, which is what PCK's person size should measure.
"""
from __future__ import annotations

import os
import re

import numpy as np
from absl import logging

from dkd_tf.core import joints as joints_lib
from dkd_tf.data.records import DatasetError, VideoRecord, read_all

JOINT_SET = joints_lib.SUB_JHMDB
SPLITS = (1, 2, 3)
SUBSETS = {"train": "1", "test": "2"}
# The brief's form is '<action>_test_split_<n>.txt'; JHMDB's full-data splits drop the last '_',
# so both are accepted.
_SPLIT_FILE_RE = re.compile(r"^(?P<action>.+)_test_split_?(?P<n>\d+)\.txt$")


def _image_size(path) -> tuple[int, int]:
    """(H, W) from the image header only (PIL does not decode the pixels)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except FileNotFoundError:
        raise DatasetError(path, "frame file is missing") from None
    except (UnidentifiedImageError, OSError) as e:
        raise DatasetError(path, f"cannot read image ({e})") from None
    return int(h), int(w)


def _load_mat(path, key: str, what: str) -> np.ndarray:
    """One variable of a MATLAB file; any read failure becomes a DatasetError naming the file."""
    import scipy.io

    if not os.path.isfile(path):
        raise DatasetError(path, f"{what} file is missing")
    try:
        mat = scipy.io.loadmat(path)
    except NotImplementedError as e:   # MATLAB v7.3 (HDF5) files
        raise DatasetError(path, f"unsupported .mat version ({e})") from None
    except Exception as e:  # scipy raises ValueError/TypeError/zlib.error/... for bad bytes
        raise DatasetError(path, f"truncated or corrupt .mat file ({type(e).__name__}: {e})"
                           ) from None
    if key not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise DatasetError(path, f"no variable {key!r} in the .mat file (found {found})")
    try:
        return np.asarray(mat[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise DatasetError(path, f"variable {key!r} is not a numeric array") from None


def _mask_boxes(mask: np.ndarray) -> np.ndarray:
    """Tight (x1, y1, x2, y2) box of the nonzero pixels of each mask[:, :, t]; NaN when empty.

    x2/y2 are the last nonzero column/row (inclusive), in the same 0-based pixel coordinates as
    the joints.
    """
    t = mask.shape[2]
    boxes = np.full((t, 4), np.nan, dtype=np.float64)
    nonzero = mask != 0
    rows_any = nonzero.any(axis=1)   # [H, T]
    cols_any = nonzero.any(axis=0)   # [W, T]
    for i in range(t):
        rows = np.flatnonzero(rows_any[:, i])
        cols = np.flatnonzero(cols_any[:, i])
        if rows.size:
            boxes[i] = (cols[0], rows[0], cols[-1], rows[-1])
    return boxes


def read_video(root, action: str, video: str, split_name: str = "train") -> VideoRecord:
    """One labelled video; video is the name without '.avi'. Joints converted to 0-based."""
    root = os.fspath(root)
    jpath = os.path.join(root, "joint_positions", action, video, "joint_positions.mat")
    pos = _load_mat(jpath, "pos_img", "joint_positions.mat")
    k = JOINT_SET.num_joints
    if pos.ndim == 2 and pos.shape == (2, k):   # a 1-frame video saved without the T axis
        pos = pos[:, :, None]
    if pos.ndim != 3 or pos.shape[:2] != (2, k) or pos.shape[2] == 0:
        raise DatasetError(jpath, f"pos_img has shape {pos.shape}, expected (2, {k}, T)")
    if not np.all(np.isfinite(pos)):
        raise DatasetError(jpath, "pos_img contains NaN/inf")
    joints = (pos.transpose(2, 1, 0) - 1.0).astype(np.float32)   # MATLAB 1-based -> 0-based
    t = joints.shape[0]

    frame_dir = os.path.join(root, "Rename_Images", action, video)
    frame_paths = [os.path.join(frame_dir, f"{i:05d}.png") for i in range(1, t + 1)]
    for i, p in enumerate(frame_paths):
        if not os.path.isfile(p):
            have = (len([f for f in os.listdir(frame_dir) if f.lower().endswith(".png")])
                    if os.path.isdir(frame_dir) else 0)
            raise DatasetError(p, f"frame {i + 1} is missing: {frame_dir} has {have} PNG frames "
                                  f"but {jpath} labels {t}")
    pngs = [f for f in os.listdir(frame_dir) if f.lower().endswith(".png")]
    if len(pngs) > t:  # labels end before the images do: the unlabelled tail is not used
        logging.warning("%s: labels %d frames but %s holds %d PNG frames; only the first %d are "
                        "used", jpath, t, frame_dir, len(pngs), t)
    image_size = _image_size(frame_paths[0])

    mpath = os.path.join(root, "puppet_mask", action, video, "puppet_mask.mat")
    mask = _load_mat(mpath, "part_mask", "puppet mask")
    if mask.ndim == 2:
        mask = mask[:, :, None]
    if mask.ndim != 3:
        raise DatasetError(mpath, f"part_mask has shape {mask.shape}, expected (H, W, T)")
    if mask.shape[:2] != image_size:
        raise DatasetError(mpath, f"part_mask is {mask.shape[0]}x{mask.shape[1]} but the frames "
                                  f"are {image_size[0]}x{image_size[1]}")
    if mask.shape[2] < t:
        raise DatasetError(mpath, f"part_mask has {mask.shape[2]} frames, {jpath} labels {t}")
    boxes = _mask_boxes(mask[:, :, :t])
    # An empty mask frame has no box; the joints' extent is the best remaining estimate.
    empty = np.isnan(boxes[:, 0])
    if empty.any():
        j = joints[empty]
        boxes[empty] = np.stack([j[..., 0].min(1), j[..., 1].min(1),
                                 j[..., 0].max(1), j[..., 1].max(1)], axis=1)

    record = VideoRecord(
        video_id=video,
        frame_paths=frame_paths,
        joints=joints,
        visibility=np.ones(joints.shape[:2], dtype=np.float32),
        bboxes=boxes.astype(np.float32),
        joint_set=JOINT_SET.name,
        split=split_name,
        action=action,
        image_size=image_size,
    )
    return record.validate(jpath)


def split_files(root, split: int) -> dict[str, str]:
    """{action: path of its split file} for split 1, 2 or 3."""
    if split not in SPLITS:
        raise ValueError(f"Sub-JHMDB split must be one of {SPLITS}, got {split!r}")
    d = os.path.join(os.fspath(root), "sub_splits")
    if not os.path.isdir(d):
        raise DatasetError(d, "split directory is missing")
    out = {}
    for name in sorted(os.listdir(d)):
        m = _SPLIT_FILE_RE.match(name)
        if m and int(m.group("n")) == split:
            out[m.group("action")] = os.path.join(d, name)
    if not out:
        raise DatasetError(d, f"no '<action>_test_split_{split}.txt' files")
    return out


def read_split_file(path) -> list[tuple[str, str]]:
    """[(video name without '.avi', 'train' | 'test')] in file order."""
    path = os.fspath(path)
    labels = {v: k for k, v in SUBSETS.items()}
    out = []
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(path, f"cannot read split file ({e})") from None
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise DatasetError(path, f"line {n}: expected '<video>.avi 1|2', got {line!r}")
        name, label = parts
        if label not in labels:
            raise DatasetError(path, f"line {n}: label {label!r} is not 1 (train) or 2 (test)")
        out.append((name[:-4] if name.lower().endswith(".avi") else name, labels[label]))
    return out


def read_split(root, split: int, subset: str) -> list[VideoRecord]:
    """All videos of one subset ('train' | 'test') of split 1, 2 or 3, ordered by action."""
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {tuple(SUBSETS)}, got {subset!r}")
    return read_all(lambda action=action, video=video: read_video(root, action, video, subset)
                    for action, path in split_files(root, split).items()
                    for video, which in read_split_file(path) if which == subset)
