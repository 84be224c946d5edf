"""Situation tags of the synthetic set: frames unchanged, written, read, recomputed, by hand."""
import hashlib
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import tensorflow as tf

from dkd_tf.data import penn_action, tags as tags_lib
from dkd_tf.data import synthetic
from dkd_tf.data.records import DatasetError

J = {n: i for i, n in enumerate(tags_lib.JOINT_SET.names)}
# sha256 of the frames + joints + visibility + bboxes render_video gave before tags existed.
PINNED = {(1, 2, 6, 96, 128): "5727b4b05e35faa548c07090a43a45e12da2974158035d213a0aee49d1d4d677",
          (5, 3, 12, 64, 80): "6770232e5076ac43fddf11211c9c0bad83e391e837733a67325453ea00d01aab"}
REFERENCE_SET = "/work/refrun/runs/reference/data"  # seed 0, 256 videos x 40 frames, if present


def _digest(v):
    h = hashlib.sha256()
    for f in v["frames"]:
        h.update(f.tobytes())
    for k in ("joints", "visibility", "bboxes"):
        h.update(v[k].tobytes())
    return h.hexdigest()


class DeterminismTest(tf.test.TestCase):

    def test_frames_and_labels_are_those_of_before_the_tags(self):
        for (seed, i, t, h, w), digest in PINNED.items():
            v = synthetic.render_video(synthetic.video_rng(seed, i), t, h, w)
            self.assertEqual(_digest(v), digest, (seed, i))
            self.assertIsInstance(v["tags"], tags_lib.VideoTags)

    def test_reference_set_on_disk_is_reproduced_byte_for_byte(self):
        if not os.path.isdir(os.path.join(REFERENCE_SET, "labels")):
            self.skipTest(f"{REFERENCE_SET} not here")
        rec = penn_action.read_video(REFERENCE_SET, "0002")
        v = synthetic.render_video(synthetic.video_rng(0, 1), rec.num_frames, *rec.image_size)
        np.testing.assert_array_equal(rec.joints, v["joints"])
        for t in (0, rec.num_frames - 1):
            ok, data = cv2.imencode(".jpg", cv2.cvtColor(v["frames"][t], cv2.COLOR_RGB2BGR),
                                    [cv2.IMWRITE_JPEG_QUALITY, 90])
            with open(rec.frame_paths[t], "rb") as f:
                self.assertEqual(bytes(data), f.read())


class WriteReadTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "syn")
        if not os.path.isdir(self.root):
            synthetic.generate(self.root, 3, 6, seed=2, height=64, width=80)

    def test_generate_writes_tags_the_reader_loads(self):
        self.assertEqual(sorted(os.listdir(os.path.join(self.root, "tags"))),
                         ["0001.json", "0002.json", "0003.json"])
        records = penn_action.read_split(self.root, "all")  # the tags dir is ignored
        self.assertLen(records, 3)
        for i, rec in enumerate(records):
            vt = tags_lib.read_tags(self.root, rec.video_id, rec.num_frames)
            ref = synthetic.render_video(synthetic.video_rng(2, i), 6, 64, 80)
            self.assertEqual(vt.video_id, rec.video_id)
            self.assertEqual(vt.distractor_in_front, ref["meta"]["distractor_in_front"])
            np.testing.assert_array_equal(vt.frame["blurred"], ref["meta"]["blurred"])
            np.testing.assert_array_equal(vt.joint["occluded"], ref["tags"].joint["occluded"])
            # An occluded joint is never visible; tags only add what the labels cannot say.
            self.assertFalse(np.any(vt.joint["occluded"] & (rec.visibility > 0)))
            masks = vt.masks()
            self.assertEqual(list(masks), list(tags_lib.TAG_NAMES) + ["clean"])
            tagged = np.any(np.stack([masks[t] for t in tags_lib.TAG_NAMES]), axis=0)
            np.testing.assert_array_equal(masks["clean"], ~tagged)
            # Overlap = the subject's label box meets the distractor joints' box.
            d = ref["meta"]["distractor_joints"]
            for t in range(6):
                lo, hi = d[t].min(0), d[t].max(0)
                m = 0.1 * (hi - lo)
                box = np.clip(np.r_[lo - m, hi + m], 0, [79, 63, 79, 63])
                self.assertEqual(vt.frame["distractor_overlap"][t],
                                 tags_lib.boxes_overlap(rec.bboxes[t], box))

    def test_reader_errors_name_the_file(self):
        path = tags_lib.tag_path(self.root, "0002")
        with open(path) as f:
            good = f.read()
        try:
            with self.assertRaisesRegex(DatasetError, "0002.json: tags are for 6 frames, the "
                                                      "labels have 5"):
                tags_lib.read_tags(self.root, "0002", 5)
            with open(path, "w") as f:
                f.write(good[:40])
            with self.assertRaisesRegex(DatasetError, "0002.json: corrupt tags file"):
                tags_lib.read_tags(self.root, "0002")
            doc = json.loads(good)
            doc["joint"]["occluded"] = doc["joint"]["occluded"][:3]
            with open(path, "w") as f:
                json.dump(doc, f)
            with self.assertRaisesRegex(DatasetError, r"joint tag 'occluded' has shape "
                                                      r"\(3, 13\), expected \(6, 13\)"):
                tags_lib.read_tags(self.root, "0002")
            os.remove(path)
            with self.assertRaisesRegex(DatasetError, "0002.json: tags file is missing.*"
                                                      "--tags_only"):
                tags_lib.read_tags(self.root, "0002")
        finally:
            with open(path, "w") as f:
                f.write(good)

    def test_tags_only_recomputes_tags_without_touching_frames(self):
        tag_dir = os.path.join(self.root, "tags")
        before = {n: open(os.path.join(tag_dir, n)).read() for n in os.listdir(tag_dir)}
        frame = penn_action.read_video(self.root, "0003").frame_paths[-1]
        stat = os.stat(frame)
        for n in before:
            os.remove(os.path.join(tag_dir, n))
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.make_synthetic", "--out",
                               self.root, "--seed", "2", "--tags_only"], capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("wrote tags of 3 videos", proc.stdout)
        self.assertIn("byte-identical in 3/3", proc.stdout)
        after = {n: open(os.path.join(tag_dir, n)).read() for n in os.listdir(tag_dir)}
        self.assertEqual(after, before)
        self.assertEqual(os.stat(frame).st_mtime_ns, stat.st_mtime_ns)
        # Another seed does not match the labels: one error line naming the label file.
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.make_synthetic", "--out",
                               self.root, "--seed", "3", "--tags_only"], capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr.strip(), r"^error: .*labels/0001.mat: joints differ from "
                                              r"video 0001 of seed 3")


class HandMadeTest(tf.test.TestCase):

    def _pose(self):
        """A person facing the camera: left joints at larger x; arms down, legs apart."""
        p = np.zeros((13, 2))
        for side, sg in (("l", 1), ("r", -1)):
            p[J[f"{side}_shoulder"]] = (50 + 10 * sg, 30)
            p[J[f"{side}_elbow"]] = (50 + 14 * sg, 45)
            p[J[f"{side}_wrist"]] = (50 + 16 * sg, 60)
            p[J[f"{side}_hip"]] = (50 + 6 * sg, 60)
            p[J[f"{side}_knee"]] = (50 + 8 * sg, 75)
            p[J[f"{side}_ankle"]] = (50 + 9 * sg, 90)
        p[J["head"]] = (50, 15)
        return p

    def test_limbs_crossing(self):
        a = self._pose()
        b = a.copy()  # frame 1: left forearm swings across to the right (crosses, x order flips)
        b[J["l_wrist"]] = (30, 52)
        c = b.copy()  # frame 2: same; frame 3: back
        out = tags_lib.limbs_crossing(np.stack([a, b, c, a]))
        arms = [J[n] for n in ("l_elbow", "l_wrist", "r_elbow", "r_wrist")]
        expected = np.zeros((4, 13), bool)
        expected[1:3, arms] = True  # the forearms cross in frames 1 and 2
        expected[0:4, [J["l_wrist"], J["r_wrist"]]] = True  # x order flips 0->1 and 2->3
        np.testing.assert_array_equal(out, expected)
        self.assertFalse(tags_lib.limbs_crossing(np.stack([a, a])).any())

    def test_geometry_and_after_occlusion(self):
        self.assertTrue(tags_lib.segments_cross((0, 0), (2, 2), (0, 2), (2, 0)))
        self.assertFalse(tags_lib.segments_cross((0, 0), (1, 1), (1, 1), (2, 0)))  # touching
        self.assertTrue(tags_lib.boxes_overlap((0, 0, 2, 2), (1, 1, 3, 3)))
        self.assertFalse(tags_lib.boxes_overlap((0, 0, 2, 2), (2, 0, 3, 2)))  # edge only
        occ = np.zeros((9, 2), bool)
        occ[1:3, 0] = True
        after = tags_lib.after_occlusion(occ, frames=3)
        np.testing.assert_array_equal(np.flatnonzero(after[:, 0]), [3, 4, 5])
        self.assertFalse(after[:, 1].any())


if __name__ == "__main__":
    tf.test.main()
