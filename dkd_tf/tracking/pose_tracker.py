"""The streaming tracker: initializer on the first frame, stepper after it, the crop following the person.

    tracker = PoseTracker.from_preset(name)         # or PoseTracker(runner)
    for pose in tracker.track("clip.mp4"):          # one Pose per frame
        pose.keypoints                              # [K, 3]: x, y, confidence in frame pixels

Per frame: crop a square around the current person box (dkd_tf.data.frame_crops), run the
initializer (first frame, re-initialization) or the stepper with the state carried, decode with
the manifest's rule and map the keypoints back to the frame; the next box is the keypoints' box
(the follow policy of dkd_tf.serving.tracking_policy, written into every manifest).
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import time

import numpy as np

from dkd_tf.core import codec, crop_geometry, lazy_modules
from dkd_tf.data.frame_crops import (
    MIN_FRAME_SHARE, check_box, crop_frame, frame_share, full_frame_box)
from dkd_tf.data.video_frames import FrameItem, FrameSource, StreamError
from dkd_tf.serving import tracking_policy
from dkd_tf.serving.tracking_policy import (
    DEFAULT_FOLLOW_MARGIN, DEFAULT_FOLLOW_MAX_RESIZE, DEFAULT_FOLLOW_SMOOTHING,
    DEFAULT_KEYPOINT_THRESHOLD, FOLLOW_SCALE_RANGE)


transforms = lazy_modules.module("dkd_tf.data.transforms")  # first use (TensorFlow)

# After a whole-frame look (no box yet, or the person lost) the initializer looks again at the
# box its keypoints span; a person a few dozen pixels tall in a wide frame can first give a
# skeleton spread over several people and the background, whose box is then many times the
# person's, so it looks again while the box shrinks below REFINE_SHRINK of the last one.
MAX_REFINE_LOOKS = 3
REFINE_SHRINK = 0.5

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
        confidence is below this (0 disables), in the box (the whole frame when the initializer,
        run because of it, is below it again). None: the export's manifest's
        (tracking_policy.reinit_threshold_of).
      reinit_every: re-run the initializer every N frames (0 disables).
      keypoint_threshold: confidence from which a keypoint counts for following the person.
      follow: move the crop with the keypoints (False keeps the start box, or the per-frame box
        passed to process()).
      follow_margin: the keypoint box grows by this fraction of its size on each side.
      follow_max_resize: the followed box's width and height change by at most this fraction
        per frame (inf: no limit); a start box also bounds them to FOLLOW_SCALE_RANGE of its own.
      follow_smoothing: share of the old box centre kept each frame, in [0, 1) (0: the centre
        jumps to the keypoint box's).
      follow_velocity: in [0, 1], the share of the centre's recent velocity by which the old
        centre moves on before that average, so that the box keeps up with a walking person
        instead of lagging by speed x s / (1 - s) (0: off). None: the export's manifest's
        (tracking_policy.follow_velocity_of; 0 for exports made before it and for peers).
      find_refine: when the initializer had the whole frame to look at (no box yet, or the box
        was lost), run it once more, in the same frame, on the box its keypoints span (a
        person far from the camera is a few dozen pixels of the whole-frame crop), and again
        while that box still shrinks by half (_refine: up to MAX_REFINE_LOOKS looks).
      finder: a person finder for those whole frames, in place of the initializer's first
        look: a runner (e.g. dkd_tf.serving.runtimes.PeerRunner('movenet_lightning', ...), trained on
        whole images with several people) whose keypoints' box the initializer then starts
        from; its time counts as 'finder' latency. None: the initializer looks itself.
      keypoint_filter: smooths the keypoints reported over time (e.g.
        dkd_tf.tracking.keypoint_filter.OneEuroFilter()); the crop follows the raw ones, and the
        filter starts afresh with the person (reset, a lost track, an unreadable frame). None:
        the keypoints are reported as decoded.
      motion_prior: the stepper looks for each joint near where it was in the last frame
        (codec.decode_near: its heatmap weighted by a Gaussian of this share of the crop side
        around the last keypoint, for joints that were confident); 0 decodes the plain argmax.
        Keeps a joint on its own person when another walks past in front. Runners that yield
        keypoints (published peers) decode themselves and ignore it. None: the export's
        manifest's (tracking_policy.motion_prior_of; 0 for exports made before it).
    """

    def __init__(self, runner, reinit_threshold=None, reinit_every=0,
                 keypoint_threshold=DEFAULT_KEYPOINT_THRESHOLD, follow=True,
                 follow_margin=DEFAULT_FOLLOW_MARGIN,
                 follow_max_resize=DEFAULT_FOLLOW_MAX_RESIZE,
                 follow_smoothing=DEFAULT_FOLLOW_SMOOTHING, find_refine=True, finder=None,
                 keypoint_filter=None, motion_prior=None, follow_velocity=None):
        from dkd_tf.serving import manifest as manifest_lib
        if reinit_every < 0:
            raise StreamError(f"reinit_every must be >= 0, got {reinit_every}")
        if follow_margin < 0:
            raise StreamError(f"follow_margin must be >= 0, got {follow_margin}")
        if not follow_max_resize > 0:
            raise StreamError(f"follow_max_resize must be > 0, got {follow_max_resize}")
        if not 0.0 <= follow_smoothing < 1.0:
            raise StreamError(f"follow_smoothing must be in [0, 1), got {follow_smoothing}")
        velocity, memory = tracking_policy.follow_velocity_of(runner.manifest)
        if follow_velocity is not None:
            velocity = float(follow_velocity)
        if not 0.0 <= velocity <= 1.0:
            raise StreamError(f"follow_velocity must be in [0, 1], got {velocity}")
        if motion_prior is None:
            motion_prior = tracking_policy.motion_prior_of(runner.manifest)
        if not 0.0 <= motion_prior < 10.0:
            raise StreamError(f"motion_prior must be in [0, 10), got {motion_prior}")
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
        if reinit_threshold is None:
            reinit_threshold = tracking_policy.reinit_threshold_of(runner.manifest)
        self.reinit_threshold = float(reinit_threshold)
        self.reinit_every = int(reinit_every)
        self.keypoint_threshold = float(keypoint_threshold)
        self.follow = bool(follow)
        self.follow_margin = float(follow_margin)
        self.follow_max_resize = float(follow_max_resize)
        self.follow_smoothing = float(follow_smoothing)
        self.follow_velocity, self.velocity_memory = velocity, memory
        self.find_refine = bool(find_refine)
        self.finder = finder
        self.keypoint_filter = keypoint_filter
        self.motion_prior = float(motion_prior)
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
        kwargs: the tracker's settings (__init__), defaults as the CLI's; finder may also be a
        published network's key (open_finder), e.g. 'movenet_multipose' for frames of several
        people, or '' for none; without it, the one the export's manifest names
        (tracking_policy.finder_of: the real-world preset's movenet_multipose), or the
        initializer's own look where that network cannot be fetched (a warning says so)."""
        from dkd_tf import presets
        from dkd_tf.serving import runtimes
        finder = kwargs.get("finder")
        if isinstance(finder, str):
            check_finder_key(finder)  # before any model loads
        meta = presets.verify(preset)
        member = member or presets.member_for(preset, backend, meta)
        runner = runtimes.open_runner(backend, presets.member_dir(preset, member, meta),
                                      num_threads)
        if "finder" not in kwargs:
            kwargs["finder"] = export_finder(runner, num_threads)
        elif isinstance(finder, str):
            kwargs["finder"] = open_finder(finder, runner, num_threads)
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
        self._last = None  # the last frame's decoded keypoints and confidences (motion_prior)
        self._velocity = np.zeros(2, np.float32)  # the box centre's, frame px a frame
        if self.keypoint_filter is not None:
            self.keypoint_filter.reset()

    def mark_bad_frame(self, index: int, error: str = "") -> FrameResult:
        """A frame that could not be read: skip it and re-initialize on the next good one."""
        self.bad_frames += 1
        self._last = None
        self._velocity[:] = 0.0
        if self.keypoint_filter is not None:
            self.keypoint_filter.reset()
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
        searched = whole  # no box to look in: a new or lost person, on the whole frame
        if searched:
            self._velocity[:] = 0.0  # a person found afresh has no past motion
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
                keypoints, conf, region, used_box, more = self._refine(image, keypoints, conf,
                                                                       region, used_box)
                latency += more
        self._since_init += 1
        share = frame_share(region, h, w)
        if share < MIN_FRAME_SHARE:
            conf = conf * np.float32(share / MIN_FRAME_SHARE)
        mean_conf = float(np.mean(conf))
        low = self.reinit_threshold > 0 and mean_conf < self.reinit_threshold
        if low:
            self._pending = "confidence"  # keep the box: low-confidence keypoints mislead
            if share < MIN_FRAME_SHARE or reason == "confidence":
                # ... unless it is mostly off the frame, or the initializer, run in it because
                # the person was lost, found nobody there either: look at all of the frame
                self.box = None
        elif self.follow:
            self.box = self._follow_box(keypoints, conf, self.box)
        self._last = (keypoints, conf)
        if self.keypoint_filter is not None:
            if searched:  # the keypoints of a person (re)found: no past to smooth with
                self.keypoint_filter.reset()
            keypoints = self.keypoint_filter(keypoints, float(np.max(used_box[2:] - used_box[:2])))
        return FrameResult(index, "ok", graph, reason, keypoints, conf, mean_conf, used_box,
                           region, latency)

    def _run(self, image, box, graph):
        """One graph on the crop of `box`: (keypoints [K, 2] frame px, confidence [K], the
        region the crop covers, latency ms); the latency is recorded for the graph."""
        prior = None
        if graph == "initializer":
            call = self.runner.initialize
        else:
            def call(crop):
                return self.runner.step(crop, self.state)
            if self.motion_prior > 0 and self._last is not None:
                prior = self._last
        (keypoints, conf, center, size), self.state, latency = self._look(
            self.runner, call, image, box, self.input_size, self.stride, self.decoding, graph,
            prior)
        half = float(size) * transforms.CROP_MARGIN / 2.0
        cx, cy = float(center[0]), float(center[1])
        region = np.array([cx - half, cy - half, cx + half, cy + half], np.float32)
        return keypoints, conf, region, latency

    def _refine(self, image, keypoints, conf, region, box):
        """Looks again after a whole-frame look, in the same frame, at the box the keypoints
        span (as a person finder's box), and keeps that answer; while that box is under
        REFINE_SHRINK of the one just looked in (the person still small in the crop), again, up
        to MAX_REFINE_LOOKS looks. The last box looked in becomes the start box, which bounds
        the follow as a given one would. -> (keypoints, conf, region, box, latency ms)."""
        latency = 0.0
        for look in range(MAX_REFINE_LOOKS):
            found = self._keypoint_box(keypoints, conf)
            if found is None:
                break
            if look > 0 and np.max(found[2:] - found[:2]) >= REFINE_SHRINK * np.max(
                    box[2:] - box[:2]):
                break
            box = self.box = self.start_box = found
            keypoints, conf, region, more = self._run(image, box, "initializer")
            latency += more
        return keypoints, conf, region, box, latency

    def _find(self, image, box):
        """The finder on the crop of `box` (the whole frame): (the box its keypoints span or
        None, latency ms)."""
        from dkd_tf.serving import manifest as manifest_lib
        manifest = self.finder.manifest
        (keypoints, conf, _, _), _, latency = self._look(
            self.finder, self.finder.initialize, image, box, manifest_lib.input_size(manifest),
            int(manifest["stride"]), manifest["decoding"], "finder")
        return self._keypoint_box(keypoints, conf), latency

    def _look(self, runner, call, image, box, input_size, stride, decoding, latency_key,
              prior=None):
        """call(crop of `box`) -> ((keypoints [K, 2] frame px, confidence [K], crop centre,
        crop size), the call's state, latency ms), the latency recorded under latency_key.
        prior: (keypoints [K, 2] frame px, confidence [K]) of the last frame, for
        motion_prior's decoding."""
        crop, matrix, center, size = crop_frame(image, box, input_size)
        start = time.perf_counter()
        out, state = call(crop)
        latency = (time.perf_counter() - start) * 1e3
        self.latencies[latency_key].append(latency)
        if prior is not None and not getattr(runner, "yields_keypoints", False):
            last_xy = crop_geometry.transform_points(matrix, prior[0])  # frame -> this crop
            xy, conf = codec.decode_near(out[0], stride, decoding, last_xy,
                                         prior[1] >= self.keypoint_threshold,
                                         self.motion_prior * input_size)
        else:
            xy, conf = _keypoints_of(runner, out, stride, decoding)
        return (transforms.invert_points(matrix, xy), conf, center, size), state, latency

    def _extent(self, keypoints, conf):
        """(lo, hi, extent) of the box the keypoints span, or None when too few are confident
        (or any is not finite).
        All joints span it: dropping the unconfident ones (often wrists and ankles) would
        centre it on the torso and shrink it; a box from a few joints can be a sliver, so it
        is made at least half as wide as tall."""
        good = conf >= self.keypoint_threshold
        if int(good.sum()) < self.min_follow_joints or not np.all(np.isfinite(keypoints)):
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
        ahead = old_mid + self.follow_velocity * self._velocity
        mid = self.follow_smoothing * ahead + (1.0 - self.follow_smoothing) * (lo + hi) / 2.0
        size = extent * (1.0 + 2.0 * self.follow_margin)
        previous = box[2:] - box[:2]
        size = np.clip(size, previous / (1.0 + self.follow_max_resize),
                       previous * (1.0 + self.follow_max_resize))
        if self.start_box is not None:
            start = self.start_box[2:] - self.start_box[:2]
            size = np.clip(size, start * FOLLOW_SCALE_RANGE[0], start * FOLLOW_SCALE_RANGE[1])
        new = np.concatenate([mid - size / 2.0, mid + size / 2.0]).astype(np.float32)
        if not np.all(np.isfinite(new)):
            return box  # and the velocity as it was: a NaN would stick in it
        self._velocity = (self.velocity_memory * self._velocity
                          + (1.0 - self.velocity_memory) * (mid - old_mid)).astype(np.float32)
        return new

    def temporal_settings(self) -> dict:
        """What the tracker does with past frames, as the JSON outputs record it:
        {'keypoint_filter': the filter's describe() or None, 'motion_prior', 'follow_velocity'}."""
        return {"keypoint_filter": (None if self.keypoint_filter is None
                                    else self.keypoint_filter.describe()),
                "motion_prior": self.motion_prior,
                "follow_velocity": self.follow_velocity if self.follow else None}

    def latency_summary(self) -> dict:
        return {g: latency_stats(v) for g, v in self.latencies.items()}


def _finder_keys() -> tuple:
    from dkd_tf.pretrained import peers
    return peers.PEERS


def check_finder_key(key: str) -> None:
    """A StreamError unless `key` names a published network (dkd_tf.pretrained.peers) or none
    ('' or 'none')."""
    if key not in ("", "none", *_finder_keys()):
        raise StreamError(f"--finder {key}: unknown; choose one of {', '.join(_finder_keys())}")


def open_finder(key: str, runner, num_threads=None, log=None):
    """A published network (dkd_tf.pretrained.peers key) as PoseTracker's finder, its keypoints
    mapped to `runner`'s joints; None for an empty key or 'none'."""
    check_finder_key(key)
    if not key or key == "none":
        return None
    from dkd_tf.serving import runtimes
    return runtimes.peer_like(key, runner, num_threads, log)


def export_finder(runner, num_threads=None, log=print):
    """The finder `runner`'s export names (tracking_policy.finder_of), opened; None when it names
    none. Where that network cannot be fetched here (no npm, no network, a download that fails
    its pinned checksum), one warning line and None: the initializer looks at whole frames
    itself, as with `--finder none`; a finder the user names fails instead (open_finder)."""
    from dkd_tf.pretrained.fetch import FetchError
    key = tracking_policy.finder_of(runner.manifest)
    if not key:
        return None
    try:
        return open_finder(key, runner, num_threads, log)
    except FetchError as e:
        (log or print)(f"warning: the export's person finder {key} is unavailable ({e}); the "
                       "initializer looks at whole frames itself (--finder none chooses this without "
                       "a warning)")
        return None


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
