"""Situation tags of the synthetic videos: what the generator did in each frame and to each joint.

The generator (dkd_tf.data.synthetic) knows exactly what makes a frame hard. It writes one sidecar
file per video beside the Penn Action labels, which the Penn Action reader never looks at:

    ROOT/tags/NNNN.json   {"format": "dkd_tf.synthetic_tags", "version": 1, "video_id",
                           "num_frames": T, "joints": [13 names], "distractor_in_front": bool,
                           "thresholds": {...},
                           "frame": {name: [T] 0/1 or float}, "joint": {name: [T][13] 0/1}}

Recorded tags (T frames, K = 13 Penn Action joints):
  frame  distractor_overlap  the distractor's box (its joints' extent + 10 %, clipped to the
                             image, as the subject's label box) intersects the subject's box with
                             positive area; `distractor_in_front` (per video) says which is drawn
                             on top;
  frame  blurred             the frame was motion-blurred;
  frame  camera_change       |s_t / s_{t-1} - 1| + |theta_t - theta_{t-1}|: the fraction of its
                             distance from the image centre that a point moves in one frame by
                             the camera's zoom (scale s) and roll (theta, radians) alone;
  frame  fast_camera         camera_change > FAST_CAMERA_THRESHOLD (0.015: 1.5 % per frame,
                             e.g. 0.75 px at 50 px from the centre; the fastest fifth of the
                             frames of 40-frame videos, whose zoom and roll are slow curves);
  joint  occluded            the joint is in the image and its pixel is mostly covered (mask >
                             127, the visibility rule) by an occluder shape (not the distractor);
  joint  limbs_crossing      the left and right arm (shoulder-elbow-wrist) or leg (hip-knee-
                             ankle) polylines properly intersect in the image (the elbows and
                             wrists, or knees and ankles, are tagged), or the wrists' (ankles')
                             image-x order flips between consecutive frames (the pair is tagged
                             in both frames).

Scoring tags (`VideoTags.masks`, [T, K] bool each; frame tags cover every joint of the frame):
TAG_NAMES below, plus 'clean' = no tag. PCK counts only visible joints, so a joint that is itself
occluded never scores; 'occluder' scores the other joints of frames with an occluded joint, and
'after_occlusion' a joint in the AFTER_OCCLUSION_FRAMES frames after it was occluded.
"""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from dkd_tf.core import joints as joints_lib
from dkd_tf.data.records import DatasetError

FORMAT = "dkd_tf.synthetic_tags"
VERSION = 1
TAGS_DIR = "tags"
JOINT_SET = joints_lib.PENN_ACTION
FAST_CAMERA_THRESHOLD = 0.015
AFTER_OCCLUSION_FRAMES = 5
FRAME_FLAGS = ("distractor_overlap", "blurred", "fast_camera")
FRAME_VALUES = ("camera_change",)
JOINT_FLAGS = ("occluded", "limbs_crossing")
TAG_NAMES = ("distractor_front", "distractor_behind", "occluder", "after_occlusion", "blur",
             "fast_camera", "limbs_crossing")
CLEAN = "clean"
_HINT = ("add tags to a synthetic set with `python -m dkd_tf.make_synthetic --tags_only --out "
         "ROOT --seed S`")


def tag_path(root, video_id) -> str:
    return os.path.join(os.fspath(root), TAGS_DIR, f"{int(video_id):04d}.json")


# ---------------------------------------------------------------------- geometry (pure)
def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def segments_cross(p1, p2, q1, q2) -> bool:
    """Whether segments p1-p2 and q1-q2 properly intersect (touching or collinear: no)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def boxes_overlap(a, b) -> bool:
    """Whether (x1, y1, x2, y2) boxes intersect with positive area."""
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


_J = {n: JOINT_SET.index(n) for n in JOINT_SET.names}
_CHAINS = (  # (left chain, right chain, joints tagged when they cross)
    (("l_shoulder", "l_elbow", "l_wrist"), ("r_shoulder", "r_elbow", "r_wrist"),
     ("l_elbow", "l_wrist", "r_elbow", "r_wrist")),
    (("l_hip", "l_knee", "l_ankle"), ("r_hip", "r_knee", "r_ankle"),
     ("l_knee", "l_ankle", "r_knee", "r_ankle")),
)
_X_ORDER_PAIRS = (("l_wrist", "r_wrist"), ("l_ankle", "r_ankle"))


def limbs_crossing(joints) -> np.ndarray:
    """[T, K] bool from joints [T, K, 2] (Penn Action order); see the module docstring."""
    j = np.asarray(joints, np.float64)
    t_total = j.shape[0]
    out = np.zeros(j.shape[:2], bool)
    for left, right, tagged in _CHAINS:
        idx = [_J[n] for n in tagged]
        for t in range(t_total):
            segs_l = [(j[t, _J[a]], j[t, _J[b]]) for a, b in zip(left[:-1], left[1:])]
            segs_r = [(j[t, _J[a]], j[t, _J[b]]) for a, b in zip(right[:-1], right[1:])]
            if any(segments_cross(*sl, *sr) for sl in segs_l for sr in segs_r):
                out[t, idx] = True
    for a, b in _X_ORDER_PAIRS:
        sign = np.sign(j[:, _J[a], 0] - j[:, _J[b], 0])
        flips = np.flatnonzero(sign[1:] * sign[:-1] < 0)  # t-1 -> t flips at t = flips + 1
        for t in flips:
            out[t:t + 2, [_J[a], _J[b]]] = True
    return out


def after_occlusion(occluded, frames: int = AFTER_OCCLUSION_FRAMES) -> np.ndarray:
    """[T, K] bool: not occluded now, occluded in one of the previous `frames` frames."""
    occ = np.asarray(occluded, bool)
    recent = np.zeros_like(occ)
    for d in range(1, frames + 1):
        recent[d:] |= occ[:-d]
    return recent & ~occ


# ---------------------------------------------------------------------- the tags of one video
@dataclasses.dataclass
class VideoTags:
    """Tags of one video. frame: {name: bool [T]}, values: {name: float [T]},
    joint: {name: bool [T, K]}, distractor_in_front: which figure is drawn on top."""

    video_id: str
    distractor_in_front: bool
    frame: dict
    values: dict
    joint: dict
    thresholds: dict = dataclasses.field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(len(self.frame["blurred"]))

    def masks(self) -> dict:
        """{scoring tag: bool [T, K]} for TAG_NAMES and 'clean' (none of them), in that order."""
        k = JOINT_SET.num_joints
        whole = lambda f: np.repeat(np.asarray(f, bool)[:, None], k, axis=1)  # noqa: E731
        overlap = self.frame["distractor_overlap"]
        occ = self.joint["occluded"]
        out = {
            "distractor_front": whole(overlap & self.distractor_in_front),
            "distractor_behind": whole(overlap & (not self.distractor_in_front)),
            "occluder": whole(occ.any(axis=1)),
            "after_occlusion": after_occlusion(occ),
            "blur": whole(self.frame["blurred"]),
            "fast_camera": whole(self.frame["fast_camera"]),
            "limbs_crossing": self.joint["limbs_crossing"].copy(),
        }
        out[CLEAN] = ~np.any(np.stack(list(out.values())), axis=0)
        return out

    def to_json(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION, "video_id": self.video_id,
            "num_frames": self.num_frames, "joints": list(JOINT_SET.names),
            "distractor_in_front": bool(self.distractor_in_front),
            "thresholds": dict(self.thresholds),
            "frame": {**{n: np.asarray(self.frame[n], int).tolist() for n in FRAME_FLAGS},
                      **{n: [round(float(v), 6) for v in self.values[n]] for n in FRAME_VALUES}},
            "joint": {n: np.asarray(self.joint[n], int).tolist() for n in JOINT_FLAGS},
        }


def make_tags(video_id, joints, distractor_overlap, distractor_in_front, blurred,
              camera_change, occluded) -> VideoTags:
    """Tags from what the generator recorded: joints [T, K, 2]; distractor_overlap, blurred,
    camera_change [T]; occluded [T, K]."""
    change = np.asarray(camera_change, np.float64)
    return VideoTags(
        video_id=f"{int(video_id):04d}",
        distractor_in_front=bool(distractor_in_front),
        frame={"distractor_overlap": np.asarray(distractor_overlap, bool),
               "blurred": np.asarray(blurred, bool),
               "fast_camera": change > FAST_CAMERA_THRESHOLD},
        values={"camera_change": change},
        joint={"occluded": np.asarray(occluded, bool), "limbs_crossing": limbs_crossing(joints)},
        thresholds={"fast_camera": FAST_CAMERA_THRESHOLD},
    )


def write_tags(root, tags: VideoTags) -> str:
    """Write ROOT/tags/NNNN.json; returns its path."""
    path = tag_path(root, tags.video_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(tags.to_json(), f, separators=(",", ":"))
    os.replace(tmp, path)
    return path


def _array(doc, section, name, shape, path, dtype):
    try:
        a = np.asarray(doc[section][name], dtype=np.float64)
    except KeyError:
        raise DatasetError(path, f"tags file has no {section} tag {name!r}") from None
    except (TypeError, ValueError):
        raise DatasetError(path, f"{section} tag {name!r} is not a numeric array") from None
    if a.shape != shape:
        raise DatasetError(path, f"{section} tag {name!r} has shape {a.shape}, expected {shape}")
    return a.astype(dtype) if dtype is not bool else a > 0


def read_tags(root, video_id, num_frames: int | None = None) -> VideoTags:
    """Load ROOT/tags/NNNN.json; DatasetError naming the file when it is missing or corrupt, or
    when its frame count differs from `num_frames` (the labels')."""
    path = tag_path(root, video_id)
    if not os.path.isfile(path):
        raise DatasetError(path, f"tags file is missing ({_HINT})")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(path, f"corrupt tags file, not JSON ({e}; {_HINT})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DatasetError(path, f"not a tags file (no \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise DatasetError(path, f"tags format version {doc.get('version')!r}, this code reads "
                                 f"{VERSION} ({_HINT})")
    if not isinstance(doc.get("frame"), dict) or not isinstance(doc.get("joint"), dict):
        raise DatasetError(path, "tags file lacks its 'frame' or 'joint' section")
    t = doc.get("num_frames")
    if not isinstance(t, int) or t < 1:
        raise DatasetError(path, f"num_frames is {t!r}, expected a positive integer")
    if num_frames is not None and t != int(num_frames):
        raise DatasetError(path, f"tags are for {t} frames, the labels have {num_frames} "
                                 f"(stale tags? {_HINT})")
    k = JOINT_SET.num_joints
    return VideoTags(
        video_id=f"{int(video_id):04d}",
        distractor_in_front=bool(doc.get("distractor_in_front", False)),
        frame={n: _array(doc, "frame", n, (t,), path, bool) for n in FRAME_FLAGS},
        values={n: _array(doc, "frame", n, (t,), path, np.float64) for n in FRAME_VALUES},
        joint={n: _array(doc, "joint", n, (t, k), path, bool) for n in JOINT_FLAGS},
        thresholds=dict(doc.get("thresholds") or {}),
    )


def read_records_tags(root, records) -> dict:
    """{video_id: VideoTags} for VideoRecords of the data set at `root`."""
    return {rec.video_id: read_tags(root, rec.video_id, rec.num_frames) for rec in records}
