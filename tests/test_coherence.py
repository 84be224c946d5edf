"""Temporal coherence measures and per-tag PCK on small cases computed by hand."""
import numpy as np
import tensorflow as tf

from dkd_tf.evaluation import coherence, metrics, tag_scores
from dkd_tf.core import joints as joints_lib
from dkd_tf.data import tags as tags_lib

PENN = joints_lib.PENN_ACTION
LW, RW = PENN.index("l_wrist"), PENN.index("r_wrist")


def _clip(t=4, size=100.0):
    """A static person: joint k at (10 k, 50), boxes of person size `size`."""
    gt = np.zeros((t, 13, 2))
    gt[..., 0] = 10.0 * np.arange(13)
    gt[..., 1] = 50.0
    boxes = np.tile([0.0, 0.0, size, size / 2], (t, 1))
    return gt, np.ones((t, 13)), boxes


class AccelerationTest(tf.test.TestCase):

    def test_jitter_and_frozen_pose(self):
        gt, vis, boxes = _clip(4)
        pred = gt.copy()
        pred[2, 0, 0] += 10.0  # one 10 px blip on the head at frame 2
        err = coherence.acceleration_errors(pred, gt, vis, boxes)
        # Middle frames 1, 2 x 13 joints; the head's second differences: +10 at t=1, -20 at t=2.
        self.assertLen(err, 26)
        self.assertAllClose(sorted(err)[-2:], [0.1, 0.2])
        self.assertAllClose(err.sum(), 0.3)
        # A frozen pose on a moving truth: |a_gt| itself (truth accelerates 2 px/frame^2).
        moving = gt.copy()
        moving[..., 0] += np.array([0, 1, 4, 9])[:, None]
        frozen = np.repeat(moving[:1], 4, axis=0)
        self.assertAllClose(coherence.acceleration_errors(frozen, moving, vis, boxes),
                            np.full(26, 0.02))
        self.assertAllClose(coherence.acceleration_errors(moving, moving, vis, boxes),
                            np.zeros(26))
        # Only joints visible in all three frames count.
        vis[3, 0] = 0
        self.assertLen(coherence.acceleration_errors(pred, gt, vis, boxes), 25)


class LeftRightTest(tf.test.TestCase):

    def test_swaps_and_collapse(self):
        gt, vis, boxes = _clip(4)  # wrists 10 px apart = 0.1 person sizes: not "> 0.1 apart"
        gt[:, RW, 0] = gt[:, LW, 0] + 30.0  # now 0.3 apart
        pred = gt.copy()
        pred[1, [LW, RW]] = gt[1, [RW, LW]]  # frame 1: wrists exchanged
        pred[3, RW] = pred[3, LW] + [3.0, 0.0]  # frame 3: both on the left wrist (0.03 apart)
        sw = coherence.swapped(pred, gt, PENN.flip_pairs)
        wrist_pair = PENN.flip_pairs.index((LW, RW))
        self.assertEqual(sw[:, wrist_pair].tolist(), [False, True, False, False])
        self.assertFalse(np.delete(sw, wrist_pair, axis=1).any())
        c = coherence.video_counts(pred, gt, vis, boxes, PENN.flip_pairs)
        self.assertEqual(c["swap_events"], 2)  # 0->1 and 1->2
        self.assertEqual(c["swap_transitions"], 3 * 6)
        self.assertEqual((c["swapped"], c["pair_frames"]), (1, 4 * 6))
        # Other pairs are 10 px = 0.1 apart in truth: only the wrists are "far"; frame 3 collapses.
        self.assertEqual((c["collapse_pairs"], c["collapse_pairs_n"]), (1, 4))
        self.assertEqual((c["collapse_frames"], c["collapse_frames_n"]), (1, 4))
        acc = coherence.CoherenceAccumulator(PENN)
        acc.add(pred, gt, vis, boxes)
        acc.add(gt, gt, vis, boxes)
        r = acc.result()
        self.assertAllClose([r["lr_swap_rate"], r["lr_swapped"], r["lr_collapse_frames"]],
                            [2 / 36, 1 / 48, 1 / 8])
        # Hidden joints take their pair out.
        vis[1, LW] = 0
        c = coherence.video_counts(pred, gt, vis, boxes, PENN.flip_pairs)
        self.assertEqual((c["swap_events"], c["swap_transitions"]), (0, 16))
        table = coherence.format_table({"M": acc.to_json()})
        self.assertIn("M", table.splitlines()[-1])


class ByTagTest(tf.test.TestCase):

    def _tags(self, t, overlap, front, crossing=None):
        k = 13
        return tags_lib.VideoTags(
            "0001", front, {"distractor_overlap": np.array(overlap, bool),
                            "blurred": np.zeros(t, bool), "fast_camera": np.zeros(t, bool)},
            {"camera_change": np.zeros(t)},
            {"occluded": np.zeros((t, k), bool),
             "limbs_crossing": np.zeros((t, k), bool) if crossing is None else crossing})

    def test_pck_on_tagged_frames_and_joints(self):
        gt, vis, boxes = _clip(4)
        a = metrics.PCKAccumulator(PENN)
        b = metrics.PCKAccumulator(PENN)
        pred = gt.copy()
        pred[2:, :6] += 100.0  # frames 2, 3: the first 6 joints miss
        a.add(gt, gt, vis, boxes)   # video 1: a perfect
        b.add(pred, gt, vis, boxes)  # video 1: b misses
        a.add(gt, gt, vis, boxes)   # video 2: both perfect
        b.add(gt, gt, vis, boxes)
        cross = np.zeros((4, 13), bool)
        cross[3, [0, 12]] = True  # one missed joint (0) and one hit (12) in frame 3
        video_tags = [self._tags(4, [0, 0, 1, 1], True, cross), self._tags(4, [0] * 4, False)]
        res = tag_scores.score_by_tag({"A": a, "B": b}, video_tags, samples=20)
        front = res["B"]["distractor_front"]
        self.assertEqual((front["frames"], front["instances"]), (2, 26))
        self.assertAllClose(front["person"], 100.0 * 7 / 13)  # 6 of 13 joints always miss
        self.assertAllClose(res["A"]["distractor_front"]["person"], 100.0)
        self.assertAllClose(res["B"]["limbs_crossing"]["person"], 50.0)  # joints 0 and 12
        self.assertEqual(res["B"]["limbs_crossing"]["instances"], 2)
        self.assertIsNone(res["B"]["distractor_behind"]["person"])  # no such frame
        clean = res["B"]["clean"]
        self.assertEqual((clean["frames"], clean["instances"]), (6, 6 * 13))
        self.assertAllClose(clean["person"], 100.0)
        vs = res["A"]["distractor_front"]["minus"]
        self.assertEqual(list(vs), ["B"])
        self.assertAllClose(vs["B"]["person"]["difference"], 100.0 * 6 / 13)  # A - B
        self.assertNotIn("minus", res["B"]["clean"])
        # Asked for the other way round (the ablation table's row - Baseline), the sign flips.
        flipped = tag_scores.score_by_tag({"A": a, "B": b}, video_tags, samples=20,
                                          pairs=[("B", "A")])
        self.assertAllClose(flipped["B"]["distractor_front"]["minus"]["A"]["person"]["difference"],
                            -100.0 * 6 / 13)
        self.assertNotIn("minus", flipped["A"]["clean"])
        self.assertIn("B - A (95 % interval)", tag_scores.format_table(flipped))
        table = tag_scores.format_table(res)
        self.assertIn("distractor_front", table)
        row = [l for l in table.splitlines() if l.startswith("distractor_front")][0]
        self.assertEqual(row.split()[1:5], ["2", "26", "100.0", "53.8"])

    def test_restricted_needs_one_mask_per_video(self):
        gt, vis, boxes = _clip(2)
        a = metrics.PCKAccumulator(PENN)
        a.add(gt, gt, vis, boxes)
        with self.assertRaisesRegex(ValueError, "one mask per video"):
            a.restricted([])
        only_head = np.zeros((2, 13), bool)
        only_head[:, 0] = True
        self.assertEqual(a.restricted([only_head]).result()["counts"]["head"], 2)
        self.assertEqual(a.restricted([only_head]).result()["counts"]["l_wrist"], 0)


if __name__ == "__main__":
    tf.test.main()
