"""MPII Human Pose reader (single images, for pretraining P and F, sec. 4.1).

Reads the widely used JSON annotation (the one shipped with SimpleBaselines/HRNet):
ROOT/annot/{train,valid}.json, each a list of
  {"image": "015601864.jpg", "center": [x, y], "scale": s, "joints": [[x, y] x 16],
   "joints_vis": [0|1 x 16]}
with images in ROOT/images/. Coordinates there are MATLAB 1-based (as in the original .mat
release); they become 0-based here, like every other reader. Each annotated person becomes a
1-frame VideoRecord so the pretraining pipeline needs no second code path.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

from dkd_tf.core import joints as joints_lib
from dkd_tf.data.frames import image_size
from dkd_tf.data.records import DatasetError, VideoRecord

JOINT_SET = joints_lib.MPII
# JSON file -> VideoRecord.split ('valid' is the labelled held-out set, used as test).
SPLITS = {"train": "train", "valid": "test"}
# The MPII scale is the person height in units of 200 px.
SCALE_PX = 200.0


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parse_entry(path, i, entry):
    """Validate one annotation dict -> (image, center [2], scale, joints [16, 2], vis [16])."""
    k = JOINT_SET.num_joints
    if not isinstance(entry, dict):
        raise DatasetError(path, f"entry {i}: expected an object, got {type(entry).__name__}")
    missing = [f for f in ("image", "center", "scale", "joints", "joints_vis") if f not in entry]
    if missing:
        raise DatasetError(path, f"entry {i}: missing field(s) {missing}")
    image = entry["image"]
    if not isinstance(image, str) or not image:
        raise DatasetError(path, f"entry {i}: 'image' must be a file name, got {image!r}")
    center = entry["center"]
    if not (isinstance(center, list) and len(center) == 2 and all(map(_number, center))):
        raise DatasetError(path, f"entry {i}: 'center' must be [x, y], got {center!r}")
    scale = entry["scale"]
    if not (_number(scale) and scale > 0):
        raise DatasetError(path, f"entry {i}: 'scale' must be a positive number, got {scale!r}")
    try:
        joints = np.asarray(entry["joints"], dtype=np.float64)
        vis = np.asarray(entry["joints_vis"], dtype=np.float64)
    except (TypeError, ValueError):
        raise DatasetError(path, f"entry {i}: 'joints'/'joints_vis' are not numeric arrays"
                           ) from None
    if joints.shape != (k, 2):
        raise DatasetError(path, f"entry {i}: 'joints' has shape {joints.shape}, expected "
                                 f"({k}, 2) for MPII's {k} joints")
    if vis.shape != (k,):
        raise DatasetError(path, f"entry {i}: 'joints_vis' has shape {vis.shape}, expected "
                                 f"({k},)")
    if not (np.all(np.isfinite(joints)) and np.all(np.isfinite(vis))):
        raise DatasetError(path, f"entry {i}: joints contain NaN/inf")
    return image, np.asarray(center, dtype=np.float64), float(scale), joints, vis


def read_annotations(root, split: str) -> list[VideoRecord]:
    """All people of ROOT/annot/<split>.json (split 'train' | 'valid') as 1-frame records.

    video_id is '<image stem>_<n>', n counting the people of the same image in file order, so
    ids are unique although MPII images hold several people.
    """
    if split not in SPLITS:
        raise ValueError(f"MPII split must be one of {tuple(SPLITS)}, got {split!r}")
    root = os.fspath(root)
    path = os.path.join(root, "annot", f"{split}.json")
    if not os.path.isfile(path):
        raise DatasetError(path, "annotation file is missing")
    try:
        with open(path) as f:
            entries = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(path, f"malformed JSON ({e})") from None
    if not isinstance(entries, list):
        raise DatasetError(path, f"expected a list of annotations, got {type(entries).__name__}")

    image_dir = os.path.join(root, "images")
    sizes: dict[str, tuple[int, int]] = {}
    per_image: dict[str, int] = {}
    records = []
    for i, entry in enumerate(entries):
        image, center, scale, joints, vis = _parse_entry(path, i, entry)
        image_path = os.path.join(image_dir, image)
        if image not in sizes:
            sizes[image] = image_size(image_path, f"{path}, entry {i}")
        n = per_image.get(image, 0)
        per_image[image] = n + 1
        c = center - 1.0                                  # 1-based -> 0-based
        half = scale * SCALE_PX / 2.0
        record = VideoRecord(
            video_id=f"{os.path.splitext(image)[0]}_{n}",
            frame_paths=[image_path],
            joints=(joints - 1.0).astype(np.float32)[None],
            visibility=(vis > 0).astype(np.float32)[None],
            bboxes=np.array([[c[0] - half, c[1] - half, c[0] + half, c[1] + half]],
                            dtype=np.float32),
            joint_set=JOINT_SET.name,
            split=SPLITS[split],
            action="",
            image_size=sizes[image],
        )
        records.append(record.validate(f"{path} (entry {i})"))
    return records
