"""Golden vectors for the Android app's Java core, made by the Python tracker on real graphs.

    python android_demo/tools/golden.py [--export_dir EXPORT] [--out DIR]

Streams frames of a synthetic held-out video (seed SEED, never a training seed) through the
export's TFLite graphs with dkd_tf.tracking.pose_tracker.PoseTracker, in a few scenarios that together exercise
every decision (the manifest's own tracker constants with a start box, follow_smoothing 0.0 when
the manifest predates it; the whole frame as start with periodic and low-confidence
re-initialization, an unreadable frame and dkd_tf.serving.tracking_policy's follow_smoothing; the same
with the keypoints smoothed by dkd_tf.tracking.keypoint_filter, as dkd_tf.stream
--smooth_keypoints does; the stepper looking for each joint near its last position, as
dkd_tf.stream --motion_prior does; a start box mostly off the frame, whose confidences the
frame's share scales down; the box moving on with the person's velocity, follow_velocity 1 as
exports made since it came carry, with the second scenario's re-initializations and unreadable
frame; a person small in a wide frame, at whom the initializer looks again after the whole
frame while the box halves, find_refine as every whole-frame look of the others; the person
finder MoveNet MultiPose (dkd_tf.stream --finder movenet_multipose) on a few frames of pose2sim's
two-person camera (MultiPerson cam04, dkd_tf.data.footage, a quarter of its size), whose box the
initializer starts from, and on a synthetic frame where it finds nobody, so that the initializer
looks at the whole frame itself), and writes to DIR (default
android_demo/app/src/test/resources/golden):
  manifest.json  the export's manifest as the app gets it (tools/copy_export.py)
  finder.json    the finder's entry as the app gets it (copy_export.finder_entry)
  vectors.json   per scenario: tracker settings (with the follow_velocity, its memory and the
                 motion_prior the Python tracker used: the manifest's, 0 when it has none, where
                 the scenario sets none), start box, frame size; per frame: status, graph,
                 re-initialization reason, its looks in order (the frame's, then the refine
                 looks after a whole-frame one), each the person box it looked in and the raw
                 heatmaps it got (float32 little-endian, base64), why the refine looks stopped
                 (refine_stop: shrink, no_box or max_looks; frames whose first look was at the
                 whole frame), the decoded keypoints [x, y, confidence] in frame pixels, mean
                 confidence, the last look's person box and crop region (float32 values written
                 exactly); with a finder (the scenario's 'finder' key), on frames whose first
                 look was at the whole frame, the finder's look: the box its crop was made from,
                 its raw output (float32 [people, 56], base64), the chosen person's keypoints
                 mapped to the export's joints [x, y, confidence] in frame pixels and the box
                 they span (null: none, the initializer then looked at the whole frame); and the
                 fingerprint of the Python side (sha256 of the decoding and
                 tracker source and of manifest.json).
The Java tests (GoldenVectorsTest) replay the heatmaps through the Java core; the Python test
tests/test_android_golden.py fails when the fingerprint no longer matches the code, i.e. when the
Python side changed and the vectors were not regenerated with this command.
EXPORT defaults to the stream's default preset export (see copy_export.py).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import inspect
import itertools
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "android_demo", "app", "src", "test", "resources", "golden")
if REPO not in sys.path:
    sys.path.insert(0, REPO)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

SEED = 2027  # synthetic video seed: held out (the demo and the tests train on other seeds)
FRAME_HEIGHT, FRAME_WIDTH = 120, 160
VECTORS_FILE = "vectors.json"
MANIFEST_FILE = "manifest.json"
FINDER_FILE = "finder.json"
FINDER = "movenet_multipose"
# Two people walking: the camera where MultiPose's box matters (docs/experiments.md, "Finding one
# whole person among several"); frames 0, 10 and 20, a quarter of their size.
FINDER_VIDEO = "Pose2Sim/Demo_MultiPerson/videos/cam04.mp4"
FINDER_FRAMES = (0, 10, 20)
FINDER_SHRINK = 4


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(manifest_bytes: bytes) -> dict:
    """What the vectors depend on on the Python side: the decoding rule, the crop geometry, the
    tracker (its policy and constants), this generator, and the manifest."""
    from dkd_tf.core import codec
    from dkd_tf.core import crop_geometry
    from dkd_tf.data import frame_crops
    from dkd_tf.tracking import keypoint_filter, pose_tracker
    from dkd_tf.serving import tracking_policy
    from dkd_tf.data import transforms
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.pretrained import peers
    from dkd_tf.serving import runtimes
    from copy_export import finder_entry
    parts = {
        "dkd_tf.core.codec.decode_heatmaps": inspect.getsource(codec.decode_heatmaps),
        "dkd_tf.core.codec.decode_near": inspect.getsource(codec.decode_near),
        "dkd_tf.core.codec._refine_cells": inspect.getsource(codec._refine_cells),
        "dkd_tf.core.codec.cell_to_pixel": inspect.getsource(codec.cell_to_pixel),
        "dkd_tf.core.codec._parabola_offset": inspect.getsource(codec._parabola_offset),
        "dkd_tf.core.codec.PARABOLA_FLOOR": repr(codec.PARABOLA_FLOOR),
        "dkd_tf.core.codec._smoothed_around": inspect.getsource(codec._smoothed_around),
        "dkd_tf.core.codec.smoothing_taps": inspect.getsource(codec.smoothing_taps),
        "dkd_tf.core.codec.SMOOTH_SIGMA": repr((codec.SMOOTH_SIGMA, codec.SMOOTH_RADIUS)),
        "dkd_tf.data.transforms.CROP_MARGIN": repr(transforms.CROP_MARGIN),
        "dkd_tf.core.crop_geometry.crop_affine": inspect.getsource(crop_geometry.crop_affine),
        "dkd_tf.data.transforms.crop_matrix": inspect.getsource(transforms.crop_matrix),
        "dkd_tf.data.transforms.box_center_size": inspect.getsource(transforms.box_center_size),
        "dkd_tf.data.transforms.invert_points": inspect.getsource(transforms.invert_points),
        "dkd_tf.tracking.pose_tracker.PoseTracker": inspect.getsource(pose_tracker.PoseTracker),
        "dkd_tf.tracking.keypoint_filter": inspect.getsource(keypoint_filter),
        "dkd_tf.data.frame_crops.full_frame_box": inspect.getsource(frame_crops.full_frame_box),
        "dkd_tf.data.frame_crops.crop_frame": inspect.getsource(frame_crops.crop_frame),
        "dkd_tf.data.frame_crops.frame_share": inspect.getsource(frame_crops.frame_share),
        "dkd_tf.data.frame_crops.MIN_FRAME_SHARE": repr(frame_crops.MIN_FRAME_SHARE),
        "dkd_tf.serving.tracking_policy": inspect.getsource(tracking_policy),
        "dkd_tf.serving.manifest.DECODING": repr(manifest_lib.DECODING),
        # the person finder: its choice, scaling and mapping of keypoints, and its file entry
        "dkd_tf.pretrained.peers.choose_person": inspect.getsource(peers.choose_person),
        "dkd_tf.pretrained.peers.map_keypoints": inspect.getsource(peers.map_keypoints),
        "dkd_tf.pretrained.peers.joint_mapping": inspect.getsource(peers.joint_mapping),
        "dkd_tf.pretrained.peers.DERIVED": repr(sorted(peers.DERIVED.items())),
        "dkd_tf.pretrained.peers.Peer.predict": inspect.getsource(peers.Peer.predict),
        "dkd_tf.serving.runtimes.PeerRunner": inspect.getsource(runtimes.PeerRunner),
        "dkd_tf.tracking.pose_tracker._keypoints_of": inspect.getsource(
            pose_tracker._keypoints_of),
        "android_demo/tools/copy_export.py:finder_entry": inspect.getsource(finder_entry),
        "android_demo/tools/golden.py": open(os.path.abspath(__file__), encoding="utf-8").read(),
    }
    h = hashlib.sha256()
    for name in sorted(parts):
        h.update(name.encode() + b"\0" + parts[name].encode("utf-8") + b"\0")
    return {"python_sha256": h.hexdigest(), "manifest_sha256": _sha256(manifest_bytes),
            "parts": sorted(parts)}


class RecordingRunner:
    """Passes calls to a runner and keeps the heatmaps of the last call."""

    def __init__(self, runner):
        self.runner, self.manifest, self.last = runner, runner.manifest, None

    def initialize(self, frame):
        heatmaps, state = self.runner.initialize(frame)
        self.last = heatmaps
        return heatmaps, state

    def step(self, frame, state):
        heatmaps, state = self.runner.step(frame, state)
        self.last = heatmaps
        return heatmaps, state


class RecordingFinder:
    """Passes calls to a person finder (runtimes.PeerRunner over MoveNet MultiPose) and keeps its
    graph's raw output [people, 56] of the last call, before choose_person picked one."""

    yields_keypoints = True

    def __init__(self, finder):
        self.finder, self.manifest, self.last = finder, finder.manifest, None

    def initialize(self, frame):
        out = self.finder.initialize(frame)
        interp = self.finder.peer.interpreter
        self.last = interp.get_tensor(interp.get_output_details()[0]["index"])[0].copy()
        return out


def _recording_tracker(rec, **kwargs):
    """A PoseTracker over RecordingRunner `rec` whose `looks` gets, for every graph call (a
    frame's look, its refine looks after a whole-frame one among them), the box it looked in and
    the heatmaps it got (and the keypoints and confidences it decoded); with a RecordingFinder
    as kwargs' finder, `finds` gets the finder's looks: the box, its raw output, the keypoints
    (frame px) and confidences it gave."""
    from dkd_tf.tracking import pose_tracker

    class RecordingTracker(pose_tracker.PoseTracker):
        def _run(self, image, box, graph):
            out = super()._run(image, box, graph)
            self.looks.append((box.copy(), rec.last[0].copy(), out[0], out[1]))
            return out

        def _look(self, runner, call, image, box, *args, **kw):
            out = super()._look(runner, call, image, box, *args, **kw)
            if runner is self.finder:
                self.finds.append((box.copy(), runner.last, out[0][0], out[0][1]))
            return out

    tracker = RecordingTracker(rec, **kwargs)
    tracker.looks, tracker.finds = [], []
    return tracker


def _refine_stop(tracker) -> str:
    """Why the looks after a whole-frame look (find_refine) ended, from the tracker's `looks` of
    the frame: 'max_looks' (MAX_REFINE_LOOKS of them), 'no_box' (too few confident keypoints
    for a box) or 'shrink' (the box no longer under REFINE_SHRINK of the one looked in)."""
    from dkd_tf.tracking import pose_tracker
    _, _, keypoints, conf = tracker.looks[-1]
    if len(tracker.looks) > pose_tracker.MAX_REFINE_LOOKS:
        return "max_looks"
    return "no_box" if tracker._keypoint_box(keypoints, conf) is None else "shrink"


def _f32(values):
    import numpy as np
    return [float(v) for v in np.asarray(values, np.float32).reshape(-1)]


def _b64(values) -> str:
    import numpy as np
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def run_scenario(runner, frames, settings: dict, start_box, bad_frames=(), finder=None) -> dict:
    """Streams `frames` with a fresh PoseTracker; -> the scenario's vectors. settings: the
    tracker's (motion_prior and follow_velocity among them), and 'smoothing'
    (keypoint_filter.make's settings) when the keypoints are smoothed. finder: a person finder
    (runtimes.peer_like) whose looks are recorded too. The settings recorded
    add the follow_velocity, follow_velocity_memory and motion_prior the tracker streamed with
    (without a follow_velocity or motion_prior: the manifest's, 0 when it has none; the memory
    is always the manifest's), so that the Java replay needs no manifest defaults."""
    import numpy as np

    from dkd_tf.tracking import keypoint_filter
    rec = RecordingRunner(runner)
    tracker_settings = {k: v for k, v in settings.items()
                        if k not in ("smoothing", "follow_velocity_memory")}
    tracker = _recording_tracker(
        rec, keypoint_filter=keypoint_filter.make(settings.get("smoothing")),
        finder=None if finder is None else RecordingFinder(finder), **tracker_settings)
    memory = settings.get("follow_velocity_memory", tracker.velocity_memory)
    if memory != tracker.velocity_memory:
        raise ValueError(f"follow_velocity_memory {memory} is not the manifest's "
                         f"{tracker.velocity_memory}, which the Python tracker streams with")
    settings = dict(settings, follow_velocity=float(tracker.follow_velocity),
                    follow_velocity_memory=float(tracker.velocity_memory),
                    motion_prior=float(tracker.motion_prior))
    tracker.reset(start_box)
    out = []
    for i, image in enumerate(frames):
        if i in bad_frames:
            tracker.mark_bad_frame(i, "golden: simulated unreadable frame")
            out.append({"index": i, "status": "bad_frame"})
            continue
        tracker.looks.clear()
        tracker.finds.clear()
        whole = tracker.box is None  # the first look is at the whole frame: refine looks follow
        r = tracker.process(image, i)
        out.append({
            "index": i, "status": "ok", "graph": r.graph, "reason": r.reinit_reason,
            "looks": [{"box": _f32(box), "heatmaps": _b64(hm)}
                      for box, hm, _, _ in tracker.looks],
            "keypoints": [_f32(row) for row in np.concatenate(
                [r.keypoints, r.confidence[:, None]], axis=1)],
            "mean_confidence": float(np.float32(r.mean_confidence)),
            "box": _f32(r.box), "crop": _f32(r.crop),
        })
        found = None
        for box, raw, keypoints, conf in tracker.finds:
            found = tracker._keypoint_box(keypoints, conf)
            out[-1]["finder"] = {
                "box": _f32(box), "raw": _b64(raw),
                "keypoints": [_f32(row) for row in np.concatenate([keypoints, conf[:, None]], 1)],
                "found": None if found is None else _f32(found)}
        if whole and found is None:  # the initializer's own whole-frame look: refine looks
            out[-1]["refine_stop"] = _refine_stop(tracker)
    return {"settings": settings, "finder": None if finder is None else finder.key,
            "start_box": None if start_box is None else _f32(start_box),
            "frame_width": int(frames[0].shape[1]), "frame_height": int(frames[0].shape[0]),
            "frames": out}


def _finder_frames():
    """FINDER_FRAMES of FINDER_VIDEO (dkd_tf.data.footage: the pinned pose2sim wheel, fetched
    and cached), RGB, shrunk FINDER_SHRINK times (the app's camera frames are about that size)."""
    import cv2

    from dkd_tf.data import footage
    cap = cv2.VideoCapture(footage.pose2sim_video(FINDER_VIDEO))
    try:
        out = []
        for i in range(max(FINDER_FRAMES) + 1):
            ok, frame = cap.read()
            if not ok:
                raise ValueError(f"{FINDER_VIDEO}: cannot read frame {i}")
            if i in FINDER_FRAMES:
                h, w = frame.shape[:2]
                small = cv2.resize(frame, (w // FINDER_SHRINK, h // FINDER_SHRINK),
                                   interpolation=cv2.INTER_AREA)
                out.append(small[:, :, ::-1].copy())
        return out
    finally:
        cap.release()


def generate(export_dir: str, out_dir: str = DEFAULT_OUT, log=print) -> dict:
    import numpy as np

    from copy_export import finder_entry, open_export
    from dkd_tf.serving import tracking_policy
    from dkd_tf.data import synthetic
    from dkd_tf.serving import graphs as graphs_lib
    from dkd_tf.serving import manifest as manifest_lib
    runner, manifest = open_export(export_dir)
    manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    video = synthetic.render_video(synthetic.video_rng(SEED, 0), 12, FRAME_HEIGHT, FRAME_WIDTH)
    frames = video["frames"]
    t = manifest["tracker"]
    defaults = {"reinit_threshold": float(t["reinit_threshold"]),
                "reinit_every": int(t["reinit_every"]),
                "keypoint_threshold": float(t["keypoint_threshold"]),
                "follow_margin": float(t["follow_margin"]),
                "follow_max_resize": float(t["follow_max_resize"]),
                # A manifest from before follow_smoothing existed: 0.0, as the app reads it.
                "follow_smoothing": float(t.get("follow_smoothing", 0.0))}
    if [float(v) for v in t["follow_scale_range"]] != list(tracking_policy.FOLLOW_SCALE_RANGE):
        raise ValueError(f"{export_dir}: the manifest's follow_scale_range "
                         f"{t['follow_scale_range']} is not dkd_tf.stream's; the Python tracker "
                         "cannot replay it")
    first = run_scenario(runner, frames[:8], defaults, video["bboxes"][0])
    # Thresholds that make this model follow and re-initialize both for low confidence and
    # periodically (a confidence re-initialization restarts the period): the first quantile of
    # the mean confidences that gives both, with a period of 4 frames, else 3, else 2; else the
    # first that gives a confidence one.
    ok = [f for f in first["frames"] if f["status"] == "ok"]
    means = np.array([f["mean_confidence"] for f in ok])
    confs = np.array([k[2] for f in ok for k in f["keypoints"]])
    second, second_reasons = None, set()
    for every, q in itertools.product((4, 3, 2), (0.35, 0.5, 0.65, 0.8, 0.2, 0.1, 0.05)):
        # The tracker's own smoothing, so the vectors exercise the centre's moving average
        # even when the manifest predates it (and its scenario above runs without).
        busy = dict(defaults, reinit_every=every,
                    follow_smoothing=float(tracking_policy.DEFAULT_FOLLOW_SMOOTHING),
                    reinit_threshold=round(float(np.quantile(means, q)), 6),
                    keypoint_threshold=round(float(np.quantile(confs, 0.4)), 6))
        candidate = run_scenario(runner, frames, busy, None, bad_frames=(5,))
        got = {f.get("reason") for f in candidate["frames"]}
        if second is None or ("confidence" in got and "confidence" not in second_reasons):
            second, second_reasons = candidate, got
        if {"confidence", "periodic"} <= got:
            second = candidate
            break
    # A person lost: a start box on the background, and a threshold between this model's mean
    # confidence there and on the person (the first scenario's median), so that the first look
    # and the re-initialization in the box are low and the third frame looks at the whole frame.
    from dkd_tf.data.frame_crops import full_frame_box
    fh, fw = frames[0].shape[:2]
    whole = [float(v) for v in full_frame_box(fh, fw)]
    person = float(np.median(means))
    for corner in ([0.0, 0.0, 0.2 * fw, 0.2 * fh], [0.8 * fw, 0.8 * fh, fw - 1.0, fh - 1.0],
                   [0.0, 0.8 * fh, 0.2 * fw, fh - 1.0], [0.8 * fw, 0.0, fw - 1.0, 0.2 * fh]):
        probe = run_scenario(runner, frames[:2], dict(defaults, reinit_threshold=0.0), corner)
        empty = max(f["mean_confidence"] for f in probe["frames"])
        if empty < person:
            lost = run_scenario(runner, frames[:4], dict(
                defaults, reinit_threshold=round((empty + person) / 2.0, 6)), corner)
            if [f.get("reason") for f in lost["frames"][:3]] == ["start", "confidence",
                                                                 "confidence"] \
                    and np.allclose(lost["frames"][2]["looks"][0]["box"], whole):
                break
    else:
        lost = None
        log("warning: no start box on the background re-initialized twice; the Java tests will "
            "not cover the whole-frame search after a lost person with this export")
    # The keypoints smoothed (dkd_tf.stream --smooth_keypoints' defaults): from the whole frame
    # with the second scenario's re-initializations and unreadable frame, so that every reset
    # of the filter is exercised.
    from dkd_tf.tracking import keypoint_filter
    smoothed = run_scenario(runner, frames, dict(
        second["settings"], smoothing={"min_cutoff": keypoint_filter.DEFAULT_MIN_CUTOFF,
                                       "beta": keypoint_filter.DEFAULT_BETA,
                                       "d_cutoff": keypoint_filter.DEFAULT_D_CUTOFF}),
        None, bad_frames=(5,))
    # The stepper looking for each joint near its last position (dkd_tf.stream --motion_prior),
    # from the start box, with the second scenario's re-initializations: the widest prior of
    # these that changes some keypoint of this model, so that the Java replay pins it (against
    # the plain argmax, whatever motion_prior the manifest gives the other scenarios).
    plain = run_scenario(runner, frames, dict(second["settings"], motion_prior=0.0),
                         video["bboxes"][0])
    for prior in (0.1, 0.05, 0.03, 0.02, 0.01):
        near = run_scenario(runner, frames, dict(second["settings"], motion_prior=prior),
                            video["bboxes"][0])
        if any(np.abs(np.asarray(a["keypoints"]) - np.asarray(b["keypoints"])).max() > 0.01
               for a, b in zip(plain["frames"], near["frames"]) if a["status"] == "ok"):
            break
    else:
        log("warning: no motion prior changes this model's keypoints; the Java tests will not "
            "pin it with this export")
    # A start box mostly off the frame (its crop holds about 1 % of it): the confidences are
    # scaled down by the frame's share (frame_crops.MIN_FRAME_SHARE), the frame re-initializes
    # for low confidence, and the next crop is the whole frame.
    h, w = frames[0].shape[:2]
    off = run_scenario(runner, frames[:4], dict(defaults, reinit_threshold=0.1),
                       [w - 2.0, h - 2.0, w + 60.0, h + 60.0])
    if off["frames"][1].get("reason") != "confidence":
        log("warning: the off-frame start did not re-initialize; the Java tests will not cover "
            "the frame-share rule with this export")
    # The box moving on with the person's velocity (follow_velocity 1, as exports made since it
    # came carry in their manifest; this one may predate it): from the whole frame with the
    # second scenario's re-initializations and unreadable frame, which restarts the velocity.
    velocity = run_scenario(runner, frames, dict(
        second["settings"], follow_velocity=float(tracking_policy.DEFAULT_FOLLOW_VELOCITY)),
        None, bad_frames=(5,))
    still = second if second["settings"]["follow_velocity"] == 0 else run_scenario(
        runner, frames, dict(second["settings"], follow_velocity=0.0), None, bad_frames=(5,))
    if all(a.get("box") == b.get("box") for a, b in zip(still["frames"], velocity["frames"])):
        log("warning: follow_velocity does not change this model's boxes; the Java tests will "
            "not pin it with this export")
    # A person small in a wide frame: the clip's frames in the middle of a frame `scale` times
    # their size, filled with their mean colour, from the whole frame. The initializer's look at
    # it gives a box many times the person's, so it looks again (find_refine) while the box
    # halves: the first scale whose first frame takes two refine looks or more.
    for scale in (4, 3, 5, 6):
        wide = []
        for image in frames[:4]:
            canvas = np.empty((scale * h, scale * w, 3), np.uint8)
            canvas[:] = image.reshape(-1, 3).mean(0).astype(np.uint8)
            top, left = (scale - 1) * h // 2, (scale - 1) * w // 2
            canvas[top:top + h, left:left + w] = image
            wide.append(canvas)
        small = run_scenario(runner, wide, defaults, None)
        if len(small["frames"][0]["looks"]) >= 3:
            break
    else:
        log("warning: no small person took a second refine look; the Java tests will not "
            "cover REFINE_SHRINK's decision to look again with this export")
    # The person finder: on the two-person camera it finds a person whose box the initializer
    # starts from (no refine looks); on the first synthetic frame where it finds nobody with
    # enough confident keypoints, the initializer looks at the whole frame itself.
    from dkd_tf.serving import runtimes
    finder = runtimes.peer_like(FINDER, runner)
    people = run_scenario(runner, _finder_frames(), defaults, None, finder=finder)
    if people["frames"][0].get("finder", {}).get("found") is None:
        raise ValueError(f"{FINDER} finds nobody on {FINDER_VIDEO}'s first frame")
    for i, image in enumerate(frames):
        nobody = run_scenario(runner, [image], defaults, None, finder=finder)
        if nobody["frames"][0]["finder"]["found"] is None:
            break
    else:
        raise ValueError(f"{FINDER} finds a person on every synthetic frame")
    scenarios = {"manifest_defaults_start_box": first, "reinit_full_frame_bad_frame": second,
                 "smoothed_keypoints": smoothed, "motion_prior": near, "off_frame_start": off,
                 "follow_velocity": velocity, "small_person": small,
                 "finder_two_people": people, "finder_finds_nobody": nobody}
    if lost is not None:
        scenarios["lost_person"] = lost
    reasons = {f.get("reason") for s in scenarios.values() for f in s["frames"]}
    missing = {"start", "confidence", "periodic", "bad_frame"} - reasons
    if missing:
        log(f"warning: these frames never re-initialize for {sorted(missing)}; the Java tests "
            "will not cover that decision with this export")
    stops = {f["refine_stop"] for s in scenarios.values() for f in s["frames"]
             if "refine_stop" in f}
    if "shrink" not in stops:
        log("warning: no refine look stops for REFINE_SHRINK; the Java tests will not cover "
            "that decision with this export")
    vectors = {
        "description": "made by android_demo/tools/golden.py; replayed by the Java core's "
                       "GoldenVectorsTest",
        "fingerprint": fingerprint(manifest_bytes),
        "export": {"dir": os.path.relpath(os.path.abspath(export_dir), REPO),
                   "manifest_sha256": graphs_lib.file_sha256(
                       manifest_lib.manifest_path(export_dir)),
                   "model_sha256": manifest["model"].get("sha256")},
        "video": {"generator": "dkd_tf.data.synthetic.render_video", "seed": SEED, "index": 0,
                  "height": FRAME_HEIGHT, "width": FRAME_WIDTH},
        "heatmap_shape": manifest["heatmap_shape"],
        "heatmap_encoding": "float32 little-endian NHWC without the batch axis, base64",
        "scenarios": scenarios,
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, MANIFEST_FILE), "wb") as f:
        f.write(manifest_bytes)
    with open(os.path.join(out_dir, FINDER_FILE), "w") as f:
        json.dump(finder_entry(FINDER, manifest, finder.source), f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, VECTORS_FILE), "w") as f:
        json.dump(vectors, f, indent=1)
        f.write("\n")
    n = sum(len(s["frames"]) for s in scenarios.values())
    size = sum(os.path.getsize(os.path.join(out_dir, x))
               for x in (MANIFEST_FILE, VECTORS_FILE, FINDER_FILE))
    looks = sorted({len(f["looks"]) for s in scenarios.values() for f in s["frames"]
                    if "refine_stop" in f})
    log(f"wrote {n} frames in {len(scenarios)} scenarios to {out_dir} ({size / 1024:.0f} KB); "
        f"decisions: {sorted(r for r in reasons if r)}; whole-frame looks followed by "
        f"{[k - 1 for k in looks]} refine looks, stopped by {sorted(stops)}")
    return vectors


def main(argv=None) -> int:
    from copy_export import default_export_dir
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export_dir", default=None,
                        help="export directory with TFLite graphs (default: the shipped "
                             "default preset export)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    from dkd_tf.serving.manifest import ManifestError
    export_dir = args.export_dir or default_export_dir()
    if export_dir is None:
        print("error: no --export_dir and no verified default preset export under dkd_tf/presets/",
              file=sys.stderr)
        return 1
    try:
        generate(export_dir, args.out)
    except (ManifestError, OSError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
