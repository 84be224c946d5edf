"""Streaming pose estimation on a video, a folder of frames or a camera, through any backend.

    python -m dkd_tf.stream --video IN [--model_dir E | --preset NAME] [--backend tflite|onnx|keras]
        [--out_video OUT.mp4] [--out_json K.json] [--bbox x1,y1,x2,y2]
        [--reinit_threshold F] [--reinit_every N] [--keypoint_threshold F]
        [--follow_margin F] [--follow_max_resize F] [--follow_smoothing F] [--num_threads N]
        [--max_frames N] [--noprogress]
        [--nooverlap]

Without --model_dir the model is a shipped preset's (--preset, default presets.DEFAULT: the
real-world one), verified against its checksums first; the backend picks its member.
--model_dir: for tflite and onnx an export directory (manifest.json + the graph files written by
`python -m export.tflite` / `python -m export.onnx`). For keras it may be the training model
directory itself (model.keras + config.json) or an export directory: the manifest records the
source model directory and the checksum of its model.keras, and the runner loads that model
(refusing it if the file changed since the export). Every constant (input size, stride, state
shape, joints, skeleton, decoding rule) comes from the manifest.

Per frame: crop a square around the current person box (crop_frame: the crops of training and
evaluation, dkd_tf.data.transforms, computed with OpenCV), run the initializer on the first frame and the stepper after it with the
state carried, decode keypoints with the manifest's rule (dkd_tf.core.codec) and map them back to the
frame. The person is followed: the box for frame t+1 is the bounding box of frame t's keypoints
(when at least a third of them have conf >= --keypoint_threshold), expanded by
--follow_margin of its size on each side; the first box is --bbox or the whole frame. The box
centre moves to --follow_smoothing x its old position + the rest x the keypoint box's centre (a
collapsed left/right pair biases that centre, and an off-centre crop repeats the bias), its size
by at most --follow_max_resize per frame and, when --bbox gave the first box, within
FOLLOW_SCALE_RANGE of that box: a weak model's keypoints hug the body centre, and an unbounded
box would shrink with them frame after frame until the crop holds only the torso.

Re-initialization (the initializer runs again instead of the stepper) happens when the mean peak
confidence of a frame falls below --reinit_threshold (the box is then kept, not followed), every
--reinit_every frames, and after a frame that could not be read. Unreadable frames (a corrupt
or missing image in a folder, a frame a video decoder rejects or drops: a video's frame numbers
come from its timestamps, FrameClock) are skipped, written to the overlay as a black frame and
to the JSON with status 'bad_frame', and counted in the summary; a file that cannot be opened
at all is an error. A video that ends before its declared frame count
is reported as truncated.

Outputs: an overlay video (skeleton drawn with OpenCV; .mp4 -> mp4v, .avi -> MJPG), a JSON with
one entry per input frame (keypoints as [x, y, confidence] in frame pixels), and a summary with
per-graph latency (median, p90), frames per second end to end and of the model alone, and
re-initialization counts.

Speed: each crop follows the previous frame's keypoints, so crop, model and decoding form one
chain; reading/decoding the next frames and drawing/writing the overlay run beside it in two
threads (dkd_tf/tracking/pipelining.py; --nooverlap turns that off, with the same output), frame order
kept.

Library use (e.g. from a demo): `stream_video(...)` returns the same dict as the JSON;
`PoseTracker(runner)` processes frames one at a time.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import re
import signal
import sys
import threading
import time

import cv2
import numpy as np

from dkd_tf.core import codec, lazy_modules
from dkd_tf.tracking import pipelining
from dkd_tf.data.frames import load_frame
from dkd_tf.data.records import DatasetError
# The tracker's defaults (also written into every manifest's `tracker` entry).
from dkd_tf.serving.tracking_policy import (
    DEFAULT_FOLLOW_MARGIN, DEFAULT_FOLLOW_MAX_RESIZE, DEFAULT_FOLLOW_SMOOTHING,
    DEFAULT_KEYPOINT_THRESHOLD, DEFAULT_REINIT_THRESHOLD, FOLLOW_SCALE_RANGE)

# dkd_tf.data.transforms imports TensorFlow; this module uses only its constants and numpy
# helpers, so it is imported on first use: the command checks its input, outputs and model files
# before TensorFlow loads (dkd_tf/core/lazy_modules.py).
transforms = lazy_modules.module("dkd_tf.data.transforms")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MAX_CONSECUTIVE_FAILURES = 25  # read failures before a video counts as ended
PIPELINE_DEPTH = 8  # frames read ahead of the model, and overlay frames queued behind it


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


def full_frame_box(height: int, width: int) -> np.ndarray:
    """The person box whose crop (box side * CROP_MARGIN) just covers the whole frame."""
    side = max(height, width) / transforms.CROP_MARGIN
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)


def crop_frame(image: np.ndarray, box, input_size: int):
    """The model's input crop of a person box, as training and evaluation crop it.

    image: [H, W, 3] (uint8 RGB); box: (x1, y1, x2, y2) frame pixels. Returns (crop float32
    [1, S, S, 3], matrix float64 [3, 3] frame -> crop pixels, centre [2], size): the matrix of
    transforms.crop_matrix (no rotation, no flip) computed with the same float32 operations,
    and the bilinear, zero-filled warp of transforms.warp_image done by cv2.warpAffine (equal to
    2e-4 of a pixel value, tested). Those eager TensorFlow ops took about 15 ms a frame on the
    2-core benchmark machine, more than the demo model; this takes 0.3 ms."""
    box = np.asarray(box, np.float32)
    center = (box[:2] + box[2:]) / np.float32(2.0)
    size = np.maximum(np.max(box[2:] - box[:2]), np.float32(1.0))
    zoom = np.float32(input_size) / (size * np.float32(transforms.CROP_MARGIN) * np.float32(1.0))
    half = np.float32((input_size - 1) / 2.0)
    matrix = np.array([[zoom, 0.0, half - zoom * center[0]],
                       [0.0, zoom, half - zoom * center[1]],
                       [0.0, 0.0, 1.0]], np.float32)
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


# ---------------------------------------------------------------------------------- tracking
@dataclasses.dataclass
class FrameResult:
    index: int
    status: str  # 'ok' | 'bad_frame'
    graph: str = ""  # 'initializer' | 'stepper'
    reinit_reason: str = ""  # why the initializer ran: start | confidence | periodic | bad_frame
    keypoints: np.ndarray | None = None  # [K, 2] frame pixels
    confidence: np.ndarray | None = None  # [K]
    mean_confidence: float = float("nan")
    box: np.ndarray | None = None  # person box the crop was built from (x1, y1, x2, y2)
    crop: np.ndarray | None = None  # region the crop covers (x1, y1, x2, y2)
    latency_ms: float = float("nan")
    error: str = ""

    def to_json(self) -> dict:
        out = {"index": self.index, "status": self.status}
        if self.status == "ok":
            kp = np.concatenate([self.keypoints, self.confidence[:, None]], axis=1)
            out.update({
                "graph": self.graph,
                "keypoints": [[round(float(v), 3) for v in row] for row in kp],
                "mean_confidence": round(float(self.mean_confidence), 5),
                "box": [round(float(v), 2) for v in self.box],
                "crop": [round(float(v), 2) for v in self.crop],
                "latency_ms": round(float(self.latency_ms), 3),
            })
            if self.reinit_reason:
                out["reinit_reason"] = self.reinit_reason
        else:
            out["error"] = self.error
        return out

    @classmethod
    def from_json(cls, entry: dict) -> "FrameResult":
        """The inverse of to_json (values rounded as the JSON holds them), e.g. to redraw a
        frame of a keypoint file with draw_pose."""
        if entry["status"] != "ok":
            return cls(int(entry["index"]), entry["status"], error=entry.get("error", ""))
        kp = np.asarray(entry["keypoints"], np.float32)
        return cls(int(entry["index"]), "ok", entry["graph"], entry.get("reinit_reason", ""),
                   kp[:, :2], kp[:, 2], float(entry["mean_confidence"]),
                   np.asarray(entry["box"], np.float32), np.asarray(entry["crop"], np.float32),
                   float(entry["latency_ms"]))


@dataclasses.dataclass
class Pose:
    """One frame of PoseTracker.track: the public result (a FrameResult has more detail).

    keypoints: float32 [K, 3], x and y in frame pixels and the confidence (the heatmap peak);
    all NaN on a frame that could not be read (status 'bad_frame', result.error says why).
    names: the K joint names, in keypoints' order."""
    frame_index: int
    keypoints: np.ndarray
    names: tuple
    status: str = "ok"
    result: FrameResult | None = None

    @classmethod
    def from_result(cls, result: FrameResult, names) -> "Pose":
        if result.status == "ok":
            kp = np.concatenate([result.keypoints, result.confidence[:, None]], axis=1)
        else:
            kp = np.full((len(names), 3), np.nan)
        return cls(result.index, kp.astype(np.float32), tuple(names), result.status, result)


class PoseTracker:
    """Runs a runner (dkd_tf.serving.runtimes) frame by frame: crops, state, decoding, following, re-init.

    Python API: `PoseTracker.from_preset(name)` opens a shipped preset, `track(video)` yields
    a Pose per frame; `reset`/`process` are the frame-at-a-time steps that track drives.

    Args:
      runner: an dkd_tf.serving.runtimes Runner (its manifest gives input size, stride, joints).
      reinit_threshold: re-run the initializer on the next frame when a frame's mean peak
        confidence is below this (0 disables).
      reinit_every: re-run the initializer every N frames (0 disables).
      keypoint_threshold: confidence from which a keypoint counts for following the person.
      follow: move the crop with the keypoints (False keeps the start box, or the per-frame box
        passed to process()).
      follow_margin: the keypoint box grows by this fraction of its size on each side.
      follow_max_resize: the followed box's width and height change by at most this fraction
        per frame (inf: no limit); a start box also bounds them to FOLLOW_SCALE_RANGE of its own.
      follow_smoothing: share of the old box centre kept each frame, in [0, 1) (0: the centre
        jumps to the keypoint box's).
      find_refine: when the initializer had the whole frame to look at (no box yet, or the box
        was lost), run it once more, in the same frame, on the box its keypoints span: a
        person far from the camera is a few dozen pixels of the whole-frame crop.
      finder: a person finder for those whole frames, in place of the initializer's first
        look: a runner (e.g. dkd_tf.serving.runtimes.PeerRunner('movenet_lightning', ...), trained on
        whole images with several people) whose keypoints' box the initializer then starts
        from; its time counts as 'finder' latency. None: the initializer looks itself.
    """

    def __init__(self, runner, reinit_threshold=DEFAULT_REINIT_THRESHOLD, reinit_every=0,
                 keypoint_threshold=DEFAULT_KEYPOINT_THRESHOLD, follow=True,
                 follow_margin=DEFAULT_FOLLOW_MARGIN,
                 follow_max_resize=DEFAULT_FOLLOW_MAX_RESIZE,
                 follow_smoothing=DEFAULT_FOLLOW_SMOOTHING, find_refine=True, finder=None):
        from dkd_tf.serving import manifest as manifest_lib
        if reinit_every < 0:
            raise StreamError(f"reinit_every must be >= 0, got {reinit_every}")
        if follow_margin < 0:
            raise StreamError(f"follow_margin must be >= 0, got {follow_margin}")
        if not follow_max_resize > 0:
            raise StreamError(f"follow_max_resize must be > 0, got {follow_max_resize}")
        if not 0.0 <= follow_smoothing < 1.0:
            raise StreamError(f"follow_smoothing must be in [0, 1), got {follow_smoothing}")
        self.runner = runner
        self.manifest = runner.manifest
        if self.manifest["decoding"] not in codec.DECODING_RULES:
            raise StreamError(f"decoding rule {self.manifest['decoding']!r} is not implemented")
        self.decoding = self.manifest["decoding"]
        margin = self.manifest.get("crop", {}).get("margin", transforms.CROP_MARGIN)
        if abs(float(margin) - transforms.CROP_MARGIN) > 1e-6:
            raise StreamError(f"the export was made for crops with margin {margin}, this code "
                              f"crops with {transforms.CROP_MARGIN}")
        self.input_size = manifest_lib.input_size(self.manifest)
        self.stride = int(self.manifest["stride"])
        self.num_joints = int(self.manifest["heatmap_shape"][3])
        self.edges = [tuple(e) for e in self.manifest["joints"]["edges"]]
        self.names = list(self.manifest["joints"]["names"])
        self.reinit_threshold = float(reinit_threshold)
        self.reinit_every = int(reinit_every)
        self.keypoint_threshold = float(keypoint_threshold)
        self.follow = bool(follow)
        self.follow_margin = float(follow_margin)
        self.follow_max_resize = float(follow_max_resize)
        self.follow_smoothing = float(follow_smoothing)
        self.find_refine = bool(find_refine)
        self.finder = finder
        self.min_follow_joints = max(2, -(-self.num_joints // 3))
        self.latencies = {"initializer": [], "stepper": []}
        if finder is not None:
            self.latencies["finder"] = []
        self.reinit_counts = {"start": 0, "confidence": 0, "periodic": 0, "bad_frame": 0}
        self.bad_frames = 0
        self._check_frame = False
        self.reset()

    @classmethod
    def from_preset(cls, preset: str, backend: str = "tflite", member: str | None = None,
                    num_threads: int | None = None, **kwargs) -> "PoseTracker":
        """A tracker over a preset's model, after checking its files (dkd_tf.presets.verify).

        preset: a name of dkd_tf.presets.list(), an alias (its folder name) or a preset folder.
        backend: 'tflite' or 'onnx' open the preset's verified export of that format (the
        shipped presets carry TFLite only), 'keras' the Keras model (TensorFlow, slower).
        member: the preset folder to open instead of the backend's default (presets.member_for).
        kwargs: the tracker's settings (__init__), defaults as the CLI's."""
        from dkd_tf import presets
        from dkd_tf.serving import runtimes
        meta = presets.verify(preset)
        member = member or presets.member_for(preset, backend, meta)
        runner = runtimes.open_runner(backend, presets.member_dir(preset, member, meta),
                                      num_threads)
        return cls(runner, **kwargs)

    def track(self, source, box=None, max_frames: int | None = None):
        """Yields a Pose per frame of `source`, starting afresh (reset(box)).

        source: a video file, a folder of images or a camera index (read with OpenCV, as the
        CLI reads them; a frame that cannot be decoded gives a 'bad_frame' Pose), or an
        iterable of uint8 RGB frames [H, W, 3]. box: the person's box in the first frame
        (x1, y1, x2, y2, frame pixels); None starts from the whole frame padded to a square
        (full_frame_box), which finds a person who fills much of the frame, and the box then
        follows the keypoints. The box is checked and the source opened here, not at the
        first frame, so that a bad argument fails at the call."""
        self.reset(box)
        if isinstance(source, (str, bytes, os.PathLike, int)):
            frames = FrameSource(os.fsdecode(source) if not isinstance(source, int) else source,
                                 max_frames)
        else:
            frames = (FrameItem(i, _rgb_frame(f, i)) for i, f in
                      enumerate(itertools.islice(source, max_frames or None)))
        return self._track(frames)

    def _track(self, frames):
        try:
            for item in frames:
                if item.image is None:
                    result = self.mark_bad_frame(item.index, item.error)
                else:
                    result = self.process(item.image, item.index)
                yield Pose.from_result(result, self.names)
        finally:
            if isinstance(frames, FrameSource):
                frames.close()

    def reset(self, box=None, what: str = "start box"):
        """Forget the state; the next frame runs the initializer in `box` (None: whole frame).

        The box must be four finite numbers with positive width and height (StreamError), and
        must overlap the first frame it is used on (checked there, in process); `what` names
        it in those messages."""
        self.state = None
        self._box_label = what
        self.box = None if box is None else check_box(box, what=what)
        self.start_box = self.box
        self._check_frame = self.box is not None
        self._pending = "start"
        self._since_init = 0

    def mark_bad_frame(self, index: int, error: str = "") -> FrameResult:
        """A frame that could not be read: skip it and re-initialize on the next good one."""
        self.bad_frames += 1
        if self.state is not None:
            self._pending = "bad_frame"
        self.state = None
        return FrameResult(index, "bad_frame", error=error or "unreadable frame")

    def _next_graph(self):
        if self.state is None:
            return "initializer", self._pending or "start"
        if self._pending:
            return "initializer", self._pending
        if self.reinit_every and self._since_init >= self.reinit_every:
            return "initializer", "periodic"
        return "stepper", ""

    def process(self, image: np.ndarray, index: int = 0, box=None) -> FrameResult:
        """One uint8 RGB frame -> FrameResult. `box` overrides the tracked box for this frame.

        A given box (reset's or this one) that does not overlap the frame is a StreamError.
        Confidences are scaled by min(1, s / MIN_FRAME_SHARE), s the share of the crop inside
        the frame, so a crop with almost no frame in it never reports a confident pose; when
        that makes the frame re-initialize, the next crop is the whole frame (the person is
        not in this one)."""
        h, w = image.shape[:2]
        whole = False
        if box is not None:
            self.box = check_box(box, image.shape, what="box")
        elif self.box is None:
            self.box = full_frame_box(h, w)
            whole = True
        elif self._check_frame:
            check_box(self.box, image.shape, what=self._box_label)
        self._check_frame = False
        used_box = self.box.copy()
        graph, reason = self._next_graph()
        latency = 0.0
        if whole and graph == "initializer" and self.finder is not None:
            found, latency = self._find(image, used_box)
            if found is not None:  # else the initializer looks at the whole frame itself
                used_box = self.box = self.start_box = found  # bounds the follow as a given box
                whole = False
        keypoints, conf, region, spent = self._run(image, used_box, graph)
        latency += spent
        if graph == "initializer":
            self.reinit_counts[reason] += 1
            self._since_init = 0
            self._pending = ""
            if whole and self.find_refine:
                # The person is small in the whole frame: look again, in the same frame, at the
                # box its keypoints span (as a person finder's box), and keep that answer.
                found = self._keypoint_box(keypoints, conf)
                if found is not None:  # bounds the follow as a given start box would
                    used_box = self.box = self.start_box = found
                    keypoints, conf, region, more = self._run(image, used_box, graph)
                    latency += more
        self._since_init += 1
        share = frame_share(region, h, w)
        if share < MIN_FRAME_SHARE:
            conf = conf * np.float32(share / MIN_FRAME_SHARE)
        mean_conf = float(np.mean(conf))
        low = self.reinit_threshold > 0 and mean_conf < self.reinit_threshold
        if low:
            self._pending = "confidence"  # keep the box: low-confidence keypoints mislead
            if share < MIN_FRAME_SHARE:
                self.box = None  # ... unless it is mostly off the frame: look at all of it
        elif self.follow:
            self.box = self._follow_box(keypoints, conf, self.box)
        return FrameResult(index, "ok", graph, reason, keypoints, conf, mean_conf, used_box,
                           region, latency)

    def _run(self, image, box, graph):
        """One graph on the crop of `box`: (keypoints [K, 2] frame px, confidence [K], the
        region the crop covers, latency ms); the latency is recorded for the graph."""
        if graph == "initializer":
            call = self.runner.initialize
        else:
            def call(crop):
                return self.runner.step(crop, self.state)
        (keypoints, conf, center, size), self.state, latency = self._look(
            self.runner, call, image, box, self.input_size, self.stride, self.decoding, graph)
        half = float(size) * transforms.CROP_MARGIN / 2.0
        cx, cy = float(center[0]), float(center[1])
        region = np.array([cx - half, cy - half, cx + half, cy + half], np.float32)
        return keypoints, conf, region, latency

    def _find(self, image, box):
        """The finder on the crop of `box` (the whole frame): (the box its keypoints span or
        None, latency ms)."""
        from dkd_tf.serving import manifest as manifest_lib
        manifest = self.finder.manifest
        (keypoints, conf, _, _), _, latency = self._look(
            self.finder, self.finder.initialize, image, box, manifest_lib.input_size(manifest),
            int(manifest["stride"]), manifest["decoding"], "finder")
        return self._keypoint_box(keypoints, conf), latency

    def _look(self, runner, call, image, box, input_size, stride, decoding, latency_key):
        """call(crop of `box`) -> ((keypoints [K, 2] frame px, confidence [K], crop centre,
        crop size), the call's state, latency ms), the latency recorded under latency_key."""
        crop, matrix, center, size = crop_frame(image, box, input_size)
        start = time.perf_counter()
        out, state = call(crop)
        latency = (time.perf_counter() - start) * 1e3
        self.latencies[latency_key].append(latency)
        xy, conf = _keypoints_of(runner, out, stride, decoding)
        return (transforms.invert_points(matrix, xy), conf, center, size), state, latency

    def _extent(self, keypoints, conf):
        """(lo, hi, extent) of the box the keypoints span, or None when too few are confident.
        All joints span it: dropping the unconfident ones (often wrists and ankles) would
        centre it on the torso and shrink it; a box from a few joints can be a sliver, so it
        is made at least half as wide as tall."""
        good = conf >= self.keypoint_threshold
        if int(good.sum()) < self.min_follow_joints:
            return None
        lo, hi = keypoints.min(0), keypoints.max(0)
        extent = np.maximum(hi - lo, 1.0)
        side = float(extent.max())
        return lo, hi, np.maximum(extent, 0.5 * side)

    def _keypoint_box(self, keypoints, conf):
        """The keypoints' box with the follow margin, unsmoothed (after a whole-frame look)."""
        found = self._extent(keypoints, conf)
        if found is None:
            return None
        lo, hi, extent = found
        mid, size = (lo + hi) / 2.0, extent * (1.0 + 2.0 * self.follow_margin)
        new = np.concatenate([mid - size / 2.0, mid + size / 2.0]).astype(np.float32)
        return new if np.all(np.isfinite(new)) else None

    def _follow_box(self, keypoints, conf, box):
        found = self._extent(keypoints, conf)
        if found is None:
            return box
        lo, hi, extent = found
        old_mid = (box[:2] + box[2:]) / 2.0
        mid = self.follow_smoothing * old_mid + (1.0 - self.follow_smoothing) * (lo + hi) / 2.0
        size = extent * (1.0 + 2.0 * self.follow_margin)
        previous = box[2:] - box[:2]
        size = np.clip(size, previous / (1.0 + self.follow_max_resize),
                       previous * (1.0 + self.follow_max_resize))
        if self.start_box is not None:
            start = self.start_box[2:] - self.start_box[:2]
            size = np.clip(size, start * FOLLOW_SCALE_RANGE[0], start * FOLLOW_SCALE_RANGE[1])
        new = np.concatenate([mid - size / 2.0, mid + size / 2.0]).astype(np.float32)
        return new if np.all(np.isfinite(new)) else box

    def latency_summary(self) -> dict:
        return {g: latency_stats(v) for g, v in self.latencies.items()}


def open_finder(key: str, runner, num_threads=None, log=None):
    """A published network (dkd_tf.pretrained.peers key) as PoseTracker's finder, its keypoints
    mapped to `runner`'s joints; None for an empty key."""
    if not key:
        return None
    from dkd_tf.pretrained import peers
    from dkd_tf.serving import runtimes
    if key not in peers.PEERS:
        raise StreamError(f"--finder {key}: unknown; choose one of {', '.join(peers.PEERS)}")
    return runtimes.peer_like(key, runner, num_threads, log)


def _keypoints_of(runner, output, stride, decoding):
    """(xy [K, 2] crop px, confidence [K]) of a runner's output [1, ...]: keypoints as they are
    from a runner that yields them (runtimes.PeerRunner), else decoded heatmaps."""
    if getattr(runner, "yields_keypoints", False):
        return output[0, :, :2], output[0, :, 2]
    return codec.decode_heatmaps(output[0], stride, decoding)


def _rgb_frame(frame, index: int) -> np.ndarray:
    """A frame given to PoseTracker.track, checked: [H, W, 3] RGB (uint8 0..255)."""
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or not frame.size:
        raise StreamError(f"frame {index}: expected an RGB image [H, W, 3], got shape "
                          f"{frame.shape}")
    return frame


def latency_stats(values) -> dict:
    if not values:
        return {"runs": 0, "median_ms": None, "p90_ms": None, "mean_ms": None, "min_ms": None}
    v = np.asarray(values, np.float64)
    return {"runs": int(v.size), "median_ms": round(float(np.median(v)), 3),
            "p90_ms": round(float(np.percentile(v, 90)), 3), "mean_ms": round(float(v.mean()), 3),
            "min_ms": round(float(v.min()), 3)}


# ---------------------------------------------------------------------------------- drawing
def _joint_color(name: str):
    if name.startswith("l_"):
        return (255, 140, 0)  # BGR: blue-ish for the left side
    if name.startswith("r_"):
        return (0, 140, 255)  # orange for the right side
    return (0, 220, 0)


def draw_pose(bgr: np.ndarray, result: FrameResult, names, edges, keypoint_threshold,
              label: str = "") -> np.ndarray:
    """Skeleton, joints, crop square and a label, drawn in place on a BGR frame."""
    h, w = bgr.shape[:2]
    thick = max(1, int(round(max(h, w) / 320)))
    # Text grows with the frame: 0.4 (about 9 px high) up to 320 px wide, proportional above.
    font = max(0.4, max(h, w) / 800)
    org = (int(8 * font / 0.4), int(20 * font / 0.4))
    if result.status != "ok":
        cv2.putText(bgr, f"frame {result.index}: unreadable", org, cv2.FONT_HERSHEY_SIMPLEX,
                    font, (0, 0, 255), max(1, int(round(2 * font))), cv2.LINE_AA)
        return bgr
    kp, conf = result.keypoints, result.confidence
    ok = conf >= keypoint_threshold

    def pt(i):
        return int(round(float(kp[i, 0]))), int(round(float(kp[i, 1])))

    x1, y1, x2, y2 = (int(round(float(v))) for v in result.crop)
    cv2.rectangle(bgr, (x1, y1), (x2, y2), (200, 200, 200), 1, cv2.LINE_AA)
    for a, b in edges:
        if ok[a] and ok[b]:
            color = _joint_color(names[a]) if names[a][:2] == names[b][:2] else (0, 220, 0)
            cv2.line(bgr, pt(a), pt(b), color, thick + 1, cv2.LINE_AA)
    for i in range(len(kp)):
        color = _joint_color(names[i]) if ok[i] else (128, 128, 128)
        cv2.circle(bgr, pt(i), thick + 2, color, -1, cv2.LINE_AA)
    tag = "I" if result.graph == "initializer" else "S"
    text = f"{result.index} {tag} conf {result.mean_confidence:.2f} {label}".strip()
    ink = max(1, int(round(2 * font)))
    cv2.putText(bgr, text, org, cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), ink + 2, cv2.LINE_AA)
    cv2.putText(bgr, text, org, cv2.FONT_HERSHEY_SIMPLEX, font, (255, 255, 255), ink,
                cv2.LINE_AA)
    return bgr


VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


def video_codec(path: str) -> str:
    """The fourcc an overlay file gets from its extension; StreamError for others."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in VIDEO_CODECS:
        raise StreamError(f"{path}: --out_video: use .mp4, .m4v, .avi, .mov or .mkv")
    return VIDEO_CODECS[ext]


# What a run reads from a model or export directory (other files there, such as an earlier
# run's overlay, may be overwritten).
MODEL_INPUTS = ("manifest.json", "config.json", "model.keras", "model_epoch.json")
GRAPH_SUFFIXES = (".tflite", ".onnx", ".keras")


def check_outputs(model_dir, video, out_video=None, out_json=None) -> None:
    """Before any work: the outputs can be written, and neither is an input of the run (the
    video, a frame of a frame folder, a file of the model or export directory or of the model
    directory its manifest names) nor the other output (dkd_tf.core.output_paths)."""
    from dkd_tf.core import output_paths
    if not (out_video or out_json):
        return
    inputs = [str(video)] + output_paths.files_in(video)
    for folder in (model_dir, _manifest_model_dir(model_dir)):
        inputs += [p for p in output_paths.files_in(folder)
                   if os.path.basename(p) in MODEL_INPUTS or p.endswith(GRAPH_SUFFIXES)]
    if out_video:
        output_paths.check_file(out_video, inputs, "--out_video")
        video_codec(out_video)
    if out_json:
        output_paths.check_file(out_json, inputs, "--out_json",
                                others=[("--out_video", out_video)])


# More runtime threads than this is a typo, not a setting: LiteRT fails with an "unexpected"
# RuntimeError deep in the interpreter instead of naming the flag.
MAX_NUM_THREADS = 256


def check_num_threads(num_threads) -> None:
    """num_threads is None/0 (the runtime's default) or 1..MAX_NUM_THREADS; else StreamError."""
    if num_threads in (None, 0):
        return
    if (not isinstance(num_threads, int) or isinstance(num_threads, bool)
            or not 1 <= num_threads <= MAX_NUM_THREADS):
        raise StreamError(f"--num_threads={num_threads}: must be 0 (the runtime's default) or "
                          f"1 to {MAX_NUM_THREADS}")


def check_model_dir(model_dir, backend: str, flag: str = "--model_dir") -> None:
    """Before TensorFlow loads (cheap, file checks only): model_dir exists and is what `backend`
    opens, and it is verified: an export's manifest.json by dkd_tf.serving.manifest.read (inside a
    preset, every file of the member against preset.json; elsewhere the manifest's content
    checksum), a training model directory inside a preset by presets.verify_path; an export's
    crop margin is this code's (named with its manifest; PoseTracker's own check cannot name
    it). The runner checks the rest (graph files' checksums, the model record, config.json
    against the model)."""
    from dkd_tf import presets
    from dkd_tf.serving import manifest as manifest_lib
    model_dir = str(model_dir)
    if not os.path.exists(model_dir):
        raise StreamError(f"{model_dir}: {flag}: no such export or model directory")
    if not os.path.isdir(model_dir):
        raise StreamError(f"{model_dir}: {flag}: is a file, not an export or model "
                          "directory")
    if backend != "keras" or os.path.isfile(manifest_lib.manifest_path(model_dir)):
        manifest = manifest_lib.read(model_dir)
        margin = manifest.get("crop", {}).get("margin")
        if margin is not None and abs(float(margin) - transforms.CROP_MARGIN) > 1e-6:
            raise StreamError(f"{manifest_lib.manifest_path(model_dir)}: the export was made "
                              f"for crops with margin {margin}, this code crops with "
                              f"{transforms.CROP_MARGIN}; re-export the model")
    elif all(os.path.isfile(os.path.join(model_dir, n)) for n in ("config.json", "model.keras")):
        presets.verify_path(model_dir)
    else:
        raise StreamError(f"{model_dir}: {flag}: neither an export directory "
                          "(manifest.json) nor a training model directory (model.keras + "
                          "config.json)")


def _manifest_model_dir(model_dir) -> str:
    """The source model directory an export's manifest names ('' when there is none)."""
    from dkd_tf.serving import manifest as manifest_lib
    try:
        with open(os.path.join(str(model_dir), "manifest.json")) as f:
            return manifest_lib.source_model_dir(json.load(f), str(model_dir))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""  # a missing or broken manifest is reported when the runner opens it


class OverlayWriter:
    """cv2.VideoWriter opened at the first frame; every later frame is resized to that size."""

    def __init__(self, path: str, fps: float):
        self.path, self.fps = path, fps
        self.writer, self.size, self.frames = None, None, 0
        self.fourcc = cv2.VideoWriter_fourcc(*video_codec(path))

    def write(self, bgr):
        if self.writer is None:
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, exist_ok=True)
            self.size = (bgr.shape[1], bgr.shape[0])
            self.writer = cv2.VideoWriter(self.path, self.fourcc, self.fps, self.size)
            if not self.writer.isOpened():
                raise StreamError(f"{self.path}: OpenCV cannot write this video")
        if (bgr.shape[1], bgr.shape[0]) != self.size:
            bgr = cv2.resize(bgr, self.size)
        self.writer.write(bgr)
        self.frames += 1

    def close(self):
        if self.writer is not None:
            self.writer.release()
            self.writer = None


# ---------------------------------------------------------------------------------- driver
def stream_video(model_dir: str, video, backend: str = "tflite", out_video: str | None = None,
                 out_json: str | None = None, bbox=None,
                 reinit_threshold: float = DEFAULT_REINIT_THRESHOLD, reinit_every: int = 0,
                 keypoint_threshold: float = DEFAULT_KEYPOINT_THRESHOLD,
                 follow_margin: float = DEFAULT_FOLLOW_MARGIN,
                 follow_max_resize: float = DEFAULT_FOLLOW_MAX_RESIZE,
                 follow_smoothing: float = DEFAULT_FOLLOW_SMOOTHING, num_threads: int | None = None,
                 max_frames: int | None = None, progress: bool = True, runner=None,
                 log=print, allow_unverified: bool = False, overlap: bool = True,
                 stop: "StopRequest | None" = None, finder: str = "") -> dict:
    """Stream `video` (file, frame folder or camera index) and return the JSON dict.

    TFLite/ONNX exports run only when their manifest records a passed parity check
    (allow_unverified=True runs them anyway). overlap: read and decode frames ahead, and draw and
    write the overlay, in two threads beside the model (dkd_tf/tracking/pipelining.py); the frames, their
    order and every result are the same without it.

    Returns {'video', 'backend', 'model', 'joints', 'edges', 'input_size', 'frames': [one entry
    per input frame], 'summary': {...}}; writes it to out_json and the overlay to out_video when
    given. `runner` (an dkd_tf.serving.runtimes Runner) replaces opening one from model_dir.

    stop (stop_on_signals()'s StopRequest): when it is set, the stream ends after the current
    frame, as after a KeyboardInterrupt: the frames done are written (JSON, overlay finalized)
    and the summary says `interrupted` (and by which signal).
    """
    if isinstance(bbox, str):
        bbox = parse_bbox(bbox)
    check_outputs(model_dir, video, out_video, out_json)  # before any work, never an input
    check_num_threads(num_threads)
    source = FrameSource(video, max_frames)  # fails early on an unreadable input
    try:
        if runner is None:  # the model's files, verified, before TensorFlow loads
            check_model_dir(model_dir, backend)
        from dkd_tf.serving import runtimes  # imports TensorFlow
        if runner is None:
            runner = runtimes.open_runner(backend, model_dir, num_threads,
                                          allow_unverified=allow_unverified)
        runner.warmup()  # one-time costs are no per-frame latency
        tracker = PoseTracker(runner, reinit_threshold, reinit_every, keypoint_threshold,
                              follow_margin=follow_margin,
                              follow_max_resize=follow_max_resize,
                              follow_smoothing=follow_smoothing,
                              finder=open_finder(finder, runner, num_threads, log))
        tracker.reset(bbox, what=f"{video}: --bbox")
        writer = OverlayWriter(out_video, source.fps) if out_video else None
    except BaseException:
        source.close()
        raise
    entries, last_shape = [], None
    bar = None
    if progress and source.kind != "camera":
        from tqdm import tqdm
        bar = tqdm(total=source.total, unit="frame", desc=os.path.basename(str(video)),
                   file=sys.stderr, dynamic_ncols=True)
    depth = PIPELINE_DEPTH if overlap else 0

    def draw_and_write(job):
        image, image_shape, result = job
        bgr = (np.zeros(image_shape, np.uint8) if image is None
               else cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        writer.write(draw_pose(bgr, result, tracker.names, tracker.edges, keypoint_threshold,
                               runner.backend))

    start = time.perf_counter()
    tracker_s = 0.0
    interrupted = False
    frames = pipelining.Prefetcher(source, depth)  # reads and decodes ahead of the model
    overlay = pipelining.OrderedWorker(draw_and_write, depth) if writer is not None else None
    try:
        with source:
            try:
                for item in frames:
                    if stop is not None and stop.is_set():
                        interrupted = True
                        break
                    tick = time.perf_counter()
                    if item.image is None:
                        result = tracker.mark_bad_frame(item.index, item.error)
                        log(f"warning: skipping frame {item.index}: {result.error}")
                        image_shape = last_shape
                    else:
                        result = tracker.process(item.image, item.index)
                        image_shape = item.image.shape
                        last_shape = image_shape
                    tracker_s += time.perf_counter() - tick
                    entries.append(result.to_json())
                    if overlay is not None and image_shape is not None:
                        overlay.submit((item.image, image_shape, result))
                    if bar is not None:
                        bar.update(1)
                        elapsed = time.perf_counter() - start
                        bar.set_postfix(fps=f"{len(entries) / max(elapsed, 1e-9):.1f}",
                                        refresh=False)
            finally:
                frames.close()  # before the source closes: the reader thread may be in it
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
        try:
            if overlay is not None:
                overlay.close()  # every submitted frame is written before the file closes
        finally:
            if writer is not None:
                writer.close()
    if interrupted:
        log("interrupted: writing what was processed")
    wall = time.perf_counter() - start
    lat = tracker.latency_summary()
    model_ms = sum(sum(v) for v in tracker.latencies.values())
    n_ok = sum(1 for e in entries if e["status"] == "ok")
    reinits = {k: v for k, v in tracker.reinit_counts.items()}
    summary = {
        "frames": len(entries), "frames_ok": n_ok, "bad_frames": tracker.bad_frames,
        "bad_frame_indices": [e["index"] for e in entries if e["status"] != "ok"],
        "declared_frames": source.declared_frames, "truncated": source.truncated,
        "interrupted": interrupted,
        "interrupted_by": (None if not interrupted else stop.signal_name
                           if stop is not None and stop.is_set() else "KeyboardInterrupt"),
        "initializer_runs": reinits["start"] + reinits["confidence"] + reinits["periodic"]
        + reinits["bad_frame"],
        "reinitializations": reinits["confidence"] + reinits["periodic"] + reinits["bad_frame"],
        "reinit_reasons": reinits,
        "latency": lat,
        "wall_seconds": round(wall, 3),
        "fps": round(len(entries) / wall, 2) if wall > 0 else None,
        "model_fps": round(n_ok / (model_ms / 1e3), 2) if model_ms > 0 else None,
        # Crop + model + decoding, the chain that cannot overlap (each crop follows the last
        # frame's keypoints): the most end-to-end frames/s can reach with overlap.
        "tracker_fps": round(len(entries) / tracker_s, 2) if tracker_s > 0 else None,
        "pipeline": (f"overlapped: frames read {depth} ahead, overlay drawn and written in a "
                     "second thread" if depth else "sequential"),
    }
    manifest = runner.manifest
    out = {
        "video": str(video), "backend": runner.backend, "runner": runner.describe(),
        "model": {k: manifest["model"].get(k) for k in ("variant", "sha256", "dataset")},
        "quantization": getattr(runner, "quantization", "fp32"),
        "input_size": tracker.input_size, "joints": tracker.names,
        "edges": [list(e) for e in tracker.edges],
        "keypoint_format": "[x, y, confidence] in frame pixels (0-based pixel centres)",
        "settings": {"reinit_threshold": tracker.reinit_threshold,
                     "reinit_every": tracker.reinit_every,
                     "keypoint_threshold": tracker.keypoint_threshold,
                     "follow_margin": tracker.follow_margin,
                     "follow_max_resize": tracker.follow_max_resize,
                     "follow_smoothing": tracker.follow_smoothing,
                     "start_box": None if bbox is None else [float(v) for v in bbox]},
        "frames": entries, "summary": summary,
    }
    if out_json:
        parent = os.path.dirname(os.path.abspath(out_json))
        os.makedirs(parent, exist_ok=True)
        tmp = out_json + ".tmp"  # replaced at once: a kill while writing leaves no torn JSON
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, out_json)
    log(format_summary(out))
    return out


def format_summary(out: dict) -> str:
    s = out["summary"]
    lines = [f"{out['video']}: {s['frames']} frames through {out['runner']}"]
    for g in ("initializer", "stepper"):
        st = s["latency"][g]
        if st["runs"]:
            lines.append(f"  {g:11s} {st['runs']:5d} runs  median {st['median_ms']:8.2f} ms  "
                         f"p90 {st['p90_ms']:8.2f} ms")
        else:
            lines.append(f"  {g:11s}     0 runs")
    fps = f"{s['fps']:.1f}" if s["fps"] else "n/a"
    mfps = f"{s['model_fps']:.1f}" if s["model_fps"] else "n/a"
    tfps = f"{s['tracker_fps']:.1f}" if s.get("tracker_fps") else "n/a"
    lines.append(f"  {fps} frames/s end to end ({mfps} frames/s model only, {tfps} frames/s "
                 f"crop + model + decoding); {s.get('pipeline', 'sequential')}")
    r = s["reinit_reasons"]
    lines.append(f"  re-initialized {s['reinitializations']}x (confidence {r['confidence']}, "
                 f"periodic {r['periodic']}, after bad frames {r['bad_frame']}); "
                 f"bad frames skipped: {s['bad_frames']}")
    if s["truncated"]:
        lines.append(f"  warning: the video ended early: {s['frames']} of "
                     f"{s['declared_frames']} declared frames (truncated or corrupt file?)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- signals
class StopRequest(threading.Event):
    """Set by the first SIGINT or SIGTERM under stop_on_signals; `signum` says which."""

    signum: int | None = None

    @property
    def signal_name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        """128 + the signal number, as a shell reports a process the signal ended (130: SIGINT,
        143: SIGTERM)."""
        return 128 + int(self.signum or signal.SIGINT)


@contextlib.contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Within the block, the first of `signals` sets the yielded StopRequest instead of killing
    the process (SIGTERM) or raising KeyboardInterrupt wherever the code is (SIGINT): stream_video
    then ends cleanly after the current frame, writing the JSON of the frames done and finalizing
    the overlay (an mp4 killed before its writer is released has no index and does not play). A
    second signal ends the process the default way, for a run that is stuck. Main thread only."""
    stop = StopRequest()

    def handler(signum, frame):
        if stop.is_set():
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        stop.signum = signum
        stop.set()

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def interruption_message(out: dict, out_video=None, out_json=None) -> str:
    """The one line a stream the user interrupted ends with."""
    s = out["summary"]
    wrote = [p for p in (out_json, out_video) if p]
    by = s.get("interrupted_by") or "an interrupt"
    return (f"interrupted: {out['video']}: stopped by {by} after {s['frames']} frames"
            + (f"; wrote them to {' and '.join(wrote)}" if wrote else ""))


# ---------------------------------------------------------------------------------- CLI

def main(argv):
    from absl import flags
    del argv
    f = flags.FLAGS
    from dkd_tf.cli.errors import quiet_tf_logging  # absl only: TensorFlow loads later
    quiet_tf_logging(f)
    check_video_path(f.video)  # before a preset is verified (hashed) or TensorFlow loads
    model_dir = f.model_dir or preset_model_dir(f.preset, f.backend)
    with stop_on_signals() as stop:
        out = stream_video(model_dir, f.video, f.backend, f.out_video or None,
                           f.out_json or None, parse_bbox(f.bbox), f.reinit_threshold,
                           f.reinit_every, f.keypoint_threshold, f.follow_margin,
                           follow_max_resize=f.follow_max_resize,
                           follow_smoothing=f.follow_smoothing,
                           num_threads=f.num_threads or None, max_frames=f.max_frames or None,
                           progress=f.progress, allow_unverified=f.allow_unverified,
                           overlap=f.overlap, stop=stop, finder=f.finder)
    if out["summary"]["interrupted"]:
        print(interruption_message(out, f.out_video, f.out_json), file=sys.stderr, flush=True)
        return stop.exit_status if stop.is_set() else 128 + int(signal.SIGINT)
    return 0


def preset_model_dir(name: str, backend: str) -> str:
    """The verified member of preset `name` (default presets.DEFAULT) that `backend` opens."""
    from dkd_tf import presets
    name = name or presets.DEFAULT
    meta = presets.verify(name)
    return presets.member_dir(name, presets.member_for(name, backend, meta), meta)


def _define_flags():
    from absl import flags
    flags.DEFINE_string("model_dir", None, "Export dir (manifest.json + graphs) for tflite/onnx; "
                        "for keras also a training model dir (model.keras + config.json). "
                        "Default: the --preset's.")
    flags.DEFINE_string("preset", "", "Shipped preset to stream with when --model_dir is not "
                        "given (name or alias; default: the real-world preset). Verified first.")
    flags.DEFINE_string("video", None, "Input: a video file OpenCV reads, a folder of frames "
                        "(sorted by name; gaps in numbering count as missing frames), or a camera "
                        "index such as 0.")
    flags.DEFINE_enum("backend", "tflite", ["tflite", "onnx", "keras"], "Runtime that executes "
                      "the initializer and stepper graphs.")
    flags.DEFINE_string("out_video", "", "Overlay video to write (.mp4/.m4v/.mov: mp4v, "
                        ".avi/.mkv: MJPG); empty: none.")
    flags.DEFINE_string("out_json", "", "JSON of per-frame keypoints [x, y, conf] and the "
                        "summary; empty: none.")
    from dkd_tf.pretrained.peers import PEERS
    flags.DEFINE_enum("finder", "", ["", *PEERS], "Person finder for frames seen whole (no "
                      "--bbox, or the person lost): a published network (fetched and "
                      "checksummed) whose keypoints' box the initializer starts from. Empty: "
                      "the initializer looks itself, twice.")
    flags.DEFINE_string("bbox", "", "Start box x1,y1,x2,y2 in frame pixels around the person; "
                        "empty: the whole frame.")
    flags.DEFINE_float("reinit_threshold", DEFAULT_REINIT_THRESHOLD, "Re-run the initializer "
                       "when a frame's mean peak confidence is below this; 0 disables.",
                       lower_bound=0.0)
    flags.DEFINE_integer("reinit_every", 0, "Re-run the initializer every N frames; 0 disables.",
                         lower_bound=0)
    flags.DEFINE_float("keypoint_threshold", DEFAULT_KEYPOINT_THRESHOLD, "Confidence from which "
                       "a keypoint is drawn and used to move the crop.")
    flags.DEFINE_float("follow_margin", DEFAULT_FOLLOW_MARGIN, "The box from the keypoints grows "
                       "by this fraction of its size on each side.", lower_bound=0.0)
    low, high = FOLLOW_SCALE_RANGE
    flags.DEFINE_float("follow_max_resize", DEFAULT_FOLLOW_MAX_RESIZE, "The followed box's "
                       "width and height change by at most this fraction per frame; with "
                       f"--bbox they also stay within {low:g}-{high:g}x of that box.",
                       lower_bound=1e-6)
    flags.DEFINE_float("follow_smoothing", DEFAULT_FOLLOW_SMOOTHING, "Share of its old position "
                       "the followed box's centre keeps each frame (0: it jumps to the keypoint "
                       "box's centre).", lower_bound=0.0, upper_bound=0.999)
    flags.DEFINE_integer("num_threads", 0, "Runtime threads (tflite/onnx); 0: the runtime's "
                         "default.", lower_bound=0, upper_bound=MAX_NUM_THREADS)
    flags.DEFINE_integer("max_frames", 0, "Stop after this many frames; 0: all (camera: until "
                         "Ctrl-C).", lower_bound=0)
    flags.DEFINE_boolean("progress", True, "Show a progress bar (files and folders).")
    flags.DEFINE_boolean("overlap", True, "Read and decode frames ahead, and draw and write the "
                         "overlay, in two threads beside the model (--nooverlap: one thread; "
                         "same output).")
    flags.DEFINE_boolean("allow_unverified", False, "Run TFLite/ONNX graphs whose manifest does "
                         "not record a passed parity check against Keras (refused otherwise).")
    flags.mark_flags_as_required(["video"])


if __name__ == "__main__":
    from dkd_tf.cli import errors
    _define_flags()
    errors.run(main)  # failures: one 'error: <file>: <problem>' line, exit status 1
