"""Penn Action reader/writer: exact round trip, the real data's known defects, clear errors."""
import os
import tempfile

import numpy as np
import scipy.io
import tensorflow as tf

from dkd_tf.data import frames, penn_action
from dkd_tf.data.records import DatasetError

T, H, W = 3, 24, 32


def _make_video(root, vid="0007", train=True, t=T, seed=0):
    rng = np.random.default_rng(seed)
    imgs = [rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8) for _ in range(t)]
    # Fractional float32 coordinates, some outside the image, as real labels have.
    joints = (rng.uniform(-3, 35, size=(t, 13, 2))).astype(np.float32)
    vis = (rng.random((t, 13)) > 0.3).astype(np.float32)
    boxes = np.sort(rng.uniform(0, 30, size=(t, 2, 2)), axis=1).transpose(0, 2, 1).reshape(t, 4)
    boxes = boxes[:, [0, 2, 1, 3]].astype(np.float32)  # x1 y1 x2 y2
    penn_action.write_video(root, vid, imgs, joints, vis, boxes, train=train,
                            action="baseball_pitch", pose="front")
    return joints, vis, boxes


def _rewrite_mat(path, **changes):
    mat = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    for k, v in changes.items():
        if v is None:
            del mat[k]
        else:
            mat[k] = v
    scipy.io.savemat(path, mat)


class PennActionRoundTripTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(dir=self.get_temp_dir())

    def test_layout_is_penn_actions(self):
        _make_video(self.root, "7")
        self.assertTrue(os.path.isfile(os.path.join(self.root, "labels", "0007.mat")))
        for i in (1, 2, 3):
            self.assertTrue(os.path.isfile(
                os.path.join(self.root, "frames", "0007", f"{i:06d}.jpg")))
        mat = scipy.io.loadmat(os.path.join(self.root, "labels", "0007.mat"))
        self.assertEqual(mat["x"].shape, (T, 13))
        self.assertEqual(mat["x"].dtype, np.float64)
        self.assertEqual(mat["bbox"].shape, (T, 4))
        self.assertAllEqual(mat["dimensions"].ravel(), [H, W, T])
        self.assertEqual(int(mat["nframes"].ravel()[0]), T)
        self.assertEqual(int(mat["train"].ravel()[0]), 1)
        self.assertEqual(str(mat["action"][0]), "baseball_pitch")

    def test_round_trip_is_exact(self):
        joints, vis, boxes = _make_video(self.root, "0007", train=True)
        _make_video(self.root, "0012", train=False, seed=1)
        rec = penn_action.read_video(self.root, "0007")
        self.assertEqual(rec.video_id, "0007")
        self.assertEqual(rec.joint_set, "penn_action")
        self.assertEqual(rec.split, "train")
        self.assertEqual(rec.action, "baseball_pitch")
        self.assertEqual(rec.image_size, (H, W))
        self.assertEqual(rec.num_frames, T)
        self.assertEqual(rec.joints.dtype, np.float32)
        np.testing.assert_array_equal(rec.joints, joints)
        np.testing.assert_array_equal(rec.visibility, vis)
        np.testing.assert_array_equal(rec.bboxes, boxes)
        self.assertEqual(os.path.basename(rec.frame_paths[-1]), "000003.jpg")
        self.assertEqual(penn_action.list_videos(self.root), ["0007", "0012"])
        self.assertEqual([r.video_id for r in penn_action.read_split(self.root, "train")],
                         ["0007"])
        test = penn_action.read_split(self.root, "test")
        self.assertEqual([r.video_id for r in test], ["0012"])
        self.assertEqual(test[0].split, "test")
        self.assertLen(penn_action.read_split(self.root, "all"), 2)
        with self.assertRaises(ValueError):
            penn_action.read_split(self.root, "val")

    def test_short_bbox_repeats_last_box(self):
        # Videos 1154 and 1865 of the real data have one bbox row fewer than frames.
        _, _, boxes = _make_video(self.root)
        path = penn_action.label_path(self.root, "0007")
        _rewrite_mat(path, bbox=boxes[:-1].astype(np.float64))
        rec = penn_action.read_video(self.root, "0007")
        self.assertEqual(rec.bboxes.shape, (T, 4))
        np.testing.assert_array_equal(rec.bboxes[:-1], boxes[:-1])
        np.testing.assert_array_equal(rec.bboxes[-1], boxes[-2])

    def test_image_size_wins_over_dimensions(self):
        _make_video(self.root)
        path = penn_action.label_path(self.root, "0007")
        _rewrite_mat(path, dimensions=np.array([[480.0, 640.0, T]]))
        self.assertEqual(penn_action.read_video(self.root, "0007").image_size, (H, W))

    def test_extra_fields_are_kept_and_ignored_by_the_reader(self):
        # Writers of their own fields (teacher confidence, photo clips' camera matrices) must not
        # change what the reader returns.
        joints, vis, _ = _make_video(self.root, "0001")
        rng = np.random.default_rng(0)
        conf = rng.random((T, 13))
        imgs = [frames.load_frame(p) for p in penn_action.read_video(self.root, "1").frame_paths]
        rec1 = penn_action.read_video(self.root, "0001")
        penn_action.write_video(self.root, "0002", imgs, joints, vis, rec1.bboxes, train=True,
                                extra={"confidence": conf, "source": "cam01.mp4"})
        rec2 = penn_action.read_video(self.root, "0002")
        np.testing.assert_array_equal(rec2.joints, rec1.joints)
        np.testing.assert_array_equal(rec2.visibility, rec1.visibility)
        np.testing.assert_array_equal(penn_action.read_field(self.root, "2", "confidence"), conf)
        self.assertEqual(str(penn_action.read_field(self.root, "2", "source")[0]), "cam01.mp4")
        self.assertIsNone(penn_action.read_field(self.root, "1", "confidence"))
        with self.assertRaisesRegex(ValueError, "visibility"):
            penn_action.write_video(self.root, "3", imgs, joints, vis, rec1.bboxes, True,
                                    extra={"visibility": vis})


class PennActionErrorTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(dir=self.get_temp_dir())
        self.joints, _, _ = _make_video(self.root)
        self.mat = penn_action.label_path(self.root, "0007")

    def assertErrorNames(self, path, *words):
        with self.assertRaises(DatasetError) as cm:
            penn_action.read_video(self.root, "0007")
        self.assertEqual(os.path.normpath(cm.exception.path), os.path.normpath(path))
        self.assertIn(os.path.normpath(path), str(cm.exception))
        for w in words:
            self.assertIn(w, str(cm.exception))

    def test_missing_frame_file(self):
        missing = os.path.join(self.root, "frames", "0007", "000002.jpg")
        os.remove(missing)
        self.assertErrorNames(missing, "missing")

    def test_missing_field(self):
        _rewrite_mat(self.mat, x=None)
        self.assertErrorNames(self.mat, "'x'")

    def test_every_bad_label_file_is_named_in_one_error(self):
        """Three videos, two with bad labels: one error names both, so one pass fixes them."""
        _make_video(self.root, "8")
        _make_video(self.root, "9")
        _rewrite_mat(self.mat, x=None)
        ninth = penn_action.label_path(self.root, "0009")
        with open(ninth, "wb") as f:
            f.write(b"not a mat file")
        with self.assertRaises(DatasetError) as cm:
            penn_action.read_split(self.root, "all")
        text = str(cm.exception)
        self.assertEqual(os.path.normpath(cm.exception.path), os.path.normpath(self.mat))
        self.assertIn("(and 1 more bad files:)", text)
        self.assertIn(f"\n  {ninth}: unreadable", text)
        self.assertNotIn("0008.mat", text)

    def test_truncated_mat(self):
        with open(self.mat, "rb") as f:
            data = f.read()
        for cut in (60, len(data) // 3, len(data) // 2, len(data) - 7):
            with open(self.mat, "wb") as f:
                f.write(data[:cut])
            self.assertErrorNames(self.mat)

    def test_nan_joints(self):
        x = self.joints[..., 0].astype(np.float64)
        x[1, 4] = np.nan
        _rewrite_mat(self.mat, x=x)
        self.assertErrorNames(self.mat, "NaN")

    def test_wrong_shape(self):
        _rewrite_mat(self.mat, y=self.joints[:, :12, 1].astype(np.float64))
        self.assertErrorNames(self.mat, "'y'")

    def test_missing_label_file(self):
        os.remove(self.mat)
        self.assertErrorNames(self.mat, "missing")


class FramesTest(tf.test.TestCase):

    def test_png_round_trip_is_rgb_and_exact(self):
        img = np.zeros((5, 7, 3), np.uint8)
        img[..., 0] = 200  # pure red must stay in channel 0 (no BGR leak)
        img[2, 3] = (1, 2, 3)
        path = os.path.join(self.get_temp_dir(), "a", "f.png")
        frames.save_frame(path, img)
        out = frames.load_frame(path)
        self.assertEqual(out.dtype, np.uint8)
        np.testing.assert_array_equal(out, img)

    def test_errors_name_the_file(self):
        missing = os.path.join(self.get_temp_dir(), "nope.jpg")
        with self.assertRaisesRegex(DatasetError, "missing") as cm:
            frames.load_frame(missing)
        self.assertEqual(cm.exception.path, missing)
        bad = os.path.join(self.get_temp_dir(), "bad.jpg")
        with open(bad, "wb") as f:
            f.write(b"not an image at all")
        with self.assertRaisesRegex(DatasetError, "decode") as cm:
            frames.load_frame(bad)
        self.assertEqual(cm.exception.path, bad)


if __name__ == "__main__":
    tf.test.main()
