"""LSP and LSP extended readers on fixtures written in their exact on-disk layouts, the LSP ->
Penn Action joint mapping, and the real sets in ../shared/data when present."""
import os
import tempfile

import cv2
import numpy as np
import scipy.io
import tensorflow as tf

from dkd_tf.core import joints
from dkd_tf.data import lsp
from dkd_tf.data.records import DatasetError

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def _write_lsp(root, n=4, size=(60, 40)):
    """lsp/: joints.mat 3 x 14 x n (x, y, occlusion flag), images/im0001.jpg ..."""
    rng = np.random.default_rng(0)
    h, w = size
    j = np.zeros((3, 14, n))
    j[0] = rng.uniform(1, w, (14, n))
    j[1] = rng.uniform(1, h, (14, n))
    j[2] = (rng.uniform(size=(14, n)) > 0.9)  # 1 marks an occluded joint, as LSP's flag does
    os.makedirs(os.path.join(root, "images"))
    for i in range(n):
        cv2.imwrite(os.path.join(root, "images", f"im{i + 1:04d}.jpg"), np.zeros((h, w, 3),
                                                                                  np.uint8))
    scipy.io.savemat(os.path.join(root, "joints.mat"), {"joints": j})
    return j


def _write_lspet(root, n=3, size=(50, 70)):
    """lspet/: joints.mat 14 x 3 x n (x, y, visible flag; unlabelled joints outside the image)."""
    rng = np.random.default_rng(1)
    h, w = size
    j = np.zeros((14, 3, n))
    j[:, 0] = rng.uniform(1, w, (14, n))
    j[:, 1] = rng.uniform(1, h, (14, n))
    j[:, 2] = 1
    j[0, :2, 0] = (0.0, -26.1)  # unlabelled, as im00001's right ankle is in the real file
    j[0, 2, 0] = 0
    j[:, 2, 2] = 0               # a photo with no labelled joint: left out
    os.makedirs(os.path.join(root, "images"))
    for i in range(n):
        cv2.imwrite(os.path.join(root, "images", f"im{i + 1:05d}.jpg"), np.zeros((h, w, 3),
                                                                                  np.uint8))
    scipy.io.savemat(os.path.join(root, "joints.mat"), {"joints": j})
    return j


class LSPReaderTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp()
        self.lsp_j = _write_lsp(os.path.join(self.root, "lsp"))
        self.lspet_j = _write_lspet(os.path.join(self.root, "lspet"))

    def test_lsp_layout_split_and_zero_based_coordinates(self):
        with self._split_at(2):
            train = lsp.read_lsp(os.path.join(self.root, "lsp"), "train")
            test = lsp.read_lsp(os.path.join(self.root, "lsp"), "test")
        self.assertEqual([r.video_id for r in train], ["lsp_0001", "lsp_0002"])
        self.assertEqual([r.video_id for r in test], ["lsp_0003", "lsp_0004"])
        rec = test[0]
        self.assertEqual(rec.joint_set, "lsp")
        self.assertEqual(rec.image_size, (60, 40))
        self.assertAllClose(rec.joints[0], self.lsp_j[:2, :, 2].T - 1.0)
        # LSP's flag marks occlusion; every joint is labelled and scored.
        self.assertAllEqual(rec.visibility[0], np.ones(14))
        self.assertAllClose(rec.bboxes[0, :2], rec.joints[0].min(0))
        self.assertAllClose(rec.bboxes[0, 2:], rec.joints[0].max(0))

    def test_lspet_layout_and_visibility(self):
        recs = lsp.read_lspet(os.path.join(self.root, "lspet"))
        self.assertEqual([r.video_id for r in recs], ["lspet_00001", "lspet_00002"])
        self.assertEqual(recs[0].visibility[0, 0], 0.0)  # flag 0 / outside the image
        self.assertEqual(recs[0].visibility[0, 1:].min(), 1.0)
        self.assertAllClose(recs[1].joints[0], self.lspet_j[:, :2, 1] - 1.0)
        # The box bounds the labelled joints only (not the unlabelled one at y = -26).
        self.assertGreater(recs[0].bboxes[0, 1], 0.0)

    def test_extended_split_adds_lspet_to_train_only(self):
        with self._split_at(2):
            train = lsp.read_split(self.root, "train", extended=True)
            test = lsp.read_split(self.root, "test", extended=True)
        self.assertLen(train, 2 + 2)
        self.assertLen(test, 2)

    def test_wrong_layout_names_the_file(self):
        path = os.path.join(self.root, "lsp", "joints.mat")
        scipy.io.savemat(path, {"joints": np.zeros((14, 3, 4))})  # LSPET's layout in lsp/
        with self.assertRaisesRegex(DatasetError, "joints.mat: 'joints' has shape"):
            lsp.read_lsp(os.path.join(self.root, "lsp"), "test")
        with open(path, "wb") as f:
            f.write(b"not a mat file")
        with self.assertRaisesRegex(DatasetError, "joints.mat: not a readable MATLAB file"):
            lsp.read_lsp(os.path.join(self.root, "lsp"), "test")

    def test_missing_image_names_it(self):
        os.remove(os.path.join(self.root, "lspet", "images", "im00002.jpg"))
        with self.assertRaisesRegex(DatasetError, "im00002.jpg: image is missing"):
            lsp.read_lspet(os.path.join(self.root, "lspet"))

    def test_penn_action_mapping(self):
        m = joints.mapping(joints.LSP, joints.PENN_ACTION)
        self.assertEqual(m[joints.PENN_ACTION.index("head")], joints.LSP.index("head_top"))
        for name in ("l_wrist", "r_ankle", "l_shoulder"):
            self.assertEqual(m[joints.PENN_ACTION.index(name)], joints.LSP.index(name))
        self.assertNotIn(-1, m)  # every Penn Action joint has an LSP label
        back = joints.mapping(joints.PENN_ACTION, joints.LSP)
        self.assertEqual(back[joints.LSP.index("neck")], -1)

    def test_lsp_evaluates_the_twelve_limb_joints(self):
        names = {joints.LSP.names[i] for i in joints.LSP.evaluated}
        self.assertLen(names, 12)
        self.assertNotIn("neck", names)
        self.assertNotIn("head_top", names)

    def _split_at(self, n):
        test = self

        class _Split:
            def __enter__(self):
                self.old = lsp.TEST_START
                lsp.TEST_START = n

            def __exit__(self, *exc):
                lsp.TEST_START = self.old
                test.assertEqual(lsp.TEST_START, self.old)
        return _Split()


class SharedLSPTest(tf.test.TestCase):
    """The real sets, where this project's workplace has them (a user's clone does not)."""

    def setUp(self):
        super().setUp()
        if not os.path.isdir(os.path.join(SHARED, "lsp")):
            self.skipTest(f"no real LSP data at {os.path.abspath(SHARED)} (only this project's "
                          "workplace has it)")

    def test_real_lsp_and_lspet(self):
        test = lsp.read_split(SHARED, "test", extended=True)
        self.assertLen(test, 1000)
        self.assertEqual(test[0].video_id, "lsp_1001")
        train = lsp.read_split(SHARED, "train", extended=True)
        self.assertGreater(len(train), 10900)  # 1000 LSP + LSPET photos with >= 2 labels
        lspet = [r for r in train if r.video_id.startswith("lspet")]
        visible = np.mean([r.visibility.mean() for r in lspet])
        self.assertBetween(visible, 0.8, 0.95)  # 88 % of LSPET's joints are labelled
        for rec in test[:20]:
            h, w = rec.image_size
            x, y = rec.joints[0].T  # LSP's labels lie in or near their photo
            self.assertTrue(np.all((x > -w / 2) & (x < 1.5 * w) & (y > -h / 2) & (y < 1.5 * h)))
