"""Leeds Sports Pose (LSP) and LSP extended (LSPET) readers: single labelled photos.

On disk (as published):
  lsp/joints.mat    'joints' [3, 14, 2000]: x, y, flag; the flag is 0 for most joints and
                    marks occluded ones (every joint is labelled, so all count in PCK)
  lsp/images/im0001.jpg .. im2000.jpg
  lspet/joints.mat  'joints' [14, 3, 10000]: x, y, flag; the flag is 1 for a labelled visible
                    joint, 0 for an unlabelled one (whose coordinates lie outside the image)
  lspet/images/im00001.jpg .. im10000.jpg
Coordinates are MATLAB's 1-based pixels; they become 0-based like every other reader's. Each
photo becomes a 1-frame VideoRecord whose box bounds its labelled joints, so the clip pipeline
and single-frame training need no second path. The usual protocol trains on LSP 1-1000 (plus all
of LSPET) and tests on LSP 1001-2000 (TEST_START).
"""
from __future__ import annotations

import os

import numpy as np
import scipy.io

from dkd_tf.core import joints as joints_lib
from dkd_tf.data.frames import image_size
from dkd_tf.data.records import DatasetError, VideoRecord

JOINT_SET = joints_lib.LSP
TEST_START = 1000  # 0-based index of the first LSP test photo (im1001)


def read_joints(path: str, layout: str) -> np.ndarray:
    """joints.mat -> float64 [N, 14, 3] (x, y, flag) from either layout ('lsp': 3 x 14 x N,
    'lspet': 14 x 3 x N)."""
    if not os.path.isfile(path):
        raise DatasetError(path, "joints.mat is missing")
    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # scipy raises ValueError, TypeError, MatReadError... on bad files
        raise DatasetError(path, f"not a readable MATLAB file ({type(e).__name__}: {e})") from None
    if "joints" not in mat:
        raise DatasetError(path, "has no 'joints' matrix")
    j = np.asarray(mat["joints"], np.float64)
    k = JOINT_SET.num_joints
    want = (3, k) if layout == "lsp" else (k, 3)
    if j.ndim != 3 or j.shape[:2] != want:
        raise DatasetError(path, f"'joints' has shape {j.shape}, expected {want + ('N',)} "
                                 f"({layout} layout)")
    j = j.transpose(2, 1, 0) if layout == "lsp" else j.transpose(2, 0, 1)
    if not np.all(np.isfinite(j)):
        raise DatasetError(path, "'joints' contains NaN/inf")
    return j


def _records(root, layout, indices, split, digits, labelled_fn) -> list[VideoRecord]:
    path = os.path.join(root, "joints.mat")
    table = read_joints(path, layout)
    if indices.stop > len(table):
        raise DatasetError(path, f"has {len(table)} photos, expected at least {indices.stop}")
    records = []
    for i in range(indices.start, indices.stop):
        image = os.path.join(root, "images", f"im{i + 1:0{digits}d}.jpg")
        xy = table[i, :, :2] - 1.0  # 1-based -> 0-based
        h, w = image_size(image, path)
        labelled = labelled_fn(table[i], (h, w))
        if labelled.sum() < 2:
            continue  # no person box can be drawn around fewer than two joints
        pts = xy[labelled > 0]
        box = np.concatenate([pts.min(0), pts.max(0)]).astype(np.float32)
        records.append(VideoRecord(
            video_id=f"{os.path.basename(os.path.normpath(root))}_{i + 1:0{digits}d}",
            frame_paths=[image], joints=xy.astype(np.float32)[None],
            visibility=labelled.astype(np.float32)[None], bboxes=box[None],
            joint_set=JOINT_SET.name, split=split, image_size=(h, w)).validate(
                f"{path} (photo {i + 1})"))
    return records


def _lsp_labelled(row, size):
    return np.ones(len(row), np.float32)  # every LSP joint is labelled; the flag is occlusion


def _lspet_labelled(row, size):
    h, w = size
    inside = (row[:, 0] >= 1) & (row[:, 0] <= w) & (row[:, 1] >= 1) & (row[:, 1] <= h)
    return ((row[:, 2] > 0) & inside).astype(np.float32)


def read_lsp(root, subset: str) -> list[VideoRecord]:
    """LSP photos of `subset`: 'train' (1-1000) or 'test' (1001-2000)."""
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    n = len(read_joints(os.path.join(root, "joints.mat"), "lsp"))
    indices = range(0, min(TEST_START, n)) if subset == "train" else range(TEST_START, n)
    return _records(os.fspath(root), "lsp", indices, subset, 4, _lsp_labelled)


def read_lspet(root) -> list[VideoRecord]:
    """Every LSPET photo (training only) with its labelled joints; photos with fewer than two
    labelled joints are left out."""
    n = len(read_joints(os.path.join(root, "joints.mat"), "lspet"))
    return _records(os.fspath(root), "lspet", range(n), "train", 5, _lspet_labelled)


def read_split(data_dir, subset: str, extended: bool) -> list[VideoRecord]:
    """data_dir holds lsp/ (and lspet/ when `extended`): LSP's subset, plus all of LSPET in
    'train' when extended."""
    records = read_lsp(os.path.join(data_dir, "lsp"), subset)
    if extended and subset == "train":
        records += read_lspet(os.path.join(data_dir, "lspet"))
    return records
