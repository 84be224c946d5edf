"""The evaluation CLI: --model_dir vs --predictions, flip testing, Sub-JHMDB split averaging."""
import contextlib
import dataclasses
import io
import json
import os

import cv2
import numpy as np
import tensorflow as tf
from absl import app, flags

from dkd_tf.cli import evaluate_flags
from dkd_tf import evaluate
from dkd_tf.cli import train_flags
from dkd_tf.core import joints as joints_lib
from dkd_tf.evaluation import metrics, protocol
from dkd_tf.training import trainer
from dkd_tf.data import sub_jhmdb
from dkd_tf.data.frames import load_frame, save_frame
from dkd_tf.data.records import VideoRecord
from dkd_tf.evaluation.protocol import StreamingPredictor
from tests.helpers import tiny_config, tiny_synthetic
from tests.test_sub_jhmdb import write_fixture as write_sub_jhmdb

PENN = joints_lib.PENN_ACTION


def run_evaluate(*args) -> str:
    """`python -m dkd_tf.evaluate ARGS` in this process (the same absl parsing); its stdout."""
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["evaluate", *args])
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            evaluate.main([])
    finally:
        flags.FLAGS.unparse_flags()
    return out.getvalue()


def read_json(path):
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------------- flip testing
# One colour per joint group; the two joints of a left/right pair share it, so only geometry
# tells them apart (as for a real model).
GROUP_RGB = {"head": (255, 255, 255), "shoulder": (255, 0, 0), "elbow": (0, 255, 0),
             "wrist": (0, 0, 255), "hip": (255, 255, 0), "knee": (255, 0, 255),
             "ankle": (0, 255, 255)}


def _group(name):
    return name[2:] if name[:2] in ("l_", "r_") else name


def detect_dots(crop) -> np.ndarray:
    """[K, 2] crop pixels: each joint group's coloured dot(s); of a pair, the dot further right
    in the crop is the person's left joint (a person facing the camera), which is how a network
    trained with flip augmentation labels a mirrored person."""
    size = crop.shape[0]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    out = []
    for name in PENN.names:
        w = np.linalg.norm(crop - np.array(GROUP_RGB[_group(name)], np.float32), axis=-1) < 80.0
        if name[:2] in ("l_", "r_"):
            mid = xs[w].mean()
            w &= (xs > mid) if name.startswith("l_") else (xs < mid)
        out.append((xs[w].mean(), ys[w].mean()))
    return np.array(out, np.float32)


class DotPeer:
    """detect_dots as a published peer (dkd_tf.pretrained.peers.Peer's interface: named
    keypoints [N, 3] in crop pixels)."""

    key, path, input_size, names = "dots", "dots.tflite", 96, PENN.names

    def predict(self, crop):
        xy = detect_dots(np.asarray(crop, np.float32))
        return np.concatenate([xy, np.ones((len(xy), 1), np.float32)], axis=1)


class DotDetector:
    """A stand-in for a trained model with the DKD streaming interface (stride 4).

    Finds the dots (detect_dots) and renders a Gaussian heatmap at each detected centroid, so
    decoding returns the dots' positions.
    """

    stride = 4

    def state_shape_for(self, input_size):
        return (1,)

    def _detect(self, frames):
        n, size = frames.shape[0], frames.shape[1]
        cells = size // self.stride
        grid = np.arange(cells, dtype=np.float32)
        out = np.zeros((n, cells, cells, PENN.num_joints), np.float32)
        for b in range(n):
            for k, (x, y) in enumerate(detect_dots(frames[b])):
                cx, cy = (x + 0.5) / self.stride - 0.5, (y + 0.5) / self.stride - 0.5
                out[b, :, :, k] = np.exp(-((grid[None] - cx) ** 2 + (grid[:, None] - cy) ** 2)
                                         / 2.0)
        return out

    def initialize(self, frames):
        heatmaps = tf.numpy_function(self._detect, [frames], tf.float32)
        cells = frames.shape[1] // self.stride
        heatmaps = tf.ensure_shape(heatmaps, [frames.shape[0], cells, cells, PENN.num_joints])
        return heatmaps, tf.zeros([frames.shape[0], 1])

    def step(self, frames, state):
        return self.initialize(frames)[0], state


# Frame 0: a left-right symmetric figure about the box centre x = 64; frame 1: an asymmetric
# pose. (x, y) source pixels; every left joint lies right of its right joint in the image.
SYMMETRIC = {"head": (64, 14)}
for _name, (_dx, _y) in {"shoulder": (14, 25), "elbow": (24, 40), "wrist": (30, 55),
                         "hip": (10, 55), "knee": (12, 70), "ankle": (14, 84)}.items():
    SYMMETRIC["l_" + _name], SYMMETRIC["r_" + _name] = (64 + _dx, _y), (64 - _dx, _y)
ASYMMETRIC = dict(SYMMETRIC, head=(70, 16), l_wrist=(100, 30), r_wrist=(36, 62),
                  l_elbow=(86, 36), l_knee=(84, 64), r_knee=(48, 76), r_ankle=(40, 86))
BOX = (24.0, 8.0, 104.0, 88.0)


def write_dot_video(root) -> VideoRecord:
    os.makedirs(root, exist_ok=True)
    paths, joints = [], []
    for t, pose in enumerate((SYMMETRIC, ASYMMETRIC)):
        img = np.zeros((96, 128, 3), np.uint8)
        for name, (x, y) in pose.items():
            cv2.circle(img, (x, y), 4, GROUP_RGB[_group(name)], -1, lineType=cv2.LINE_8)
        paths.append(os.path.join(root, f"{t:06d}.png"))
        save_frame(paths[-1], img)
        joints.append([pose[n] for n in PENN.names])
    t = len(paths)
    return VideoRecord("dots", paths, np.array(joints, np.float32),
                       np.ones((t, PENN.num_joints), np.float32),
                       np.tile(np.array(BOX, np.float32), (t, 1)), PENN.name, "test")


class FlipTestTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.record = write_dot_video(os.path.join(self.get_temp_dir(), "dots"))
        self.model = DotDetector()

    def test_symmetric_frame_gives_the_same_crop_flipped(self):
        predictor = StreamingPredictor(self.model, 96, PENN, flip=True)
        self.assertEqual(predictor.streams, [(1.0, False), (1.0, True)])
        frames, _ = predictor.crops(load_frame(self.record.frame_paths[0]),
                                    self.record.bboxes[0])
        frames = frames.numpy()
        self.assertAllClose(frames[1], frames[0][:, ::-1], atol=0.01)

    def test_flip_test_gives_the_same_keypoints(self):
        plain, _ = StreamingPredictor(self.model, 96, PENN).predict_video(self.record)
        self.assertAllClose(plain, self.record.joints, atol=2.0)  # the detector works
        flipped = StreamingPredictor(self.model, 96, PENN, flip=True)
        xy, _ = flipped.predict_video(self.record)
        self.assertAllClose(xy, plain, atol=1e-3)
        # Multi-scale + flip: heatmaps resampled between scales, so sub-cell agreement only.
        multi = StreamingPredictor(self.model, 96, PENN, scales=(0.9, 1.0, 1.1), flip=True)
        self.assertAllClose(multi.predict_video(self.record)[0], self.record.joints, atol=2.5)

    def test_check_fails_without_the_left_right_permutation(self):
        """The check above is sensitive: merging without swapping left/right channels gives
        each paired joint two equal peaks, its own dot and its partner's, so left and right
        joints land on the same dot."""
        flipped = StreamingPredictor(self.model, 96, PENN, flip=True)
        flipped._perm = list(range(PENN.num_joints))
        xy, _ = flipped.predict_video(self.record)
        err = np.linalg.norm(xy - self.record.joints, axis=-1)
        for left, right in PENN.flip_pairs:
            self.assertAllClose(xy[:, left], xy[:, right], atol=1e-3)
            self.assertGreater(np.maximum(err[:, left], err[:, right]).min(), 8.0)
        self.assertLess(err[:, PENN.index("head")].max(), 2.0)

    def test_a_peer_flip_test_gives_the_same_keypoints(self):
        """A peer's flip test averages its keypoints on the plain and the mirrored crop, the
        mirrored ones renamed left <-> right and mapped back to the frame."""
        peer = DotPeer()
        plain = protocol.predict_peer_records(peer, [self.record], PENN)["dots"]
        self.assertAllClose(plain, self.record.joints, atol=1.0)  # the peer works
        flipped = protocol.predict_peer_records(peer, [self.record], PENN, flip=True)["dots"]
        self.assertAllClose(flipped, plain, atol=1e-3)
        # Without the renaming, each left joint is averaged with its right partner's dot.
        unpaired = dataclasses.replace(PENN, flip_pairs=())
        wrong = protocol.predict_peer_records(peer, [self.record], unpaired, flip=True)["dots"]
        err = np.linalg.norm(wrong - self.record.joints, axis=-1)
        for left, right in PENN.flip_pairs:
            self.assertAllClose(wrong[:, left], wrong[:, right], atol=1e-3)
            self.assertGreater(np.maximum(err[:, left], err[:, right]).min(), 8.0)


# ---------------------------------------------------------------------- the CLI
class SplitFlagTest(tf.test.TestCase):

    def test_parse_splits(self):
        self.assertEqual(evaluate_flags.parse_splits("all"), [1, 2, 3])
        self.assertEqual(evaluate_flags.parse_splits("ALL"), [1, 2, 3])
        self.assertEqual(evaluate_flags.parse_splits("2"), [2])
        self.assertEqual(evaluate_flags.parse_splits(3), [3])
        self.assertEqual(evaluate_flags.parse_splits("1,3"), [1, 3])
        self.assertEqual(evaluate_flags.parse_splits(""), [])
        for bad in ("4", "0", "1,1", "one", ",", "1;2"):
            with self.assertRaisesRegex(ValueError, "--split"):
                evaluate_flags.parse_splits(bad)
        self.assertEqual(evaluate_flags.with_split("runs/split{split}/p.npz", 2), "runs/split2/p.npz")
        self.assertEqual(evaluate_flags.with_split("runs/p.npz", 2), "runs/p.npz")

    def test_split_flag_reads_training_flagfiles_unchanged(self):
        evaluate_flags.define_split_flag()  # idempotent
        flags.FLAGS.unparse_flags()
        try:
            flags.FLAGS(["evaluate", "--split=3"])
            self.assertEqual(train_flags.config_from_flags().split, 3)  # an int, as dkd_tf.train reads
            self.assertIsInstance(flags.FLAGS.split, int)
            flags.FLAGS.unparse_flags()
            flags.FLAGS(["evaluate", "--split", "all"])
            self.assertEqual(evaluate_flags.parse_splits(flags.FLAGS.split), [1, 2, 3])
            flags.FLAGS.unparse_flags()
            self.assertEqual(train_flags.config_from_flags().split, 1)  # TrainConfig's default
        finally:
            flags.FLAGS.unparse_flags()

    def test_model_is_not_scored_on_another_split(self):
        model_dir = os.path.join(self.get_temp_dir(), "split1")
        trainer.TrainConfig(model_dir=model_dir, dataset="sub_jhmdb", split=1).save(model_dir)
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["evaluate", "--split=all"])
        try:
            self.assertEqual(evaluate_flags.data_config(model_dir, 1).split, 1)
            with self.assertRaisesRegex(app.UsageError, "trained on Sub-JHMDB split 1.*split 2"):
                evaluate_flags.data_config(model_dir, 2)
        finally:
            flags.FLAGS.unparse_flags()


class SubJHMDBSplitsTest(tf.test.TestCase):
    """--split all scores each split on its own and averages the numbers (no model needed)."""

    def test_average_over_three_splits(self):
        root = os.path.join(self.get_temp_dir(), "sub_jhmdb")
        write_sub_jhmdb(root)
        js = joints_lib.SUB_JHMDB
        # Split 1: all correct. Split 2: face wrong everywhere. Split 3 (one video): l_wrist wrong.
        wrong = {1: None, 2: "face", 3: "l_wrist"}
        for split, joint in wrong.items():
            preds = {}
            for rec in sub_jhmdb.read_split(root, split, "test"):
                p = rec.joints.copy()
                if joint:
                    p[:, js.index(joint)] += 1000.0
                preds[rec.video_id] = p
            metrics.save_predictions(os.path.join(root, f"preds_split{split}.json"), preds,
                                     js.name)
        out_dir = os.path.join(self.get_temp_dir(), "eval")
        stdout = run_evaluate("--dataset=sub_jhmdb", f"--data_dir={root}", "--split", "all",
                              f"--predictions={root}/preds_split{{split}}.json", "--names=Ours",
                              f"--output_dir={out_dir}")
        doc = read_json(os.path.join(out_dir, "pck.json"))["Ours"]
        self.assertEqual(sorted(doc["splits"]), ["1", "2", "3"])
        self.assertEqual([doc["splits"][s]["num_videos"] for s in "123"], [2, 2, 1])
        twelve = 1200.0 / 13
        for norm in metrics.NORMS:
            per_split = [doc["splits"][s][norm] for s in "123"]
            self.assertAllClose([r["mean"] for r in per_split], [100.0, twelve, twelve])
            self.assertAllClose([r["groups"]["Head"] for r in per_split], [100, 0, 100])
            self.assertAllClose([r["groups"]["Wri."] for r in per_split], [100, 100, 50])
            avg = doc[norm]
            # Averaged, not pooled (pooled frames would give Head 60 and Wri. 90).
            self.assertAllClose(avg["groups"]["Head"], 200.0 / 3)
            self.assertAllClose(avg["groups"]["Wri."], 250.0 / 3)
            self.assertAllClose(avg["mean"], (100.0 + 2 * twelve) / 3)
            for group in joints_lib.GROUP_NAMES:
                self.assertAllClose(avg["groups"][group],
                                    np.mean([r["groups"][group] for r in per_split]))
            for joint, value in avg["joints"].items():
                self.assertAllClose(value, np.mean([r["joints"][joint] for r in per_split]))
            self.assertAllClose(doc["curves"][norm],
                                np.mean([doc["splits"][s]["curves"][norm] for s in "123"], 0))
            self.assertEqual(avg["counts"]["face"], 4 * 5)  # 5 test videos of 4 frames
        for split in (1, 2, 3):
            self.assertIn(f"Sub-JHMDB split {split}", stdout)
        average_table = stdout.split("Average over Sub-JHMDB splits 1, 2, 3")[1]
        row = [line for line in average_table.splitlines() if line.startswith("Ours")][0]
        self.assertEqual(row.split()[1:], ["66.7", "100.0", "100.0", "83.3", "100.0", "100.0",
                                           "100.0", "94.9"])
        self.assertTrue(os.path.exists(os.path.join(out_dir, "pck_curve.png")))


class ModelVersusPredictionsTest(tf.test.TestCase):
    """The issue's 'done when': --model_dir and --predictions give the same numbers."""

    def test_same_numbers_through_model_dir_and_predictions(self):
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn"), videos=4, frames=5)  # 1 test video
        model_dir = os.path.join(tmp, "run")
        # DKD without the discriminator: the full streaming path (P, then distilled kernels
        # carried as state) at a third of the training graph's build time.
        trainer.run_training(tiny_config(model_dir, data, variant="wo_tat", epochs=1,
                                          clips_per_epoch=2))
        preds = os.path.join(tmp, "preds.npz")
        e1, e2 = os.path.join(tmp, "e1"), os.path.join(tmp, "e2")
        stdout = run_evaluate(f"--model_dir={model_dir}", "--names=run", "--flip_test",
                              f"--save_predictions={preds}",
                              f"--output_dir={e1}")
        self.assertIn("Normalized by Torso Size", stdout)
        joint_set, saved = metrics.load_predictions(preds)
        self.assertEqual(joint_set, "penn_action")
        self.assertEqual([v.shape for v in saved.values()], [(5, 13, 2)])
        run_evaluate("--dataset=synthetic", f"--data_dir={data}", f"--predictions={preds}",
                     "--names=run", f"--output_dir={e2}")
        by_model = read_json(os.path.join(e1, "pck.json"))
        by_file = read_json(os.path.join(e2, "pck.json"))
        self.assertEqual(by_model["run"]["num_frames"], 5)
        for norm in metrics.NORMS:
            self.assertEqual(by_model["run"][norm], by_file["run"][norm])
        self.assertEqual(by_model, by_file)
        for d in (e1, e2):
            self.assertTrue(os.path.exists(os.path.join(d, "pck_curve.png")))
        # Two rows: the first is compared with the other on the same videos.
        stdout = run_evaluate(f"--model_dir={model_dir},{model_dir}", "--names=run,again",
                              "--bootstrap=50")
        self.assertIn("run - again, PCK@0.2 by person size: +0.0 points (95 % interval +0.0 "
                      "to +0.0; paired bootstrap over 1 videos", stdout)


class BadInputsTest(tf.test.TestCase):
    """Issue 10: NaN/inf predictions, a synthetic data dir that is not there, one-line errors."""

    def test_nan_predictions_are_refused_or_counted_as_misses_with_a_flag(self):
        from dkd_tf.data import penn_action
        from dkd_tf.data.records import DatasetError
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn_nan"), videos=4, frames=5)  # 1 test video
        records = penn_action.read_split(data, "test")
        preds = {r.video_id: r.joints.copy() for r in records}
        vid = records[0].video_id
        preds[vid][2, 5] = np.nan
        preds[vid][3] = np.inf
        path = os.path.join(tmp, "nan.npz")
        metrics.save_predictions(path, preds, "penn_action")
        args = ("--dataset=synthetic", f"--data_dir={data}", f"--predictions={path}")
        with self.assertRaisesRegex(
                DatasetError, rf"{path}: 14 predicted keypoints in 2 frames of 1 video\(s\) are "
                rf"NaN/inf, the first in video {vid} frame 3 \(000003.jpg\), joint\(s\) \[5\]"):
            run_evaluate(*args)
        err = io.StringIO()
        out_dir = os.path.join(tmp, "nan_eval")
        with contextlib.redirect_stderr(err):
            run_evaluate(*args, "--nonfinite_as_miss", f"--output_dir={out_dir}")
        self.assertIn("14 predicted keypoints in 2 frames of 1 video(s) are NaN/inf; they are "
                      "scored as misses", err.getvalue())
        mean = read_json(os.path.join(out_dir, "pck.json"))["nan.npz"]["person"]["mean"]
        self.assertBetween(mean, 50.0, 99.9)  # exact elsewhere, misses where NaN/inf

    def test_missing_synthetic_data_is_an_error_naming_the_path(self):
        from dkd_tf.data.records import DatasetError
        from tests.helpers import make_model_dir
        tmp = self.get_temp_dir()
        model_dir = make_model_dir(os.path.join(tmp, "model_nodata"))
        missing = os.path.join(model_dir, "x")  # the data_dir in its config.json
        with self.assertRaisesRegex(DatasetError, os.path.join(missing, "labels")):
            run_evaluate(f"--model_dir={model_dir}")
        self.assertFalse(os.path.exists(missing))  # nothing was generated
        import subprocess
        import sys
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.evaluate",
                               f"--model_dir={model_dir}"], capture_output=True, text=True,
                              timeout=600, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        self.assertNotIn("Traceback", proc.stderr)
        self.assertIn(f"error: {os.path.join(missing, 'labels')}: no synthetic data set here",
                      proc.stderr)
        self.assertFalse(os.path.exists(missing))


if __name__ == "__main__":
    tf.test.main()
