"""Frames of a video file, a folder of images or a camera, one at a time, with their numbers.

A video's frame numbers come from its timestamps (FrameClock), so a frame the decoder drops or
rejects is counted, not silently skipped; an unreadable image in a folder is reported as a bad
frame; a file that cannot be opened at all is a StreamError naming it.
"""
from __future__ import annotations

import dataclasses
import os
import re

import cv2
import numpy as np

from dkd_tf.data.frames import load_frame
from dkd_tf.data.records import DatasetError


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MAX_CONSECUTIVE_FAILURES = 25  # read failures before a video counts as ended


class StreamError(ValueError):
    """An input that cannot be streamed (unreadable file, bad flag value)."""


# ---------------------------------------------------------------------------------- frame input
@dataclasses.dataclass
class FrameItem:
    index: int
    image: np.ndarray | None  # uint8 RGB [H, W, 3], None when the frame could not be read
    error: str = ""


def _natural_key(name):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def check_video_path(spec) -> None:
    """StreamError unless `spec` is an existing file or folder, or a camera index (digits):
    the cheap check the command runs before it verifies a preset or loads a model."""
    spec = str(spec)
    if not (os.path.exists(spec) or spec.isdigit()):
        raise StreamError(f"{spec}: no such video file, frame folder or camera index")


class FrameSource:
    """Frames of a video file, a folder of images or a camera index, as FrameItems in order.

    Raises StreamError when the input cannot be opened or yields no frame at all. After
    iteration: `frames_read`, `bad_frames`, `declared_frames` (None when unknown) and
    `truncated` (a video that ended before its declared frame count).
    """

    def __init__(self, spec, max_frames: int | None = None):
        self.spec = str(spec)
        self.max_frames = max_frames
        self.fps = 25.0
        self.declared_frames = None
        self.truncated = False
        self.frames_read = 0
        self.bad_frames = 0
        self._cap = None
        self._files = None
        if self.spec.isdigit() and not os.path.exists(self.spec):
            self.kind = "camera"
            self._cap = cv2.VideoCapture(int(self.spec))
            if not self._cap.isOpened():
                raise StreamError(f"camera {self.spec}: cannot open the device")
        elif os.path.isdir(self.spec):
            self.kind = "folder"
            self._files = self._list_folder(self.spec)
            self.declared_frames = len(self._files)
        elif os.path.isfile(self.spec):
            self.kind = "video"
            if os.path.getsize(self.spec) == 0:
                raise StreamError(f"{self.spec}: the video file is empty")
            self._cap = cv2.VideoCapture(self.spec)
            if not self._cap.isOpened():
                raise StreamError(f"{self.spec}: OpenCV cannot open this video (unreadable, "
                                  "truncated or an unsupported format)")
            n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
            self.declared_frames = n if n > 0 else None
            fps = self._cap.get(cv2.CAP_PROP_FPS)
            if fps and np.isfinite(fps) and 1.0 <= fps <= 240.0:
                self.fps = float(fps)
        else:
            check_video_path(self.spec)  # a missing path: the one message for it
            raise StreamError(f"{self.spec}: neither a video file, a frame folder nor a camera "
                              "index")

    @staticmethod
    def _list_folder(path):
        names = [n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS)]
        if not names:
            raise StreamError(f"{path}: the folder holds no image files "
                              f"({', '.join(IMAGE_EXTENSIONS)})")
        names.sort(key=_natural_key)
        numbers = [re.findall(r"\d+", os.path.splitext(n)[0]) for n in names]
        if all(numbers):
            # Numbered frames: a gap in the numbering is a missing frame.
            idx = [int(m[-1]) for m in numbers]
            if len(set(idx)) == len(idx):
                by_number = dict(zip(idx, names))
                return [(os.path.join(path, by_number[i]) if i in by_number else None)
                        for i in range(min(idx), max(idx) + 1)]
        return [os.path.join(path, n) for n in names]

    @property
    def total(self) -> int | None:
        if self.max_frames and self.declared_frames:
            return min(self.max_frames, self.declared_frames)
        return self.max_frames or self.declared_frames

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __iter__(self):
        gen = self._iter_folder() if self.kind == "folder" else self._iter_capture()
        for item in gen:
            if self.max_frames and item.index >= self.max_frames:
                break
            if item.image is None:
                self.bad_frames += 1
            else:
                self.frames_read += 1
            yield item
        if self.frames_read == 0:
            raise StreamError(f"{self.spec}: no frame could be decoded")

    def _iter_folder(self):
        for i, path in enumerate(self._files):
            if path is None:
                yield FrameItem(i, None, f"frame {i} is missing from the numbered sequence")
                continue
            try:
                yield FrameItem(i, load_frame(path))
            except DatasetError as e:
                yield FrameItem(i, None, str(e))

    def _iter_capture(self):
        index, failed = 0, []  # index: the next frame's number, failed: failed reads since
        clock = FrameClock(self.fps if self.kind == "video" else None)
        while True:
            ok, bgr = self._cap.read()
            if ok and bgr is not None and bgr.size:
                # The frame's own number: from its timestamp (a video), else the count.
                at = (clock.index(self._cap.get(cv2.CAP_PROP_POS_MSEC), index + len(failed))
                      if self.kind == "video" else index)
                # Failed reads followed by a good frame were corrupt frames, not the end; a
                # number the timestamps skip is a frame the decoder dropped without a word.
                for j in range(index, at):
                    yield FrameItem(j, None, f"frame {j} could not be decoded" if j in failed
                                    else f"frame {j} is missing (the video's timestamps skip "
                                    "it: dropped by the decoder or the recorder)")
                failed = []
                yield FrameItem(at, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                index = at + 1
            else:
                if self.kind == "camera" or self.declared_frames is None:
                    break
                if (index + len(failed) >= self.declared_frames
                        or len(failed) >= MAX_CONSECUTIVE_FAILURES):
                    break
                failed.append(index + len(failed))
            if self.max_frames and index + len(failed) >= self.max_frames:
                break
        if failed and self.declared_frames and not self.max_frames:
            self.truncated = True
        elif (self.declared_frames and self.kind == "video" and not self.max_frames
              and self.frames_read + self.bad_frames < self.declared_frames):
            self.truncated = True


class FrameClock:
    """A video frame's number from its presentation time, so that a frame the decoder drops in
    the middle (OpenCV's read() then returns the next one, with no error) is reported at its own
    number and the later frames keep theirs. CAP_PROP_POS_FRAMES cannot tell: it counts the
    frames returned. CAP_PROP_POS_MSEC after a read is the frame's timestamp.

    The frame interval is the smallest step seen between two frames, starting from 1000/fps
    (fps: CAP_PROP_FPS, an average that a dropped frame lowers). A timestamp that is not within
    TOLERANCE of a whole number of intervals (variable frame rate), that would go back, or that
    skips more than MAX_CONSECUTIVE_FAILURES frames falls back to `count` (the next number)."""

    TOLERANCE = 0.2

    def __init__(self, fps=None):
        self.step = 1000.0 / fps if fps and np.isfinite(fps) and fps > 0 else None
        self.last = None

    def index(self, msec, count: int) -> int:
        if msec is None or not np.isfinite(msec) or msec < 0:
            return count
        if self.last is not None and msec > self.last:
            gap = msec - self.last
            self.step = gap if self.step is None else min(self.step, gap)
        self.last = msec
        if not self.step:
            return count
        n = msec / self.step
        at = int(round(n))
        if abs(n - at) > self.TOLERANCE or not count <= at <= count + MAX_CONSECUTIVE_FAILURES:
            return count
        return at
