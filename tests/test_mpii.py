"""MPII JSON reader on a fixture in the widely used annotation format."""
import json
import os

import cv2
import numpy as np
import tensorflow as tf

from dkd_tf.data import mpii
from dkd_tf.data.records import DatasetError


def _entry(image, seed, center=(50.0, 40.0), scale=0.4):
    rng = np.random.default_rng(seed)
    joints = rng.uniform(1, 60, (16, 2)).round(1)
    vis = (rng.uniform(size=16) > 0.3).astype(int)
    joints[vis == 0] = -1.0                     # how the official JSON marks unlabelled joints
    return {"image": image, "center": list(center), "scale": scale,
            "joints": joints.tolist(), "joints_vis": vis.tolist()}


def _write(root, split, entries):
    with open(os.path.join(root, "annot", f"{split}.json"), "w") as f:
        json.dump(entries, f)


def write_fixture(root):
    """ROOT/images/*.jpg and ROOT/annot/{train,valid}.json; -> (train entries, valid entries)."""
    os.makedirs(os.path.join(root, "images"))
    os.makedirs(os.path.join(root, "annot"))
    cv2.imwrite(os.path.join(root, "images", "000001.jpg"), np.zeros((60, 80, 3), np.uint8))
    cv2.imwrite(os.path.join(root, "images", "000002.jpg"), np.zeros((50, 70, 3), np.uint8))
    train = [_entry("000001.jpg", 1), _entry("000001.jpg", 2, (30.0, 20.0), 0.25),
             _entry("000002.jpg", 3)]
    valid = [_entry("000002.jpg", 4)]
    _write(root, "train", train)
    _write(root, "valid", valid)
    return train, valid


class MPIITest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "mpii")
        self.train, self.valid = write_fixture(self.root)

    def _write(self, split, entries):
        _write(self.root, split, entries)

    def test_records(self):
        recs = mpii.read_annotations(self.root, "train")
        self.assertLen(recs, 3)
        self.assertEqual([r.video_id for r in recs], ["000001_0", "000001_1", "000002_0"])
        for rec, entry in zip(recs, self.train):
            self.assertEqual(rec.joint_set, "mpii")
            self.assertEqual(rec.split, "train")
            self.assertEqual(rec.num_frames, 1)
            self.assertEqual(rec.frame_paths,
                             [os.path.join(self.root, "images", entry["image"])])
            self.assertEqual(rec.joints.shape, (1, 16, 2))
            self.assertAllClose(rec.joints[0], np.array(entry["joints"]) - 1.0)   # 0-based
            self.assertAllEqual(rec.visibility[0], entry["joints_vis"])
        # Box: 0-based centre +- scale * 200 / 2 (a square).
        self.assertAllClose(recs[1].bboxes, [[29 - 25, 19 - 25, 29 + 25, 19 + 25]])
        self.assertAllClose(recs[0].bboxes, [[49 - 40, 39 - 40, 49 + 40, 39 + 40]])
        self.assertEqual(recs[0].image_size, (60, 80))
        self.assertEqual(recs[2].image_size, (50, 70))

    def test_valid_is_test_split(self):
        recs = mpii.read_annotations(self.root, "valid")
        self.assertLen(recs, 1)
        self.assertEqual(recs[0].split, "test")
        with self.assertRaises(ValueError):
            mpii.read_annotations(self.root, "test")

    def test_malformed_json_names_file(self):
        with open(os.path.join(self.root, "annot", "train.json"), "w") as f:
            f.write('[{"image": "000001.jpg", "center": [1, 2]')
        with self.assertRaisesRegex(DatasetError, "annot/train.json.*malformed JSON"):
            mpii.read_annotations(self.root, "train")

    def test_wrong_joint_count_names_file(self):
        bad = _entry("000001.jpg", 5)
        bad["joints"] = bad["joints"][:15]
        self._write("valid", [self.valid[0], bad])
        with self.assertRaisesRegex(DatasetError, r"annot/valid.json.*entry 1.*\(15, 2\)"):
            mpii.read_annotations(self.root, "valid")
        bad = _entry("000001.jpg", 5)
        bad["joints_vis"] = bad["joints_vis"][:14]
        self._write("valid", [bad])
        with self.assertRaisesRegex(DatasetError, "annot/valid.json.*entry 0.*joints_vis"):
            mpii.read_annotations(self.root, "valid")

    def test_missing_field_and_bad_values(self):
        bad = _entry("000001.jpg", 6)
        del bad["scale"]
        self._write("train", [bad])
        with self.assertRaisesRegex(DatasetError, "train.json.*entry 0.*scale"):
            mpii.read_annotations(self.root, "train")
        bad = _entry("000001.jpg", 6, scale=-1.0)
        self._write("train", [bad])
        with self.assertRaisesRegex(DatasetError, "train.json.*positive"):
            mpii.read_annotations(self.root, "train")
        self._write("train", {"not": "a list"})
        with self.assertRaisesRegex(DatasetError, "train.json.*list"):
            mpii.read_annotations(self.root, "train")

    def test_missing_image_names_image(self):
        self._write("train", [_entry("000001.jpg", 7), _entry("missing.jpg", 8)])
        with self.assertRaisesRegex(DatasetError, "images/missing.jpg.*train.json.*entry 1"):
            mpii.read_annotations(self.root, "train")

    def test_missing_annotation_file(self):
        os.remove(os.path.join(self.root, "annot", "valid.json"))
        with self.assertRaisesRegex(DatasetError, "annot/valid.json"):
            mpii.read_annotations(self.root, "valid")


if __name__ == "__main__":
    tf.test.main()
