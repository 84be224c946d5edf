"""Heatmap encoding and the one keypoint decoding rule."""
import numpy as np
import tensorflow as tf

from dkd_tf import codec


class CodecTest(tf.test.TestCase):

    def test_encode_peaks_at_joint_cell(self):
        joints = tf.constant([[19.5, 35.5], [3.5, 3.5]])  # cell centres of (2, 4) and (0, 0)
        maps = codec.encode_heatmaps(joints, tf.constant([1.0, 0.0]), 8, 8, 8, 1.0).numpy()
        self.assertEqual(maps.shape, (8, 8, 2))
        self.assertEqual(np.unravel_index(maps[..., 0].argmax(), (8, 8)), (4, 2))
        self.assertAllClose(maps[4, 2, 0], 1.0)
        self.assertAllEqual(maps[..., 1], np.zeros((8, 8)))  # weight 0: no target

    def test_decode_inverts_encode_within_a_quarter_cell(self):
        rng = np.random.default_rng(0)
        pts = rng.uniform(12, 52, size=(5, 2)).astype("float32")
        maps = codec.encode_heatmaps(pts, tf.ones([5]), 8, 8, 8, 1.0).numpy()
        xy, conf = codec.decode_heatmaps(maps, 8)
        self.assertLessEqual(np.abs(xy - pts).max(), 8 * 0.5)
        self.assertTrue(np.all(conf > 0.5))

    def test_quarter_offset_rule_golden(self):
        hm = np.zeros((1, 4, 4, 1), np.float32)
        hm[0, 1, 2, 0] = 1.0
        hm[0, 1, 3, 0] = 0.5  # right neighbour larger: +0.25 cell in x
        hm[0, 0, 2, 0] = 0.2  # upper neighbour larger: -0.25 cell in y
        xy, conf = codec.decode_heatmaps(hm, 8)
        self.assertAllClose(xy[0, 0], [(2.25 + 0.5) * 8 - 0.5, (0.75 + 0.5) * 8 - 0.5])
        self.assertAllClose(conf[0, 0], 1.0)
