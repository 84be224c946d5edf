"""Issue 31: nothing of the user's is destroyed. Output paths are checked before any work and are
never an input of the run; first boxes are checked; signals end a stream cleanly; a model
directory is locked while training writes it."""
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

from dkd_tf.core import output_paths
from dkd_tf.data import frame_crops
from dkd_tf.data import video_frames
from dkd_tf.tracking import pose_tracker
from dkd_tf.tracking import video_stream
from dkd_tf.data import synthetic
from dkd_tf.serving import onnx_export
from dkd_tf.serving import tflite_export
from tests.helpers import make_model_dir, write_video

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
H, W = 96, 128
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def _quiet(*_):
    pass


def digest(path):
    with open(path, "rb") as f:
        return hash(f.read())


_SHARED = {}


def setUpModule():
    root = tempfile.mkdtemp(prefix="dkd_reliability_test_")
    model_dir = make_model_dir(os.path.join(root, "model"), calibrate=True)
    video = synthetic.render_video(synthetic.video_rng(7, 0), 12, H, W)
    avi = write_video(os.path.join(root, "clip.avi"), video["frames"])
    _SHARED.update(root=root, model_dir=model_dir, video=video, avi=avi)


def tearDownModule():
    shutil.rmtree(_SHARED["root"], ignore_errors=True)


class OutputPathsTest(tf.test.TestCase):
    """Item 1 (issue items 1 and 7): outputs checked first, never an input."""

    def setUp(self):
        super().setUp()
        self.root = self.get_temp_dir()
        self.model_dir, self.avi = _SHARED["model_dir"], _SHARED["avi"]

    def refused(self, pattern, **kwargs):
        """stream_video must refuse before opening any runner (no work done)."""
        before = digest(self.avi)
        with mock.patch("dkd_tf.serving.runtimes.open_runner",
                        side_effect=AssertionError("the runner was opened")):
            with self.assertRaisesRegex(output_paths.OutputPathError, pattern):
                video_stream.stream_video(self.model_dir, self.avi, "keras", progress=False,
                                    log=_quiet, **kwargs)
        self.assertEqual(digest(self.avi), before)  # the input is intact

    def test_an_output_is_never_the_input_video(self):
        self.refused(r"clip\.avi: --out_video: is an input of this run", out_video=self.avi)
        self.refused(r"clip\.avi: --out_json: is an input of this run", out_json=self.avi)
        # Another spelling of the same file, and a hard link to it.
        other = os.path.join(os.path.dirname(self.avi), ".", "clip.avi")
        self.refused("is an input of this run", out_json=other)
        link = os.path.join(self.root, "link.avi")
        os.link(self.avi, link)
        self.refused("is an input of this run", out_video=link)

    def test_an_output_is_never_a_model_file_nor_the_other_output(self):
        model_file = os.path.join(self.model_dir, "model.keras")
        before = digest(model_file)
        self.refused(r"model\.keras: --out_json: is an input", out_json=model_file)
        self.assertEqual(digest(model_file), before)
        # Other files of the model directory are not inputs (e.g. an earlier run's outputs).
        earlier = os.path.join(self.model_dir, "earlier_keypoints.json")
        with open(earlier, "w") as f:
            f.write("{}")
        with mock.patch("dkd_tf.serving.runtimes.open_runner", side_effect=RuntimeError("opened")):
            with self.assertRaisesRegex(RuntimeError, "opened"):  # accepted: it got that far
                video_stream.stream_video(self.model_dir, self.avi, "keras", out_json=earlier,
                                    progress=False, log=_quiet)
        os.remove(earlier)
        same = os.path.join(self.root, "both.avi")
        self.refused(r"both\.avi: --out_json: is also given as --out_video", out_video=same,
                     out_json=same)

    def test_unwritable_outputs_are_refused_before_the_work(self):
        a_file = os.path.join(self.root, "plain.txt")
        with open(a_file, "w") as f:
            f.write("x")
        self.refused(r"plain\.txt/k\.json: --out_json: .*plain\.txt is a file, not a directory",
                     out_json=os.path.join(a_file, "k.json"))
        self.refused(r"plain\.txt/sub/k\.json: --out_json: .*is a file, not a directory",
                     out_json=os.path.join(a_file, "sub", "k.json"))
        self.refused(r"--out_json: is a directory, not a file", out_json=self.root)
        self.refused(r"--out_video: is a directory, not a file", out_video=self.root + "/")
        with self.assertRaisesRegex(video_frames.StreamError, r"x\.gif: --out_video: use \.mp4"):
            with mock.patch("dkd_tf.serving.runtimes.open_runner", side_effect=AssertionError("opened")):
                video_stream.stream_video(self.model_dir, self.avi, "keras", progress=False,
                                    out_video=os.path.join(self.root, "x.gif"), log=_quiet)
        # A read-only file system (os.access says yes to root; the probe does not).
        try:
            with tempfile.TemporaryFile(dir="/sys"):
                read_only = False
        except OSError:
            read_only = True
        if read_only:
            self.refused(r"/sys/k\.json: --out_json: cannot write in /sys",
                         out_json="/sys/k.json")

    def test_good_outputs_still_work_in_new_folders(self):
        out_json = os.path.join(self.root, "new", "deeper", "k.json")
        out_video = os.path.join(self.root, "new", "o.avi")
        out = video_stream.stream_video(self.model_dir, self.avi, "keras", out_video=out_video,
                                  out_json=out_json, max_frames=3, progress=False, log=_quiet)
        with open(out_json) as f:
            self.assertLen(json.load(f)["frames"], 3)
        self.assertLen(out["frames"], 3)
        self.assertFalse(os.path.exists(out_json + ".tmp"))

    def test_cli_refuses_to_overwrite_its_input(self):
        video = os.path.join(self.root, "c.avi")
        shutil.copyfile(self.avi, video)
        before = digest(video)
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.stream", f"--model_dir={self.model_dir}",
             f"--video={video}", "--backend=keras", f"--out_video={video}", "--noprogress"],
            cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        # One error line, the last (TensorFlow's start-up log lines may come before it).
        errors = [l for l in proc.stderr.splitlines() if l.startswith("error")]
        self.assertEqual(proc.stderr.strip().splitlines()[-1:], errors)
        self.assertEqual(errors,
                         [f"error: {video}: --out_video: is an input of this run ({video}); "
                          "writing there would destroy it, choose another path"])
        self.assertEqual(digest(video), before)

    def test_export_out_dir_that_is_a_file_fails_before_the_export(self):
        a_file = os.path.join(self.root, "not_a_dir")
        with open(a_file, "w") as f:
            f.write("keep me")
        for export in (tflite_export.export_tflite, onnx_export.export_onnx):
            with self.subTest(export=export.__module__):
                with mock.patch("dkd_tf.serving.graphs.load_model_dir",
                                side_effect=AssertionError("the model was loaded")):
                    with self.assertRaisesRegex(output_paths.OutputPathError,
                                                r"not_a_dir: --out_dir: is a file, not a "
                                                "directory"):
                        export(self.model_dir, a_file, log=_quiet)
                    with self.assertRaisesRegex(output_paths.OutputPathError,
                                                r"not_a_dir is a file, not a directory"):
                        export(self.model_dir, os.path.join(a_file, "e"), log=_quiet)
                with open(a_file) as f:
                    self.assertEqual(f.read(), "keep me")


class ConstantRunner:
    """A runner whose heatmaps have one confident peak (0.9) per joint whatever the crop shows,
    like a model answering about 0.47 on a black crop (issue 31, item 9)."""

    backend = "fake"

    def __init__(self, runner):
        self.manifest = runner.manifest
        self.inner = runner
        _, h, w, k = runner.heatmap_shape
        self.heatmaps = np.zeros((1, h, w, k), np.float32)
        self.heatmaps[0, h // 2, w // 2, :] = 0.9
        self.crops = []

    def initialize(self, crop):
        self.crops.append(crop)
        return self.heatmaps, np.zeros(self.inner.state_shape, np.float32)

    def step(self, crop, state):
        self.crops.append(crop)
        return self.heatmaps, state

    def warmup(self):
        pass

    def describe(self):
        return "constant"


class FirstBoxTest(tf.test.TestCase):
    """Item 2 (issue item 9): first boxes are checked; a crop with almost no frame in it never
    reports a confident pose."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from dkd_tf.serving import runtimes
        cls.runner = ConstantRunner(runtimes.open_runner("keras", _SHARED["model_dir"]))
        cls.frames = _SHARED["video"]["frames"]

    def test_bad_boxes_are_refused_through_the_api(self):
        tracker = pose_tracker.PoseTracker(self.runner)
        for box, pattern in (([np.nan, 0, 10, 10], "four finite numbers"),
                             ([0, 0, np.inf, 10], "four finite numbers"),
                             ([0, 0, 10], "four finite numbers"),
                             ([10, 10, 10, 50], "has no area"),
                             ([10, 50, 40, 20], "has no area")):
            with self.subTest(box=box):
                with self.assertRaisesRegex(video_frames.StreamError, "^start box .*" + pattern):
                    tracker.reset(box)
        for box in ([200, 10, 300, 80], [-90, -90, -1, -1], [0, 96, 50, 150]):
            with self.subTest(box=box):
                tracker.reset(box)  # its frame is not known yet
                with self.assertRaisesRegex(video_frames.StreamError,
                                            "^start box .*lies outside the 128x96 frame"):
                    tracker.process(self.frames[0], 0)
                with self.assertRaisesRegex(video_frames.StreamError, "^box .*lies outside"):
                    pose_tracker.PoseTracker(self.runner).process(self.frames[0], 0, box=box)

    def test_bad_boxes_are_refused_in_the_stream_path(self):
        with self.assertRaisesRegex(video_frames.StreamError, r"--bbox 'nan,0,10,10'"):
            frame_crops.parse_bbox("nan,0,10,10")
        with self.assertRaisesRegex(video_frames.StreamError, r"clip\.avi: --bbox .*lies outside the "
                                    "128x96 frame"):
            video_stream.stream_video(_SHARED["model_dir"], _SHARED["avi"], "keras",
                                bbox="500,500,600,600", runner=self.runner, progress=False,
                                log=_quiet)

    def test_a_crop_mostly_off_the_frame_is_not_confident(self):
        # A box just touching the top-left corner: its crop holds about 1 % frame.
        corner = np.array([-60, -60, 2, 2], np.float32)
        # default reinit threshold 0.1; no second look at a found box after a whole-frame one
        # (tests/test_stream.py covers find_refine), so the whole-frame crop is seen here
        tracker = pose_tracker.PoseTracker(self.runner, find_refine=False)
        tracker.reset(corner)
        first = tracker.process(self.frames[0], 0)
        share = frame_crops.frame_share(first.crop, H, W)
        self.assertLess(share, 0.02)
        # Today: 0.9, a confident pose in a black crop. Now scaled by share / MIN_FRAME_SHARE.
        self.assertAllClose(first.confidence,
                            np.full(13, 0.9 * share / frame_crops.MIN_FRAME_SHARE), atol=1e-6)
        self.assertLess(first.mean_confidence, tracker.reinit_threshold)
        # ... so the next frame re-initializes, and looks at the whole frame.
        second = tracker.process(self.frames[1], 1)
        self.assertEqual((second.graph, second.reinit_reason), ("initializer", "confidence"))
        self.assertAllClose(second.box, frame_crops.full_frame_box(H, W))
        self.assertAllClose(second.mean_confidence, 0.9)  # 3/4 of a 4:3 frame's crop is frame
        # An enormous box overlaps the frame, but its crop is almost all fill.
        tracker.reset([-5000, -5000, 5000, 5000])
        self.assertLess(tracker.process(self.frames[2], 2).mean_confidence, 0.1)
        # A box inside the frame is untouched.
        tracker.reset(_SHARED["video"]["bboxes"][0])
        self.assertAllClose(tracker.process(self.frames[0], 0).mean_confidence, 0.9)

    def test_frame_share(self):
        self.assertAllClose(frame_crops.frame_share(
            [-0.5, -0.5, W - 0.5, H - 0.5], H, W), 1.0)
        self.assertAllClose(frame_crops.frame_share([-0.5, -0.5, W - 0.5, W - 0.5], H, W), H / W)
        self.assertEqual(frame_crops.frame_share([W, 0, W + 10, 10], H, W), 0.0)


def count_frames(path):
    cap = cv2.VideoCapture(path)
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


class SignalTest(tf.test.TestCase):
    """Item 3 (issue item 11): SIGTERM and SIGINT end a stream cleanly: the JSON of the frames
    done, a playable (finalized) mp4 overlay, exit status 128 + the signal and one line saying
    so. Before, SIGTERM left an mp4 without its index and no JSON, and SIGINT exited 0."""

    LENGTH = 3000  # frames: the run must still be going when the signal comes

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(dir=_SHARED["root"])
        frames = _SHARED["video"]["frames"]
        cls.long = write_video(os.path.join(cls.root, "long.avi"),
                               [frames[i % len(frames)] for i in range(cls.LENGTH)])

    def interrupt(self, signum, name):
        import time
        out_video = os.path.join(self.root, f"{name}.mp4")
        out_json = os.path.join(self.root, f"{name}.json")
        proc = subprocess.Popen(
            [sys.executable, "-m", "dkd_tf.stream", f"--model_dir={_SHARED['model_dir']}",
             f"--video={self.long}", "--backend=keras", f"--out_video={out_video}",
             f"--out_json={out_json}", "--noprogress"],
            cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 240
            while not os.path.exists(out_video) and proc.poll() is None:
                self.assertLess(time.time(), deadline, "the stream never started")
                time.sleep(0.05)  # the overlay file appears with the first frame written
            time.sleep(0.5)
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 128 + int(signum), err[-2000:])
        last = err.strip().splitlines()[-1]
        self.assertRegex(last, rf"^interrupted: .*long\.avi: stopped by {name} after \d+ "
                         "frames; wrote them to ")
        with open(out_json) as f:
            out = json.load(f)
        n = len(out["frames"])
        self.assertBetween(n, 1, self.LENGTH - 1)
        self.assertEqual([e["index"] for e in out["frames"]], list(range(n)))
        self.assertTrue(out["summary"]["interrupted"])
        self.assertEqual(out["summary"]["interrupted_by"], name)
        self.assertIn(f"after {n} frames", last)
        self.assertEqual(count_frames(out_video), n)  # finalized: every frame plays

    def test_sigterm(self):
        import signal
        self.interrupt(signal.SIGTERM, "SIGTERM")

    def test_sigint(self):
        import signal
        self.interrupt(signal.SIGINT, "SIGINT")

    def test_stop_request_in_the_library(self):
        stop = video_stream.StopRequest()
        stop.signum = 15
        stop.set()
        out = video_stream.stream_video(_SHARED["model_dir"], _SHARED["avi"], "keras", stop=stop,
                                  progress=False, log=_quiet)
        self.assertEqual(out["frames"], [])
        self.assertEqual(out["summary"]["interrupted_by"], "SIGTERM")
        self.assertEqual(stop.exit_status, 143)


HOLD = """
import os, sys, time
from dkd_tf.core import run_lock
run_lock.acquire(sys.argv[1])
print("held", flush=True)
if sys.argv[2] == "die":
    os._exit(0)  # killed: the lock stays behind
time.sleep(120)
"""


class RunLockTest(tf.test.TestCase):
    """Item 4 (issue items 2 and 3): one writer per model directory, stale locks cleared, and
    the shipped presets are never a training's --model_dir."""

    def setUp(self):
        super().setUp()
        from tests.helpers import tiny_synthetic
        self.data = tiny_synthetic(os.path.join(_SHARED["root"], "syn"))
        self.model_dir = os.path.join(self.get_temp_dir(), "run")

    def holder(self, mode):
        """A process that takes the lock of self.model_dir and keeps it (or dies with it)."""
        proc = subprocess.Popen([sys.executable, "-c", HOLD, self.model_dir, mode], cwd=REPO,
                                env=ENV, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.stdout.close)
        self.assertEqual(proc.stdout.readline().strip(), "held")
        if mode == "die":
            proc.wait(timeout=60)
        else:  # cleanups run last-in first-out: kill, wait, close
            self.addCleanup(proc.wait)
            self.addCleanup(proc.kill)
        return proc

    def test_a_second_writer_is_refused_with_the_holder_named(self):
        from dkd_tf.cli import errors
        from dkd_tf.core import run_lock
        from dkd_tf.training import trainer
        from tests.helpers import tiny_config
        proc = self.holder("live")
        cfg = tiny_config(self.model_dir, self.data, epochs=1)
        with self.assertRaises(run_lock.RunLockError) as caught:
            trainer.run_training(cfg)
        message = errors.describe(caught.exception)
        self.assertRegex(message, rf"^{self.model_dir}/train\.lock: another training is writing "
                         rf"this directory: pid {proc.pid} on host \S+, started \d{{4}}-\S+; "
                         "wait for it or pass another --model_dir$")
        self.assertEqual(sorted(os.listdir(self.model_dir)), ["train.lock"])  # nothing written
        # A lock this process holds is refused a second time too.
        other = os.path.join(self.get_temp_dir(), "other")
        with run_lock.hold(other):
            with self.assertRaisesRegex(run_lock.RunLockError, "this process .* already holds"):
                run_lock.acquire(other)
        self.assertFalse(os.path.exists(run_lock.lock_path(other)))  # released

    def test_a_lock_from_another_host_is_refused(self):
        from dkd_tf.core import run_lock
        os.makedirs(self.model_dir)
        with open(run_lock.lock_path(self.model_dir), "w") as f:
            json.dump({"pid": 1, "host": "elsewhere", "started": "2026-01-01T00:00:00"}, f)
        with self.assertRaisesRegex(run_lock.RunLockError,
                                    "locked by pid 1 on host elsewhere.*another host"):
            run_lock.acquire(self.model_dir)
        with open(run_lock.lock_path(self.model_dir), "w") as f:
            f.write("{torn")
        with self.assertRaisesRegex(run_lock.RunLockError, "train.lock: unreadable lock file"):
            run_lock.acquire(self.model_dir)

    def test_a_stale_lock_is_cleared_with_a_message_and_training_runs(self):
        from dkd_tf.core import run_lock
        from dkd_tf.training import trainer
        from tests.helpers import tiny_config
        dead = self.holder("die")
        self.assertEqual(run_lock.read(self.model_dir)["pid"], dead.pid)
        messages = []
        with run_lock.hold(self.model_dir, log=messages.append) as mine:
            self.assertEqual(mine["pid"], os.getpid())
            self.assertEqual(run_lock.read(self.model_dir)["pid"], os.getpid())
        self.assertLen(messages, 1)
        self.assertRegex(messages[0], rf"train\.lock: removed a stale lock of pid {dead.pid} "
                         "on host .* \\(that process is gone\\)$")
        self.assertIsNone(run_lock.read(self.model_dir))
        # A live pid that is not the holder (the pid was reused): stale too.
        with open(run_lock.lock_path(self.model_dir), "w") as f:
            json.dump({**mine, "pid": os.getppid(), "start_ticks": -1}, f)
        # run_training clears it, trains, and leaves no lock behind.
        with self.assertLogs(level="WARNING") as logs:
            trainer.run_training(tiny_config(self.model_dir, self.data, epochs=1,
                                              clips_per_epoch=2))
        self.assertTrue(any("removed a stale lock" in line for line in logs.output), logs.output)
        self.assertTrue(os.path.isfile(os.path.join(self.model_dir, "model.keras")))
        self.assertIsNone(run_lock.read(self.model_dir))

    def test_training_never_writes_into_a_shipped_preset(self):
        from dkd_tf import presets
        from dkd_tf.training import run_state, trainer
        from tests.helpers import tiny_config
        preset = os.path.join(presets.PRESETS_DIR, "reference", "dkd")
        before = sorted(os.listdir(preset))
        # A symlink to the preset, removed right after use: tf.test's temp-dir cleanup follows
        # symlinks and would delete the preset's files.
        link = os.path.join(tempfile.mkdtemp(dir=_SHARED["root"]), "looks_like_mine")
        new_run = os.path.join(presets.PRESETS_DIR, "new_run")
        # Should the guard ever fail, the run it let through must not stay in the package.
        self.addCleanup(shutil.rmtree, new_run, ignore_errors=True)
        os.symlink(preset, link)
        try:
            for model_dir in (preset, os.path.join(preset, "..", "dkd"), link,
                              new_run):
                with self.subTest(model_dir=model_dir):
                    with self.assertRaisesRegex(run_state.RunStateError,
                                                r"^--model_dir=.*: is inside the shipped presets"):
                        trainer.run_training(tiny_config(model_dir, self.data, epochs=1))
        finally:
            os.remove(link)
        self.assertEqual(sorted(os.listdir(preset)), before)
        self.assertFalse(os.path.exists(new_run))
        presets.verify("reference")  # every file still has its checksum
        # The command line: one error line, exit 1, before any data or model is touched.
        proc = subprocess.run(
            [sys.executable, "-m", "dkd_tf.train", "--flagfile=configs/synthetic.flags",
             f"--data_dir={self.data}", "--epochs=1", f"--model_dir={preset}"],
            cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        errors = [l for l in proc.stderr.splitlines() if l.startswith("error")]
        self.assertEqual(proc.stderr.strip().splitlines()[-1:], errors)
        self.assertRegex(errors[0], "^error: --model_dir=.*dkd_tf/presets/reference/dkd: is "
                         "inside the shipped presets .* pass another --model_dir")
        presets.verify("reference")

    def test_training_never_replaces_a_model_it_did_not_write(self):
        """A copied preset member (or any model saved by other means: model.keras, no
        checkpoints/) is refused; before, training started from scratch and replaced it."""
        from dkd_tf import presets
        from dkd_tf.training import run_state, trainer
        from tests.helpers import tiny_config
        copy = os.path.join(tempfile.mkdtemp(dir=_SHARED["root"]), "my_model")
        shutil.copytree(os.path.join(presets.PRESETS_DIR, "reference", "dkd"), copy)
        with open(os.path.join(copy, "model.keras"), "rb") as f:
            mine = f.read()
        with self.assertRaisesRegex(run_state.RunStateError,
                                    r"^--model_dir=.*my_model: holds a model.keras but no "
                                    r"checkpoints/ .* training would start from scratch and "
                                    r"replace it; pass another --model_dir"):
            trainer.run_training(tiny_config(copy, self.data, epochs=1))
        with open(os.path.join(copy, "model.keras"), "rb") as f:
            self.assertEqual(f.read(), mine)
        self.assertFalse(os.path.exists(os.path.join(copy, "checkpoints")))
        # A run of ours killed before its first checkpoint (config.json, no model) reruns.
        fresh = os.path.join(os.path.dirname(copy), "killed_early")
        os.makedirs(fresh)
        tiny_config(fresh, self.data, epochs=1).save(fresh)
        self.assertEqual(run_state.path_problems(tiny_config(fresh, self.data, epochs=1)), [])


def gap_mp4(path, frames, missing, fps=25):
    """An mp4 (mp4v) of `frames` whose timestamps skip frame number `missing`: the sample before
    it lasts two frame intervals (its 'stts' box edited), as when a recorder drops a frame. The
    file still holds len(frames) pictures, numbered 0..missing-1, missing+1..len(frames)."""
    import struct
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    with open(path, "rb") as f:
        data = bytearray(f.read())
    parents, found = [], []

    def walk(off, end):
        while off < end and not found:
            size, kind = struct.unpack(">I4s", data[off:off + 8])
            if kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
                parents.append(off)
                walk(off + 8, off + size)
                if not found:
                    parents.pop()
            elif kind == b"stts":
                found.append(off)
            off += size
    walk(0, len(data))
    stts = found[0]
    size = struct.unpack(">I", data[stts:stts + 4])[0]
    entries, count, delta = struct.unpack(">III", data[stts + 12:stts + 24])
    assert entries == 1 and count == len(frames) and size == 24, (entries, count, size)
    table = [(missing - 1, delta), (1, 2 * delta), (count - missing, delta)]
    box = struct.pack(">I4sII", 16 + 8 * len(table), b"stts", 0, len(table)) + b"".join(
        struct.pack(">II", *e) for e in table)
    data[stts:stts + size] = box
    for off in parents:  # moov comes after mdat: no chunk offset moves
        data[off:off + 4] = struct.pack(">I", struct.unpack(">I", data[off:off + 4])[0]
                                        + len(box) - size)
    with open(path, "wb") as f:
        f.write(bytes(data))
    return path


class FrameNumberTest(tf.test.TestCase):
    """Item 5 (issue item 6): a frame missing in the middle of a video is reported as bad at its
    own number and the later frames keep theirs. Before, every later frame moved up by one and
    the summary said 0 bad frames."""

    def frames(self, n):
        # Frame i is a flat grey of 6 i: its number can be read back from the decoded picture.
        return [np.full((H, W, 3), 6 * i, np.uint8) for i in range(n)]

    def test_a_frame_the_timestamps_skip_is_bad_at_its_own_number(self):
        path = gap_mp4(os.path.join(self.get_temp_dir(), "gap.mp4"), self.frames(30), 13)
        with video_frames.FrameSource(path) as source:
            items = list(source)
        # OpenCV's last picture ends past the edited track's duration: it is not returned.
        numbers = [it.index for it in items]
        self.assertEqual(numbers, list(range(len(items))))
        self.assertEqual([it.index for it in items if it.image is None], [13])
        self.assertIn("frame 13 is missing", items[13].error)
        # The pictures in the order OpenCV returns them (which is what was numbered before):
        # frame number n is picture n below the gap and picture n - 1 after it.
        cap, pictures = cv2.VideoCapture(path), []
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            pictures.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        cap.release()
        self.assertLen(pictures, len(items) - 1)
        for it in items:
            if it.image is not None:
                picture = pictures[it.index if it.index < 13 else it.index - 1]
                self.assertAllEqual(it.image, picture, msg=it.index)
        self.assertAllClose(items[20].image.mean(), 6 * 19, atol=4.0)  # the content, roughly
        self.assertEqual(source.bad_frames, 1)
        out = video_stream.stream_video(_SHARED["model_dir"], path, "keras", max_frames=16,
                                  progress=False, log=_quiet)
        self.assertEqual(out["summary"]["bad_frame_indices"], [13])
        self.assertEqual(out["frames"][14]["index"], 14)
        self.assertEqual(out["frames"][14]["reinit_reason"], "bad_frame")

    def test_a_frame_the_decoder_rejects_keeps_the_numbering_too(self):
        path = write_video(os.path.join(self.get_temp_dir(), "c.avi"), self.frames(20))
        with open(path, "rb") as f:
            data = bytearray(f.read())
        starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
        self.assertLen(starts, 20)
        data[starts[7] + 100:starts[8] - 16] = bytes(starts[8] - 16 - starts[7] - 100)
        with open(path, "wb") as f:
            f.write(bytes(data))
        with video_frames.FrameSource(path) as source:
            items = list(source)
        self.assertEqual([it.index for it in items], list(range(20)))
        self.assertEqual([it.index for it in items if it.image is None], [7])
        self.assertAllClose(items[8].image.mean(), 6 * 8, atol=4.0)  # picture 8 at number 8
        self.assertFalse(source.truncated)

    def test_frame_clock(self):
        clock = video_frames.FrameClock(24.2)  # an average fps a dropped frame lowered from 25
        got = [clock.index(ms, n) for n, ms in enumerate([0, 40, 80, 160, 200])]
        self.assertEqual(got, [0, 1, 2, 4, 5])
        clock = video_frames.FrameClock(25)
        self.assertEqual(clock.index(float("nan"), 3), 3)  # no timestamp: the count
        self.assertEqual(clock.index(50.0, 0), 0)  # between two frames (variable rate)
        self.assertEqual(clock.index(40.0 * 500, 7), 7)  # a jump of hundreds: not trusted


if __name__ == "__main__":
    tf.test.main()
