"""PCK on hand-computed cases (both norms), tables, JSON, curves, plots, prediction files."""
import json
import os

import numpy as np
import tensorflow as tf

from dkd_tf.core import joints as joints_lib
from dkd_tf.evaluation import metrics
from dkd_tf.data.records import DatasetError, VideoRecord

PENN = joints_lib.PENN_ACTION      # 13 joints, all evaluated, torso = (r_shoulder, l_hip)
K = PENN.num_joints
HEAD, L_SHO, R_SHO, L_HIP = (PENN.index(n) for n in ("head", "l_shoulder", "r_shoulder", "l_hip"))


def _base_gt(t):
    """gt [t, K, 2] whose torso (r_shoulder -> l_hip) is 40 px long in every frame."""
    gt = np.zeros((t, K, 2))
    gt[:, :, 0] = np.arange(K) * 3.0 + 10.0
    gt[:, :, 1] = 20.0
    gt[:, R_SHO] = (30.0, 10.0)
    gt[:, L_HIP] = (30.0, 50.0)
    return gt


def _shifted(gt, offsets):
    """pred = gt moved along x by offsets {(frame, joint): dx}."""
    pred = gt.copy()
    for (f, j), dx in offsets.items():
        pred[f, j, 0] += dx
    return pred


def _two_videos():
    """Video A (2 frames, person size 100) and video B (1 frame, person size 50)."""
    acc = metrics.PCKAccumulator(PENN)
    gt_a = _base_gt(2)
    pred_a = _shifted(gt_a, {(0, HEAD): 5, (0, L_SHO): 25, (1, HEAD): 20, (1, L_SHO): 15})
    acc.add(pred_a, gt_a, np.ones((2, K)), np.array([[0, 0, 100, 50], [5, 5, 105, 55]]))
    gt_b = _base_gt(1)
    pred_b = _shifted(gt_b, {(0, HEAD): 15, (0, L_SHO): 100})
    vis_b = np.ones((1, K))
    vis_b[0, L_SHO] = 0           # invisible: its large error must not count at all
    acc.add(pred_b, gt_b, vis_b, np.array([[0, 0, 40, 50]]))
    return acc


class SizesTest(tf.test.TestCase):

    def test_person_size_is_longer_box_side(self):
        self.assertAllClose(metrics.person_size([[0, 0, 100, 50], [10, 10, 40, 70]]), [100, 60])

    def test_torso_size_falls_back_to_prediction_below_one_pixel(self):
        gt = _base_gt(2)
        gt[1, L_HIP] = gt[1, R_SHO] + (0.5, 0.0)       # degenerate torso label (0.5 px)
        pred = gt.copy()
        pred[1, L_HIP] = gt[1, R_SHO] + (0.0, 30.0)    # predicted torso 30 px
        self.assertAllClose(metrics.torso_size(gt, pred, PENN), [40.0, 30.0])
        self.assertAllClose(metrics.torso_size(gt, pred, "penn_action"), [40.0, 30.0])


class PCKTest(tf.test.TestCase):

    def test_person_norm_hand_computed(self):
        # Thresholds 0.2 * L: 20 px (video A), 10 px (video B).
        # head: 5 hit, 20 hit (<=), 15 miss -> 2/3; l_shoulder: 25 miss, 15 hit, B invisible -> 1/2.
        res = _two_videos().result(0.2, "person")
        self.assertAllClose(res["joints"]["head"], 200.0 / 3)
        self.assertAllClose(res["joints"]["l_shoulder"], 50.0)
        self.assertAllClose(res["joints"]["r_shoulder"], 100.0)
        self.assertEqual(res["counts"]["head"], 3)
        self.assertEqual(res["counts"]["l_shoulder"], 2)
        self.assertAllClose(res["groups"]["Head"], 200.0 / 3)
        self.assertAllClose(res["groups"]["Sho."], 75.0)          # mean of 50 and 100
        self.assertAllClose(res["groups"]["Ank."], 100.0)
        self.assertAllClose(res["mean"], (200.0 / 3 + 50.0 + 11 * 100.0) / 13)
        self.assertEqual(res["norm"], "person")

    def test_torso_norm_hand_computed(self):
        # Torso 40 px everywhere -> threshold 8 px. head: 5 hit, 20 miss, 15 miss -> 1/3;
        # l_shoulder: 25 miss, 15 miss -> 0/2.
        res = _two_videos().result(0.2, "torso")
        self.assertAllClose(res["joints"]["head"], 100.0 / 3)
        self.assertAllClose(res["joints"]["l_shoulder"], 0.0)
        self.assertAllClose(res["groups"]["Sho."], 50.0)
        self.assertAllClose(res["mean"], (100.0 / 3 + 0.0 + 11 * 100.0) / 13)

    def test_torso_norm_uses_predicted_torso_when_gt_torso_degenerate(self):
        gt = _base_gt(1)
        gt[0, L_HIP] = gt[0, R_SHO]                  # gt torso 0 px
        pred = gt.copy()
        pred[0, L_HIP, 1] += 30.0                    # predicted torso 30 px -> threshold 6 px
        pred[0, HEAD, 0] += 5.0                      # hit (would miss against a 0 px torso)
        pred[0, L_SHO, 0] += 7.0                     # miss
        acc = metrics.PCKAccumulator(PENN)
        acc.add(pred, gt, np.ones((1, K)), np.array([[0, 0, 100, 100]]))
        res = acc.result(0.2, "torso")
        self.assertEqual(res["joints"]["head"], 100.0)
        self.assertEqual(res["joints"]["l_shoulder"], 0.0)
        self.assertEqual(res["joints"]["l_hip"], 0.0)    # the 30 px error itself

    def test_alpha_changes_threshold(self):
        res = _two_videos().result(0.1, "person")  # thresholds 10 (A) and 5 (B)
        self.assertAllClose(res["joints"]["head"], 100.0 / 3)   # only the 5 px error

    def test_never_visible_joint_is_nan_and_left_out_of_mean(self):
        gt = _base_gt(2)
        vis = np.ones((2, K))
        vis[:, HEAD] = 0
        acc = metrics.PCKAccumulator(PENN)
        acc.add(_shifted(gt, {(0, HEAD): 1000}), gt, vis, np.array([[0, 0, 10, 10]] * 2))
        res = acc.result()
        self.assertTrue(np.isnan(res["joints"]["head"]))
        self.assertTrue(np.isnan(res["groups"]["Head"]))
        self.assertEqual(res["mean"], 100.0)
        js = acc.to_json()
        self.assertIsNone(js["person"]["joints"]["head"])
        json.dumps(js, allow_nan=False)

    def test_nan_prediction_is_a_miss(self):
        gt = _base_gt(1)
        pred = gt.copy()
        pred[0, HEAD] = np.nan
        acc = metrics.PCKAccumulator(PENN)
        acc.add(pred, gt, np.ones((1, K)), np.array([[0, 0, 100, 100]]))
        self.assertEqual(acc.result()["joints"]["head"], 0.0)

    def test_shape_errors(self):
        acc = metrics.PCKAccumulator(PENN)
        gt = _base_gt(2)
        with self.assertRaisesRegex(ValueError, "pred"):
            acc.add(gt[:1], gt, np.ones((2, K)), np.zeros((2, 4)))
        with self.assertRaisesRegex(ValueError, "visible"):
            acc.add(gt, gt, np.ones((2, K - 1)), np.zeros((2, 4)))
        with self.assertRaisesRegex(ValueError, "bboxes"):
            acc.add(gt, gt, np.ones((2, K)), np.zeros((3, 4)))
        with self.assertRaisesRegex(ValueError, "norm"):
            acc.result(0.2, "head")

    def test_add_record(self):
        gt = _base_gt(2).astype(np.float32)
        rec = VideoRecord("v", ["a.png", "b.png"], gt, np.ones((2, K), np.float32),
                          np.array([[0, 0, 10, 10]] * 2, np.float32), "penn_action", "test")
        acc = metrics.PCKAccumulator("penn_action")
        acc.add_record(rec, gt)
        self.assertEqual(acc.result()["mean"], 100.0)
        self.assertEqual((acc.num_videos, acc.num_frames), (1, 2))
        with self.assertRaisesRegex(ValueError, "joint set"):
            metrics.PCKAccumulator("mpii").add_record(rec, gt)

    def test_curve_monotone_and_matches_result(self):
        acc = _two_videos()
        for norm in metrics.NORMS:
            curve = acc.curve(metrics.CURVE_ALPHAS, norm)
            self.assertLen(curve, 21)
            self.assertTrue(np.all(np.diff(curve) >= 0))
            self.assertAllClose(curve[-1], acc.result(0.2, norm)["mean"])
            self.assertAllClose(curve[10], acc.result(0.1, norm)["mean"])
        # alpha = 0: only exact predictions hit (11 of 13 joints are exact in every frame).
        self.assertAllClose(acc.curve([0.0], "person")[0], 11 * 100.0 / 13)

    def test_to_json_has_every_number(self):
        acc = _two_videos()
        js = json.loads(json.dumps(acc.to_json()))
        self.assertEqual(js["joint_set"], "penn_action")
        self.assertEqual((js["num_videos"], js["num_frames"]), (2, 3))
        self.assertAllClose(js["curves"]["alphas"], np.arange(21) * 0.01)
        for norm in metrics.NORMS:
            self.assertLen(js["curves"][norm], 21)
            self.assertAllClose(js[norm]["mean"], acc.result(0.2, norm)["mean"])
            self.assertEqual(set(js[norm]["groups"]), set(joints_lib.GROUP_NAMES))


class TableTest(tf.test.TestCase):

    def test_format_table_layout(self):
        acc = _two_videos()
        perfect = metrics.PCKAccumulator(PENN)
        gt = _base_gt(1)
        perfect.add(gt, gt, np.ones((1, K)), np.array([[0, 0, 10, 10]]))
        text = metrics.format_table({"DKD": acc.result(), "Baseline": perfect.result()},
                                    "Normalized by Person Size")
        lines = text.splitlines()
        self.assertEqual(lines[0], "Normalized by Person Size")
        self.assertEqual(lines[1].split(),
                         ["Methods", "Head", "Sho.", "Elb.", "Wri.", "Hip", "Knee", "Ank.", "PCK"])
        mean = (200.0 / 3 + 50.0 + 11 * 100.0) / 13
        self.assertEqual(lines[2].split(),
                         ["DKD", "66.7", "75.0", "100.0", "100.0", "100.0", "100.0", "100.0",
                          f"{mean:.1f}"])
        self.assertEqual(lines[3].split(), ["Baseline"] + ["100.0"] * 8)

    def test_format_paper_table_has_both_sections(self):
        text = metrics.format_paper_table({"DKD": _two_videos()})
        self.assertIn("Normalized by Person Size", text)
        self.assertIn("Normalized by Torso Size", text)
        self.assertIn("33.3", text)     # head, torso norm

    def test_plot_curves_writes_png(self):
        path = os.path.join(self.get_temp_dir(), "plots", "pck.png")
        metrics.plot_curves({"DKD": _two_videos(), "Baseline": metrics.PCKAccumulator(PENN)},
                            path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_write_report_from_accumulators_and_documents(self):
        acc = _two_videos()
        for name, item in (("acc", acc), ("doc", acc.to_json())):
            with self.subTest(name):
                out = os.path.join(self.get_temp_dir(), f"report_{name}")
                paths = metrics.write_report({"DKD": item}, out)
                self.assertEqual([os.path.basename(p) for p in paths], list(metrics.REPORT_FILES))
                with open(paths[0]) as f:
                    doc = json.load(f)["DKD"]
                self.assertEqual(doc["person"]["mean"], acc.result()["mean"])
                self.assertEqual(doc, json.loads(json.dumps(acc.to_json())))
                with open(paths[1], "rb") as f:
                    self.assertEqual(f.read(4), b"\x89PNG")


class PairedBootstrapTest(tf.test.TestCase):

    def _videos(self, errors):
        """One 1-frame video per error (px, every joint), person size 100 (threshold 20 px)."""
        acc = metrics.PCKAccumulator(PENN)
        for e in errors:
            gt = _base_gt(1)
            acc.add(gt + e, gt, np.ones((1, K)), np.array([[0, 0, 100, 50]]))
        return acc

    def test_subset_picks_videos_with_repeats(self):
        acc = _two_videos()
        self.assertEqual(acc.video_frames(), [2, 1])
        only_a = acc.subset([0])
        self.assertEqual(only_a.num_videos, 1)
        self.assertEqual(only_a.num_frames, 2)
        self.assertAllClose(only_a.result()["joints"]["head"], 100.0)   # 5 and 20 px: both hit
        twice_b = acc.subset([1, 1])
        self.assertEqual(twice_b.video_frames(), [1, 1])
        self.assertAllClose(twice_b.result()["joints"]["head"], 0.0)    # 15 px > 10 px

    def test_identical_and_clearly_different_models(self):
        a = self._videos([1.0, 2.0, 30.0, 3.0])   # 3 of 4 videos hit
        same = metrics.paired_bootstrap(a, a, samples=200)
        self.assertEqual((same["difference"], same["low"], same["high"]), (0.0, 0.0, 0.0))
        self.assertEqual(same["share_not_ahead"], 1.0)
        worse = self._videos([30.0, 30.0, 30.0, 3.0])  # misses where a hits, same elsewhere
        r = metrics.paired_bootstrap(a, worse, samples=500, seed=1)
        self.assertAllClose(r["difference"], 50.0)
        self.assertGreaterEqual(r["low"], 0.0)          # a is never behind on any draw
        self.assertLessEqual(r["high"], 100.0)          # a draw of only differing videos
        self.assertTrue(r["low"] < 50.0 < r["high"])
        self.assertEqual(r["videos"], 4)
        self.assertIn("95 % interval", metrics.format_comparison("A", "B", a, worse, 100))

    def test_each_draw_scores_the_drawn_videos_as_result_does(self):
        """The bootstrap sums per-video hits by each draw's multiplicities; that is PCK of the
        drawn subset (repeats counted), joints never visible in a draw left out of its mean."""
        rng = np.random.default_rng(3)
        a, b = metrics.PCKAccumulator(PENN), metrics.PCKAccumulator(PENN)
        for frames in (3, 1, 4, 2, 5):
            gt = rng.uniform(0, 100, (frames, K, 2))
            visible = rng.uniform(size=(frames, K)) > 0.6  # some joints unseen in some videos
            boxes = np.tile([0.0, 0.0, 100.0, 100.0], (frames, 1))
            a.add(gt + rng.normal(0, 12, gt.shape), gt, visible, boxes)
            b.add(gt + rng.normal(0, 14, gt.shape), gt, visible, boxes)
        for norm in metrics.NORMS:
            draws = np.random.default_rng(7)
            diffs = []
            for _ in range(50):  # the draws paired_bootstrap(samples=50, seed=7) makes
                idx = draws.integers(0, a.num_videos, a.num_videos)
                diffs.append(a.subset(idx).result(norm=norm)["mean"]
                             - b.subset(idx).result(norm=norm)["mean"])
            diffs = np.array(diffs)
            r = metrics.paired_bootstrap(a, b, norm, samples=50, seed=7)
            self.assertAllClose([r["low"], r["high"]], np.percentile(diffs, [2.5, 97.5]),
                                atol=1e-9)
            self.assertEqual(r["share_not_ahead"], np.mean(diffs <= 0))
            self.assertAllClose(r["difference"], a.result(norm=norm)["mean"]
                                - b.result(norm=norm)["mean"])
        # Over the limbs alone (no Head group): the same draws, each the mean of those joints.
        limbs = metrics.limb_joints(PENN)
        self.assertEqual([PENN.names[i] for i in range(K) if i not in limbs], ["head"])

        def limb_mean(acc):
            joints = acc.result()["joints"]
            return np.nanmean([joints[PENN.names[i]] for i in limbs])

        draws = np.random.default_rng(7)
        diffs = []
        for _ in range(50):
            idx = draws.integers(0, a.num_videos, a.num_videos)
            diffs.append(limb_mean(a.subset(idx)) - limb_mean(b.subset(idx)))
        r = metrics.paired_bootstrap(a, b, samples=50, seed=7, joints=limbs)
        self.assertAllClose([r["low"], r["high"]], np.percentile(diffs, [2.5, 97.5]), atol=1e-9)
        self.assertAllClose(r["difference"], limb_mean(a) - limb_mean(b))
        self.assertNotAllClose(r["difference"], a.result()["mean"] - b.result()["mean"])

    def test_needs_the_same_videos(self):
        with self.assertRaisesRegex(ValueError, "same test videos"):
            metrics.paired_bootstrap(self._videos([1.0, 2.0]), self._videos([1.0]))


class JitterTest(tf.test.TestCase):

    def _record(self, joints, visibility=None, size=100.0):
        t = len(joints)
        vis = np.ones((t, K), np.float32) if visibility is None else visibility
        boxes = np.tile(np.array([[0, 0, size, size / 2]], np.float32), (t, 1))
        return VideoRecord("v", [""] * t, joints.astype(np.float32), vis, boxes, PENN.name,
                           "test")

    def test_constant_speed_has_none_and_a_jolt_is_its_acceleration(self):
        t = np.arange(5, dtype=np.float64)[:, None, None]
        steady = _base_gt(5) + t * np.array([3.0, -2.0])        # every joint moves 3, -2 px
        rec = self._record(steady)
        out = metrics.jitter([rec], {"v": steady})
        self.assertEqual(out["count"], 3 * K)                    # T - 2 triples, every joint
        self.assertAllClose(out["median"], 0.0, atol=1e-9)
        shaken = steady.copy()
        shaken[2, :, 0] += 4.0            # frame 2 off by 4 px: |a| = 4, 8, 4 px at t = 1, 2, 3
        out = metrics.jitter([rec], {"v": shaken})
        self.assertAllClose(out["median"], 4.0)                  # % of the 100 px person
        self.assertAllClose(out["p90"], 8.0)

    def test_only_joints_visible_in_all_three_frames_count(self):
        gt = _base_gt(4)
        vis = np.ones((4, K), np.float32)
        vis[1, HEAD] = 0                  # the head's triples (0, 1, 2) and (1, 2, 3) drop out
        out = metrics.jitter([self._record(gt, vis)], {"v": gt})
        self.assertEqual(out["count"], 2 * K - 2)
        short = self._record(_base_gt(2))
        out = metrics.jitter([short], {"v": _base_gt(2)})
        self.assertEqual(out["count"], 0)
        self.assertTrue(np.isnan(out["median"]))


class PredictionFilesTest(tf.test.TestCase):

    def _preds(self):
        rng = np.random.default_rng(0)
        return {"0001": rng.uniform(0, 100, (3, K, 2)).astype(np.float32),
                "a/b c": rng.uniform(0, 100, (1, K, 2)).astype(np.float32),
                "file": rng.uniform(0, 100, (2, K, 2)).astype(np.float32)}

    def test_round_trip(self):
        d = self.get_temp_dir()
        preds = self._preds()
        for ext in ("npz", "json"):
            path = os.path.join(d, f"preds.{ext}")
            metrics.save_predictions(path, preds, "penn_action")
            self.assertTrue(os.path.isfile(path))
            name, loaded = metrics.load_predictions(path)
            self.assertEqual(name, "penn_action")
            self.assertEqual(set(loaded), set(preds))
            for v in preds:
                self.assertEqual(loaded[v].dtype, np.float32)
                self.assertAllClose(loaded[v], preds[v])

    def test_json_format_is_documented_layout(self):
        path = os.path.join(self.get_temp_dir(), "p.json")
        metrics.save_predictions(path, {"v": np.zeros((2, K, 2))}, "penn_action")
        with open(path) as f:
            doc = json.load(f)
        self.assertEqual(doc["joint_set"], "penn_action")
        self.assertEqual(np.array(doc["videos"]["v"]).shape, (2, K, 2))

    def test_wrong_shape_names_file(self):
        d = self.get_temp_dir()
        path = os.path.join(d, "bad.json")
        with open(path, "w") as f:
            json.dump({"joint_set": "penn_action", "videos": {"v": [[[1, 2]] * 12]}}, f)
        with self.assertRaisesRegex(DatasetError, "bad.json.*'v'.*12 joints"):
            metrics.load_predictions(path)
        path = os.path.join(d, "bad.npz")
        np.savez(path, joint_set=np.array("penn_action"), v=np.zeros((2, K, 3)))
        with self.assertRaisesRegex(DatasetError, "bad.npz.*'v'.*shape"):
            metrics.load_predictions(path)
        with self.assertRaisesRegex(DatasetError, "out.npz.*'v'"):
            metrics.save_predictions(os.path.join(d, "out.npz"), {"v": np.zeros((2, 5, 2))},
                                     "penn_action")

    def test_malformed_files_name_file(self):
        d = self.get_temp_dir()
        cases = {
            "trunc.json": '{"joint_set": "penn_action", "videos": {',
            "nokey.json": '{"videos": {}}',
            "unknown.json": '{"joint_set": "coco", "videos": {}}',
            "garbage.npz": "not a zip file",
        }
        for name, text in cases.items():
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            with self.assertRaisesRegex(DatasetError, name):
                metrics.load_predictions(path)
        path = os.path.join(d, "noname.npz")
        np.savez(path, v=np.zeros((2, K, 2)))
        with self.assertRaisesRegex(DatasetError, "noname.npz.*joint_set"):
            metrics.load_predictions(path)
        with self.assertRaisesRegex(DatasetError, "missing.npz.*does not exist"):
            metrics.load_predictions(os.path.join(d, "missing.npz"))
        with self.assertRaisesRegex(ValueError, "preds.txt"):
            metrics.save_predictions(os.path.join(d, "preds.txt"), {}, "penn_action")

    def test_missing_video_names_file(self):
        path = os.path.join(self.get_temp_dir(), "p.npz")
        metrics.save_predictions(path, {"0001": np.zeros((2, K, 2))}, "penn_action")
        _, preds = metrics.load_predictions(path)
        rec = VideoRecord("0002", ["a", "b"], np.zeros((2, K, 2), np.float32),
                          np.ones((2, K), np.float32), np.zeros((2, 4), np.float32),
                          "penn_action", "test")
        with self.assertRaisesRegex(DatasetError, "p.npz.*no predictions for video '0002'"):
            metrics.prediction_for(preds, rec, path)
        rec.video_id = "0001"
        self.assertAllEqual(metrics.prediction_for(preds, rec, path), np.zeros((2, K, 2)))
        rec.frame_paths = ["a", "b", "c"]
        with self.assertRaisesRegex(DatasetError, "p.npz.*'0001'.*shape"):
            metrics.prediction_for(preds, rec, path)


if __name__ == "__main__":
    tf.test.main()
