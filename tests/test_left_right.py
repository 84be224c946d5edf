"""Left/right identity diagnostics on hand-made heatmaps."""
import numpy as np
import tensorflow as tf

from dkd_tf.core import codec
from dkd_tf.evaluation import left_right


def _bump(h, w, cx, cy, amp=1.0):
    ys, xs = np.mgrid[0:h, 0:w]
    return amp * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / 2.0)


class PairCellsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        # One pair (channels 0, 1) whose two limbs sit at cells (3, 4) and (10, 5); both
        # channels see both limbs, channel 0 slightly more of the one at (10, 5).
        a = _bump(16, 16, 3, 4) + _bump(16, 16, 10, 5, 1.1)
        b = _bump(16, 16, 3, 4) + _bump(16, 16, 10, 5, 1.05)
        self.hm = np.stack([a, b], axis=-1).astype(np.float32)
        self.pairs = ((0, 1),)

    def test_argmax_collapses_both_joints_onto_one_limb(self):
        xy, _ = codec.decode_heatmaps(self.hm, 8)
        cells = codec.pixel_to_cell(xy, 8)
        self.assertAllClose(cells[0], cells[1], atol=0.2)

    def test_two_peaks_assigns_by_the_heatmaps_own_evidence(self):
        # h0(10,5) + h1(3,4) = 1.1 + 1 > h0(3,4) + h1(10,5) = 1 + 1.05: channel 0 gets (10, 5).
        cells = left_right.pair_cells(self.hm, self.pairs, 8)
        self.assertAllClose(cells[0], [10, 5], atol=0.05)
        self.assertAllClose(cells[1], [3, 4], atol=0.05)

    def test_identity_known_follows_the_ground_truth(self):
        gt = np.array([[3.2, 4.1], [9.8, 5.0]])
        cells = left_right.pair_cells(self.hm, self.pairs, 8, gt_cells=gt)
        self.assertAllClose(cells[0], [3, 4], atol=0.05)
        self.assertAllClose(cells[1], [10, 5], atol=0.05)

    def test_one_bump_keeps_the_per_channel_argmax(self):
        one = np.stack([_bump(16, 16, 6, 6), _bump(16, 16, 6, 6)], -1).astype(np.float32)
        self.assertIsNone(left_right.two_peaks(one[..., 0], one[..., 1]))
        cells = left_right.pair_cells(one, self.pairs, 8)
        self.assertAllClose(cells, [[6, 6], [6, 6]], atol=0.05)

    def test_weak_second_bump_is_not_a_second_limb(self):
        weak = _bump(16, 16, 3, 4) + _bump(16, 16, 12, 12, 0.2)
        self.assertIsNone(left_right.two_peaks(weak, weak))
        strong = _bump(16, 16, 3, 4) + _bump(16, 16, 12, 12, 0.5)
        self.assertEqual(left_right.two_peaks(strong, strong), ((4, 3), (12, 12)))


if __name__ == "__main__":
    tf.test.main()


class IdentityReportTest(tf.test.TestCase):

    def test_identity_known_is_never_below_two_peaks_and_counts_every_frame(self):
        import os

        from dkd_tf.evaluation import protocol
        from dkd_tf.training import trainer
        from dkd_tf.data import datasets
        from tests.helpers import make_model_dir, tiny_synthetic
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn"), videos=4, frames=5)  # 1 test video
        model_dir = make_model_dir(os.path.join(tmp, "m"), data_dir=data, calibrate=True)
        cfg = trainer.TrainConfig.load(model_dir)
        joint_set, records = datasets.load(cfg, "test")
        predictor = protocol.StreamingPredictor(protocol.load_model(model_dir),
                                                  cfg.input_size, joint_set)
        report = left_right.identity_report(predictor, records, joint_set)
        frames = sum(r.num_frames for r in records)
        for acc in report.accumulators.values():
            self.assertEqual(acc.num_frames, frames)
        # The argmax row is exactly what evaluate scores.
        plain, _ = protocol.evaluate_records(predictor.model, records, cfg.input_size,
                                               joint_set)
        self.assertAllClose(report.accumulators["argmax"].result(0.2, "person")["mean"],
                            plain.result(0.2, "person")["mean"])
        known = report.accumulators["identity_known"].result(0.2, "person")["mean"]
        self.assertGreaterEqual(known + 1e-9, report.accumulators["two_peaks"].result(
            0.2, "person")["mean"])
        self.assertIn("identity_known", left_right.format_report("m", report))
