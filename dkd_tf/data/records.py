"""The one in-memory type every reader produces: a labelled video."""
from __future__ import annotations

import dataclasses

import numpy as np


class DatasetError(ValueError):
    """Malformed or missing data set files. The message always names the file."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def read_all(readers) -> list:
    """Call every reader (zero-argument callables, one per video); the records, or one
    DatasetError that names every bad file at once (the first on the error's line, the others
    indented below it), so a user fixes a data set in one pass, not one file per run."""
    records, errors = [], []
    for read in readers:
        try:
            records.append(read())
        except DatasetError as e:
            errors.append(e)
    if not errors:
        return records
    first = errors[0]
    if len(errors) == 1:
        raise first
    more = "\n".join(f"  {e}" for e in errors[1:])
    raise DatasetError(first.path, f"{first.problem} (and {len(errors) - 1} more bad files:)\n"
                                   f"{more}")


@dataclasses.dataclass
class VideoRecord:
    """A video with per-frame joint labels.

    Attributes:
      video_id: the data set's id for the video (e.g. '0001').
      frame_paths: one image file per frame, in temporal order.
      joints: float32 [T, K, 2], (x, y) in 0-based pixel coordinates of the frame image.
      visibility: float32 [T, K], 1 where the joint is visible (counts in PCK), else 0.
      bboxes: float32 [T, 4], person box (x1, y1, x2, y2) in pixels.
      joint_set: key into dkd_tf.core.joints (the meaning of the K axis).
      split: 'train' or 'test'.
      action: action label, '' when unknown.
      image_size: (H, W) of the frames, as read from the first image.
    """

    video_id: str
    frame_paths: list
    joints: np.ndarray
    visibility: np.ndarray
    bboxes: np.ndarray
    joint_set: str
    split: str
    action: str = ""
    image_size: tuple | None = None

    @property
    def num_frames(self) -> int:
        return len(self.frame_paths)

    def validate(self, source) -> "VideoRecord":
        """Check shapes and values; raise DatasetError naming `source` on any problem."""
        t = len(self.frame_paths)
        j = np.asarray(self.joints)
        if j.ndim != 3 or j.shape[0] != t or j.shape[2] != 2:
            raise DatasetError(source, f"joints have shape {j.shape}, expected ({t}, K, 2)")
        if self.visibility.shape != j.shape[:2]:
            raise DatasetError(source, f"visibility has shape {self.visibility.shape}, "
                                       f"expected {j.shape[:2]}")
        if self.bboxes.shape != (t, 4):
            raise DatasetError(source, f"bboxes have shape {self.bboxes.shape}, expected ({t}, 4)")
        if not np.all(np.isfinite(j)):
            bad = np.argwhere(~np.isfinite(j))[0]
            raise DatasetError(source, f"joint coordinates contain NaN/inf (frame {bad[0] + 1}, "
                                       f"joint {bad[1]})")
        if not np.all(np.isfinite(self.bboxes)):
            raise DatasetError(source, "bounding boxes contain NaN/inf")
        if self.split not in ("train", "test"):
            raise DatasetError(source, f"split is {self.split!r}, expected 'train' or 'test'")
        return self
