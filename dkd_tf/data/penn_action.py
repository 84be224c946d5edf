"""Penn Action (Zhang et al. 2013) in its exact on-disk format, read and written.

    ROOT/frames/NNNN/NNNNNN.jpg   4-digit video id, 6-digit 1-based frame index
    ROOT/labels/NNNN.mat          MATLAB v5: x, y, visibility (T x 13), bbox (T x 4, x1 y1 x2 y2),
                                  dimensions [H W T], nframes, train (1 / -1), action, pose

Writers may add fields of their own (the teacher labeller's per-joint `confidence`, the photo
clips' `camera` matrices); the reader ignores them and read_field returns one when wanted.

The writer exists so that the synthetic data set and the tests go through the very same reader
as the real data: a bug in the reader cannot hide behind a separate synthetic loader.
"""
from __future__ import annotations

import os

import numpy as np
import scipy.io
from absl import logging

from dkd_tf.core import joints as joints_lib
from dkd_tf.data import frames as frames_lib
from dkd_tf.data.records import DatasetError, VideoRecord, read_all

JOINT_SET = joints_lib.PENN_ACTION
NUM_JOINTS = JOINT_SET.num_joints  # 13
_REQUIRED = ("x", "y", "visibility", "bbox", "train")
SPLITS = ("train", "test", "all")
# Clips written by dkd_tf.label_video: their `action`, and the field naming the joints no
# teacher marks itself (left unlabelled). Clips of that action without the field are from before
# it existed, when the head was labelled with the teachers' nose (Penn Action's head is the head
# top): they are refused rather than read, so they teach or score nobody the wrong head.
TEACHER_ACTION = "teacher_labels"
UNMARKED_FIELD = "unmarked_joints"


def video_dirname(video_id) -> str:
    """'0001' from 1, '1', or '0001': Penn Action ids are 4-digit zero-padded numbers."""
    s = str(video_id)
    if s.isdigit():
        return f"{int(s):04d}"
    raise ValueError(f"Penn Action video ids are numbers, got {video_id!r}")


def label_path(root, video_id) -> str:
    return os.path.join(os.fspath(root), "labels", video_dirname(video_id) + ".mat")


def frame_dir(root, video_id) -> str:
    return os.path.join(os.fspath(root), "frames", video_dirname(video_id))


def frame_name(index0: int) -> str:
    """File name of the frame with 0-based index `index0` (files are numbered from 1)."""
    return f"{index0 + 1:06d}.jpg"


def list_videos(root) -> list[str]:
    """Ids of all videos that have a label file, sorted."""
    labels = os.path.join(os.fspath(root), "labels")
    if not os.path.isdir(labels):
        raise DatasetError(labels, "labels directory is missing (is this a Penn Action root?)")
    ids = []
    for name in os.listdir(labels):
        stem, ext = os.path.splitext(name)
        if ext.lower() == ".mat" and stem.isdigit():
            ids.append(stem)
    return sorted(ids)


def _load_mat(path) -> dict:
    if not os.path.isfile(path):
        raise DatasetError(path, "label file is missing")
    try:
        mat = scipy.io.loadmat(path, squeeze_me=False, struct_as_record=True)
    except Exception as e:  # scipy raises ValueError, TypeError, OSError, MatReadError, ...
        raise DatasetError(path, f"unreadable or truncated .mat file ({type(e).__name__}: {e})"
                           ) from None
    missing = [k for k in _REQUIRED if k not in mat]
    if missing:
        raise DatasetError(path, f"missing required field(s) {missing}; present: "
                                 f"{sorted(k for k in mat if not k.startswith('__'))}")
    return mat


def _numeric(mat, key, path) -> np.ndarray:
    try:
        return np.asarray(mat[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise DatasetError(path, f"field {key!r} is not numeric") from None


def _scalar(mat, key, path) -> float:
    a = _numeric(mat, key, path).ravel()
    if a.size != 1:
        raise DatasetError(path, f"field {key!r} should be a scalar, has {a.size} values")
    return float(a[0])


def _string(mat, key) -> str:
    if key not in mat:
        return ""
    a = np.asarray(mat[key])
    if a.size == 0:
        return ""
    if a.dtype.kind in "US":
        return str(a.ravel()[0]).strip()
    return ""


def read_video(root, video_id) -> VideoRecord:
    """Read one video's labels and check its frames.

    Real-data quirks handled here rather than downstream: videos 1154 and 1865 have one bbox row
    fewer than frames (the previous box is reused), and `dimensions` is not trusted for the image
    size (the first frame is read instead).
    """
    vid = video_dirname(video_id)
    mat_path = label_path(root, vid)
    mat = _load_mat(mat_path)

    x = _numeric(mat, "x", mat_path)
    y = _numeric(mat, "y", mat_path)
    if x.ndim != 2 or x.shape[1] != NUM_JOINTS or x.shape[0] < 1:
        raise DatasetError(mat_path, f"field 'x' has shape {x.shape}, expected (T, {NUM_JOINTS})")
    t = x.shape[0]
    if y.shape != x.shape:
        raise DatasetError(mat_path, f"field 'y' has shape {y.shape}, 'x' has {x.shape}")
    vis = _numeric(mat, "visibility", mat_path)
    if vis.shape != x.shape:
        raise DatasetError(mat_path, f"field 'visibility' has shape {vis.shape}, "
                                     f"expected {x.shape}")
    if "nframes" in mat:
        nframes = _scalar(mat, "nframes", mat_path)
        if int(nframes) != t:
            raise DatasetError(mat_path, f"nframes is {nframes:g} but x/y have {t} rows")

    bbox = _numeric(mat, "bbox", mat_path)
    if bbox.ndim != 2 or bbox.shape[1] != 4 or bbox.shape[0] < 1 or bbox.shape[0] > t:
        raise DatasetError(mat_path, f"field 'bbox' has shape {bbox.shape}, expected ({t}, 4)")
    if bbox.shape[0] < t:  # known defect: repeat the last box for the unlabelled tail
        bbox = np.concatenate([bbox, np.repeat(bbox[-1:], t - bbox.shape[0], axis=0)], axis=0)

    train = _scalar(mat, "train", mat_path)
    if train == 1:
        split = "train"
    elif train == -1:
        split = "test"
    else:
        raise DatasetError(mat_path, f"field 'train' is {train:g}, expected 1 or -1")

    action = _string(mat, "action")
    if action == TEACHER_ACTION and UNMARKED_FIELD not in mat:
        raise DatasetError(mat_path, "labelled by an older dkd_tf.label_video, whose 'head' is "
                                     "the teachers' nose, not Penn Action's head top; label the "
                                     "video again into a new --out_dir")

    fdir = frame_dir(root, vid)
    if not os.path.isdir(fdir):
        raise DatasetError(fdir, "frame directory is missing")
    present = set(os.listdir(fdir))
    frame_paths = []
    for i in range(t):
        name = frame_name(i)
        path = os.path.join(fdir, name)
        if name not in present:
            raise DatasetError(path, f"frame file is missing (labels {mat_path} have {t} frames)")
        frame_paths.append(path)
    labelled = {frame_name(i) for i in range(t)}
    extra = sorted(n for n in present if n.lower().endswith(".jpg") and n not in labelled)
    if extra:  # labels end before the images do: the unlabelled tail is not used
        logging.warning("%s: labels %d frames but %s holds %d more image(s) (%s%s); only the "
                        "first %d frames are used", mat_path, t, fdir, len(extra),
                        ", ".join(extra[:3]), ", ..." if len(extra) > 3 else "", t)
    first = frames_lib.load_frame(frame_paths[0])

    record = VideoRecord(
        video_id=vid,
        frame_paths=frame_paths,
        joints=np.stack([x, y], axis=-1).astype(np.float32),
        visibility=(vis > 0).astype(np.float32),
        bboxes=bbox.astype(np.float32),
        joint_set=JOINT_SET.name,
        split=split,
        action=action,
        image_size=(int(first.shape[0]), int(first.shape[1])),
    )
    return record.validate(mat_path)


def read_split(root, split: str = "all") -> list[VideoRecord]:
    """All videos of `split` ('train', 'test' or 'all'), in id order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    records = read_all(lambda vid=vid: read_video(root, vid) for vid in list_videos(root))
    return [rec for rec in records if split == "all" or rec.split == split]


def read_field(root, video_id, key):
    """One extra field of a video's .mat (e.g. 'confidence'), as stored, or None when absent."""
    return read_fields(root, video_id, (key,))[key]


def read_fields(root, video_id, keys) -> dict:
    """{key: extra field as stored, or None when absent} of a video's .mat, loaded once."""
    mat = _load_mat(label_path(root, video_id))
    return {key: mat.get(key) for key in keys}


def write_video(root, video_id, frames, joints, visibility, bboxes, train: bool,
                action: str = "", pose: str = "", quality: int = 90, extra=None) -> str:
    """Write one video in Penn Action's format; returns the .mat path.

    Coordinates are stored as float64 (MATLAB double) so float32 labels read back bit-exactly.
    `extra` {name: array or str} adds fields of the caller's own (they may not replace one of
    Penn Action's).
    """
    extra = dict(extra or {})
    clash = sorted(set(extra) & {"x", "y", "visibility", "bbox", "dimensions", "nframes",
                                  "train", "action", "pose"})
    if clash:
        raise ValueError(f"extra fields {clash} would replace Penn Action's own")
    vid = video_dirname(video_id)
    t = len(frames)
    if t < 1:
        raise ValueError("a video needs at least one frame")
    joints = np.asarray(joints, dtype=np.float64)
    visibility = np.asarray(visibility, dtype=np.float64)
    bboxes = np.asarray(bboxes, dtype=np.float64)
    if joints.shape != (t, NUM_JOINTS, 2):
        raise ValueError(f"joints have shape {joints.shape}, expected ({t}, {NUM_JOINTS}, 2)")
    if visibility.shape != (t, NUM_JOINTS):
        raise ValueError(f"visibility has shape {visibility.shape}, expected ({t}, {NUM_JOINTS})")
    if bboxes.shape != (t, 4):
        raise ValueError(f"bboxes have shape {bboxes.shape}, expected ({t}, 4)")
    h, w = np.asarray(frames[0]).shape[:2]
    for i, f in enumerate(frames):
        if np.asarray(f).shape[:2] != (h, w):
            raise ValueError(f"frame {i} has size {np.asarray(f).shape[:2]}, frame 0 has {(h, w)}")

    fdir = frame_dir(root, vid)
    os.makedirs(fdir, exist_ok=True)
    for i, f in enumerate(frames):
        frames_lib.save_frame(os.path.join(fdir, frame_name(i)), np.asarray(f), quality=quality)
    mat_path = label_path(root, vid)
    os.makedirs(os.path.dirname(mat_path), exist_ok=True)
    scipy.io.savemat(mat_path, {
        "x": joints[..., 0],
        "y": joints[..., 1],
        "visibility": visibility,
        "bbox": bboxes,
        "dimensions": np.array([[h, w, t]], dtype=np.float64),
        "nframes": np.array([[t]], dtype=np.float64),
        "train": np.array([[1.0 if train else -1.0]]),
        "action": str(action),
        "pose": str(pose),
        **extra,
    }, format="5", oned_as="row")
    return mat_path
