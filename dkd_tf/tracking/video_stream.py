"""A whole video through a PoseTracker: frames in, overlay video + keypoint JSON + summary out.

`stream_video(...)` returns the dict it writes as JSON (one entry per input frame, keypoints as
[x, y, confidence] in frame pixels) with a summary: per-graph latency (median, p90), frames per
second end to end and of the model alone, re-initialization and bad-frame counts. Reading the
next frames and drawing/writing the overlay run beside the model in two threads
(dkd_tf.tracking.pipelining), frame order kept. The check_* functions validate a stream's inputs
and outputs before any model loads.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time

import cv2
import numpy as np

from dkd_tf.core import lazy_modules
from dkd_tf.data.frame_crops import parse_bbox
from dkd_tf.data.video_frames import FrameSource, StreamError
from dkd_tf.serving.tracking_policy import (
    DEFAULT_FOLLOW_MARGIN, DEFAULT_FOLLOW_MAX_RESIZE, DEFAULT_FOLLOW_SMOOTHING,
    DEFAULT_KEYPOINT_THRESHOLD)
from dkd_tf.tracking import keypoint_filter, pipelining
from dkd_tf.tracking.drawing import draw_pose
from dkd_tf.tracking.pose_tracker import PoseTracker, export_finder, open_finder


transforms = lazy_modules.module("dkd_tf.data.transforms")  # first use (TensorFlow)

PIPELINE_DEPTH = 8  # frames read ahead of the model, and overlay frames queued behind it


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
                 reinit_threshold: float | None = None, reinit_every: int = 0,
                 keypoint_threshold: float = DEFAULT_KEYPOINT_THRESHOLD,
                 follow_margin: float = DEFAULT_FOLLOW_MARGIN,
                 follow_max_resize: float = DEFAULT_FOLLOW_MAX_RESIZE,
                 follow_smoothing: float = DEFAULT_FOLLOW_SMOOTHING, num_threads: int | None = None,
                 max_frames: int | None = None, progress: bool = True, runner=None,
                 log=print, allow_unverified: bool = False, overlap: bool = True,
                 stop: "StopRequest | None" = None, finder: str | None = None,
                 smoothing: dict | None = None, motion_prior: float | None = None,
                 follow_velocity: float | None = None) -> dict:
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

    finder: the person finder for frames seen whole (a dkd_tf.pretrained.peers key; '' or
    'none': the initializer looks itself); None: the one the export's manifest names
    (pose_tracker.export_finder).

    smoothing: One Euro filter settings for the reported keypoints
    (dkd_tf.tracking.keypoint_filter.make); None reports them as decoded. motion_prior:
    PoseTracker's (0: the plain argmax). follow_velocity, reinit_threshold: PoseTracker's. Any
    of them None: the export's manifest's.
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
                              finder=(export_finder(runner, num_threads, log)
                                      if finder is None
                                      else open_finder(finder, runner, num_threads, log)),
                              keypoint_filter=keypoint_filter.make(smoothing),
                              motion_prior=motion_prior, follow_velocity=follow_velocity)
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
        "decoding": runtimes.decoding_of(runner),
        "settings": {"reinit_threshold": tracker.reinit_threshold,
                     "reinit_every": tracker.reinit_every,
                     "keypoint_threshold": tracker.keypoint_threshold,
                     "follow_margin": tracker.follow_margin,
                     "follow_max_resize": tracker.follow_max_resize,
                     "follow_smoothing": tracker.follow_smoothing,
                     **tracker.temporal_settings(),
                     "finder": getattr(tracker.finder, "key", None if tracker.finder is None
                                       else type(tracker.finder).__name__),
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
    for g in ("finder", "initializer", "stepper"):
        if g not in s["latency"]:
            continue  # the finder's, where one ran
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


def preset_model_dir(name: str, backend: str) -> str:
    """The verified member of preset `name` (default presets.DEFAULT) that `backend` opens."""
    from dkd_tf import presets
    name = name or presets.DEFAULT
    meta = presets.verify(name)
    return presets.member_dir(name, presets.member_for(name, backend, meta), meta)
