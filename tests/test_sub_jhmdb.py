"""Sub-JHMDB reader on a fixture written in the official on-disk format."""
import os

import cv2
import numpy as np
import scipy.io
import tensorflow as tf

from dkd_tf.core import joints as joints_lib
from dkd_tf.evaluation import metrics
from dkd_tf.data import sub_jhmdb
from dkd_tf.data.records import DatasetError

H, W, T = 32, 40, 4
JS = joints_lib.SUB_JHMDB
# action -> videos; 'climb_stairs' checks that '_' inside an action name is parsed right.
VIDEOS = {"catch": ["catch_v1", "catch_v2"], "climb_stairs": ["climb_v3", "climb_v4"]}
# split -> videos in the test subset (label 2); all others are train (label 1).
TEST_VIDEOS = {1: {"catch_v2", "climb_v4"}, 2: {"catch_v1", "climb_v3"}, 3: {"catch_v1"}}


def _pos_img(seed):
    """2 x 15 x T MATLAB 1-based image coordinates."""
    rng = np.random.default_rng(seed)
    pos = np.empty((2, JS.num_joints, T))
    pos[0] = rng.uniform(1, W, (JS.num_joints, T))
    pos[1] = rng.uniform(1, H, (JS.num_joints, T))
    return pos


def _mask_box(seed, t):
    """The (x1, y1, x2, y2) inclusive box painted into part_mask[:, :, t]."""
    return (2 + seed + t, 3 + t, 20 + seed, 25 - t)


def write_fixture(root):
    """Write ROOT with joint_positions, Rename_Images, puppet_mask and sub_splits."""
    seed = 0
    for action, videos in VIDEOS.items():
        for video in videos:
            seed += 1
            jdir = os.path.join(root, "joint_positions", action, video)
            os.makedirs(jdir)
            scipy.io.savemat(os.path.join(jdir, "joint_positions.mat"), {
                "pos_img": _pos_img(seed),
                "pos_world": _pos_img(seed) / 100.0,
                "scale": np.full((1, T), 1.5),
                "viewpoint": np.array(["E"] * T)[None],
            })
            fdir = os.path.join(root, "Rename_Images", action, video)
            os.makedirs(fdir)
            for t in range(1, T + 1):
                img = np.full((H, W, 3), 10 * t, np.uint8)
                cv2.imwrite(os.path.join(fdir, f"{t:05d}.png"), img)
            mdir = os.path.join(root, "puppet_mask", action, video)
            os.makedirs(mdir)
            mask = np.zeros((H, W, T), np.uint8)
            for t in range(T):
                x1, y1, x2, y2 = _mask_box(seed, t)
                mask[y1:y2 + 1, x1:x2 + 1, t] = 1 + (t % 3)   # part ids, not just 0/1
            scipy.io.savemat(os.path.join(mdir, "puppet_mask.mat"), {"part_mask": mask})
    sdir = os.path.join(root, "sub_splits")
    os.makedirs(sdir)
    for n, test in TEST_VIDEOS.items():
        for action, videos in VIDEOS.items():
            with open(os.path.join(sdir, f"{action}_test_split_{n}.txt"), "w") as f:
                for v in videos:
                    f.write(f"{v}.avi {2 if v in test else 1}\n")


class SubJHMDBTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "sub_jhmdb")
        write_fixture(self.root)

    def test_read_video_joints_boxes_frames(self):
        rec = sub_jhmdb.read_video(self.root, "catch", "catch_v2", "test")
        self.assertEqual(rec.video_id, "catch_v2")
        self.assertEqual(rec.action, "catch")
        self.assertEqual(rec.split, "test")
        self.assertEqual(rec.joint_set, "sub_jhmdb")
        self.assertEqual(rec.num_frames, T)
        self.assertEqual(rec.image_size, (H, W))
        self.assertEqual(os.path.basename(rec.frame_paths[0]), "00001.png")
        self.assertEqual(os.path.basename(rec.frame_paths[-1]), "00004.png")
        # 1-based MATLAB [2, 15, T] -> 0-based [T, 15, 2].
        expected = _pos_img(2).transpose(2, 1, 0) - 1.0
        self.assertEqual(rec.joints.shape, (T, 15, 2))
        self.assertEqual(rec.joints.dtype, np.float32)
        self.assertAllClose(rec.joints, expected)
        self.assertAllClose(rec.joints[1, JS.index("face")], _pos_img(2)[:, 2, 1] - 1.0)
        self.assertAllEqual(rec.visibility, np.ones((T, 15)))
        self.assertAllEqual(rec.bboxes, np.array([_mask_box(2, t) for t in range(T)]))

    def test_split_membership(self):
        all_videos = {v for vs in VIDEOS.values() for v in vs}
        for n, test in TEST_VIDEOS.items():
            test_recs = sub_jhmdb.read_split(self.root, n, "test")
            train_recs = sub_jhmdb.read_split(self.root, n, "train")
            self.assertEqual({r.video_id for r in test_recs}, test)
            self.assertEqual({r.video_id for r in train_recs}, all_videos - test)
            self.assertTrue(all(r.split == "test" for r in test_recs))
            self.assertTrue(all(r.split == "train" for r in train_recs))
        recs = sub_jhmdb.read_split(self.root, 1, "train")
        self.assertEqual([(r.action, r.video_id) for r in recs],
                         [("catch", "catch_v1"), ("climb_stairs", "climb_v3")])
        with self.assertRaises(ValueError):
            sub_jhmdb.read_split(self.root, 4, "train")
        with self.assertRaises(ValueError):
            sub_jhmdb.read_split(self.root, 1, "val")

    def test_evaluated_joints_and_head(self):
        """15 labelled joints, 13 evaluated: face is Head, neck and belly are not scored."""
        self.assertEqual(JS.num_joints, 15)
        self.assertLen(JS.evaluated, 13)
        self.assertNotIn(JS.index("neck"), JS.evaluated)
        self.assertNotIn(JS.index("belly"), JS.evaluated)
        self.assertEqual(JS.groups["Head"], (JS.index("face"),))
        rec = sub_jhmdb.read_video(self.root, "catch", "catch_v1")
        pred = rec.joints.copy()
        pred[:, JS.index("neck")] += 500.0       # wrong, but never scored
        pred[:, JS.index("belly")] += 500.0
        pred[0, JS.index("face")] += 500.0       # wrong in 1 of 4 frames
        acc = metrics.PCKAccumulator(JS)
        acc.add_record(rec, pred)
        for norm in metrics.NORMS:
            res = acc.result(0.2, norm)
            self.assertNotIn("neck", res["joints"])
            self.assertNotIn("belly", res["joints"])
            self.assertLen(res["joints"], 13)
            self.assertAllClose(res["groups"]["Head"], 75.0)
            self.assertAllClose(res["groups"]["Sho."], 100.0)
            self.assertAllClose(res["mean"], (75.0 + 12 * 100.0) / 13)

    def _jpath(self):
        return os.path.join(self.root, "joint_positions", "catch", "catch_v1",
                            "joint_positions.mat")

    def test_truncated_mat(self):
        path = self._jpath()
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        with self.assertRaisesRegex(DatasetError, "catch_v1/joint_positions.mat"):
            sub_jhmdb.read_video(self.root, "catch", "catch_v1")

    def test_corrupt_mat(self):
        with open(self._jpath(), "wb") as f:
            f.write(b"\x00garbage" * 50)
        with self.assertRaisesRegex(DatasetError, "catch_v1/joint_positions.mat"):
            sub_jhmdb.read_split(self.root, 1, "train")

    def test_wrong_pos_img_shape(self):
        scipy.io.savemat(self._jpath(), {"pos_img": np.zeros((2, 13, T))})
        with self.assertRaisesRegex(DatasetError, "joint_positions.mat.*pos_img.*shape"):
            sub_jhmdb.read_video(self.root, "catch", "catch_v1")

    def test_bad_split_label(self):
        path = os.path.join(self.root, "sub_splits", "climb_stairs_test_split_2.txt")
        with open(path, "w") as f:
            f.write("climb_v3.avi 1\nclimb_v4.avi 3\n")
        with self.assertRaisesRegex(DatasetError,
                                    "climb_stairs_test_split_2.txt.*line 2.*'3'"):
            sub_jhmdb.read_split(self.root, 2, "test")

    def test_fewer_pngs_than_frames(self):
        os.remove(os.path.join(self.root, "Rename_Images", "catch", "catch_v1", "00004.png"))
        with self.assertRaisesRegex(DatasetError, "catch_v1/00004.png.*3 PNG frames.*labels 4"):
            sub_jhmdb.read_video(self.root, "catch", "catch_v1")

    def test_more_pngs_than_labelled_frames_warn(self):
        fdir = os.path.join(self.root, "Rename_Images", "catch", "catch_v1")
        cv2.imwrite(os.path.join(fdir, f"{T + 1:05d}.png"), np.zeros((H, W, 3), np.uint8))
        with self.assertLogs("absl", "WARNING") as logs:
            rec = sub_jhmdb.read_video(self.root, "catch", "catch_v1")
        self.assertEqual(rec.num_frames, T)
        self.assertIn(f"labels {T} frames", logs.output[0])
        self.assertIn(f"{T + 1} PNG frames", logs.output[0])

    def test_missing_puppet_mask(self):
        path = os.path.join(self.root, "puppet_mask", "catch", "catch_v1", "puppet_mask.mat")
        os.remove(path)
        with self.assertRaisesRegex(DatasetError, "catch_v1/puppet_mask.mat.*missing"):
            sub_jhmdb.read_video(self.root, "catch", "catch_v1")

    def test_puppet_mask_with_too_few_frames(self):
        path = os.path.join(self.root, "puppet_mask", "catch", "catch_v1", "puppet_mask.mat")
        scipy.io.savemat(path, {"part_mask": np.ones((H, W, T - 1), np.uint8)})
        with self.assertRaisesRegex(DatasetError, "puppet_mask.mat.*3 frames"):
            sub_jhmdb.read_video(self.root, "catch", "catch_v1")

    def test_missing_split_directory(self):
        with self.assertRaisesRegex(DatasetError, "sub_splits"):
            sub_jhmdb.read_split(os.path.join(self.root, "nowhere"), 1, "train")


if __name__ == "__main__":
    tf.test.main()
