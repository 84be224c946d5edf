"""Heatmap encoding and the one keypoint decoding rule."""
import numpy as np
import tensorflow as tf

from dkd_tf.core import codec


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
        xy, conf = codec.decode_heatmaps(hm, 8, "argmax_quarter_offset")
        self.assertAllClose(xy[0, 0], [(2.25 + 0.5) * 8 - 0.5, (0.75 + 0.5) * 8 - 0.5])
        self.assertAllClose(conf[0, 0], 1.0)

    def test_log_parabola_recovers_gaussian_centres_exactly(self):
        rng = np.random.default_rng(1)
        pts = rng.uniform(12, 116, size=(13, 2)).astype("float32")
        for sigma in (1.0, 1.5, 2.0):
            maps = codec.encode_heatmaps(pts, tf.ones([13]), 16, 16, 8, sigma).numpy()
            xy, _ = codec.decode_heatmaps(maps, 8)  # the default rule
            self.assertAllClose(xy, pts, atol=1e-3)
            quarter, _ = codec.decode_heatmaps(maps, 8, "argmax_quarter_offset")
            self.assertGreater(np.abs(quarter - pts).max(), 0.5)  # the old rule could not

    def test_log_parabola_rule_golden(self):
        hm = np.zeros((1, 4, 4, 2), np.float32)
        hm[0, 1, 2, 0], hm[0, 1, 1, 0], hm[0, 1, 3, 0] = 1.0, np.exp(-2.0), np.exp(-0.5)
        hm[0, 0, 2, 0], hm[0, 2, 2, 0] = 0.0, 0.5  # upper neighbour floored at 0.01 * peak
        hm[0, 0, 3, 1] = -0.5  # channel 1: no positive peak anywhere -> no shift
        hm[..., 1] -= 1.0
        xy, conf = codec.decode_heatmaps(hm, 8)
        a, b = 2.0, 0.5  # ln c - ln l, ln c - ln r
        ay, by = -np.log(0.01), np.log(2.0)
        x_cell = 2 + 0.5 * (a - b) / (a + b)
        y_cell = 1 + 0.5 * (ay - by) / (ay + by)
        self.assertAllClose(xy[0, 0], [(x_cell + 0.5) * 8 - 0.5, (y_cell + 0.5) * 8 - 0.5])
        self.assertAllClose(xy[0, 1], [(0 + 0.5) * 8 - 0.5, (0 + 0.5) * 8 - 0.5])
        self.assertAllClose(conf[0], [1.0, -1.0])

    def test_smoothed_rule_recovers_gaussian_centres_and_reads_the_raw_peak(self):
        # A Gaussian smoothed by a Gaussian is a Gaussian with the same centre: exact too.
        # (Away from the border: within SMOOTH_RADIUS cells of it the repeated edge cells pull
        # the smoothed peak.)
        rng = np.random.default_rng(2)
        pts = rng.uniform(68, 188, size=(13, 2)).astype("float32")
        rule = "argmax_smoothed_log_parabola"
        for sigma in (1.0, 2.0):
            maps = codec.encode_heatmaps(pts, tf.ones([13]), 32, 32, 8, sigma).numpy()
            xy, conf = codec.decode_heatmaps(maps, 8, rule)
            self.assertAllClose(xy, pts, atol=2e-3)
            self.assertAllEqual(conf, codec.decode_heatmaps(maps, 8)[1])  # the unsmoothed peak
        self.assertAllClose(codec.smoothing_taps().sum(), 1.0)
        self.assertLen(codec.smoothing_taps(), 2 * codec.SMOOTH_RADIUS + 1)
        # On the border no shift, as the other rules; the smoothing repeats the edge cells.
        edge = np.zeros((1, 6, 6, 1), np.float32)
        edge[0, 0, 3, 0], edge[0, 0, 4, 0] = 1.0, 0.6
        xy, _ = codec.decode_heatmaps(edge, 8, rule)
        self.assertAllClose(codec.pixel_to_cell(xy[0, 0, 1], 8), 0.0)
        self.assertGreater(codec.pixel_to_cell(xy[0, 0, 0], 8), 3.0)

    def test_smoothed_rule_steadies_a_coarse_map_resized_up(self):
        # The real-world stepper's heatmaps: a 16 x 16 map resized (bilinear) to a 32 x 32 grid.
        # A peak moving at constant speed: the three-sample step on the resized map is off by up
        # to 0.15 cell and its position jerks; on the smoothed map it follows the peak.
        import cv2
        ys, xs = np.mgrid[0:16, 0:16]
        found = {}
        truth = (6.0 + 0.025 * np.arange(40) + 0.5) * 2 - 0.5  # in the 32 x 32 grid's cells
        for rule in ("argmax_log_parabola", "argmax_smoothed_log_parabola"):
            xs_found = []
            for cx in 6.0 + 0.025 * np.arange(40):
                coarse = np.exp(-((xs - cx) ** 2 + (ys - 7.3) ** 2) / (2 * 0.8 ** 2))
                fine = cv2.resize(coarse.astype(np.float32), (32, 32),
                                  interpolation=cv2.INTER_LINEAR)[..., None]
                xy, _ = codec.decode_heatmaps(fine, 8, rule)
                xs_found.append(codec.pixel_to_cell(xy[0, 0], 8))
            found[rule] = np.array(xs_found)
        plain, smooth = found["argmax_log_parabola"], found["argmax_smoothed_log_parabola"]
        self.assertGreater(np.abs(plain - truth).max(), 0.1)
        self.assertLess(np.abs(smooth - truth).max(), 0.02)
        self.assertLess(np.abs(np.diff(smooth, 2)).max(), 0.2 * np.abs(np.diff(plain, 2)).max())

    def test_unknown_rule_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown decoding rule"):
            codec.decode_heatmaps(np.zeros((4, 4, 1)), 8, "soft_argmax")

    def test_decode_near_takes_the_peak_that_continues_the_track(self):
        # Joint 0: a weak peak at the prior (the person), a stronger one 40 px away (someone
        # walking past); joint 1 has no prior (not confident last frame): the plain argmax.
        pts = np.array([[27.5, 27.5], [67.5, 27.5], [67.5, 27.5]], np.float32)
        maps = codec.encode_heatmaps(pts, tf.ones([3]), 12, 12, 8, 1.0).numpy()
        hm = np.stack([0.6 * maps[..., 0] + maps[..., 1], maps[..., 2]], -1)
        prior = np.array([[29.0, 26.0], [20.0, 20.0]], np.float32)
        for rule in codec.DECODING_RULES:
            xy, conf = codec.decode_near(hm, 8, rule, prior, [True, False], sigma=10.0)
            plain, plain_conf = codec.decode_heatmaps(hm, 8, rule)
            # the near, weaker one (the smoothed rule's step leans a third of a cell towards the
            # stronger peak 5 cells away, whose tail the smoothing brings in)
            self.assertLessEqual(np.abs(xy[0] - pts[0]).max(), 4.0, rule)
            self.assertAllClose(conf[0], hm[3, 3, 0])                # its unweighted value
            self.assertLessEqual(np.abs(plain[0] - pts[1]).max(), 2.0)  # argmax: the other
            self.assertAllEqual(xy[1], plain[1])                    # no prior: the argmax
            self.assertAllEqual(conf[1], plain_conf[1])
        # A wide prior is no prior; no joint with a prior is decode_heatmaps exactly.
        wide, _ = codec.decode_near(hm, 8, codec.DEFAULT_DECODING, prior, [True, True], 1e4)
        self.assertAllEqual(wide, codec.decode_heatmaps(hm, 8)[0])
        none = codec.decode_near(hm, 8, codec.DEFAULT_DECODING, prior, [False, False], 10.0)
        self.assertAllEqual(none[0], codec.decode_heatmaps(hm, 8)[0])
        # The refinement of a cell that is no local maximum stays within half a cell.
        ramp = np.tile(np.linspace(0.1, 1.0, 12, dtype=np.float32)[None, :, None], (12, 1, 1))
        xy, _ = codec.decode_near(ramp, 8, codec.DEFAULT_DECODING, [[43.5, 43.5]], [True], 4.0)
        self.assertLessEqual(abs(codec.pixel_to_cell(xy[0, 0], 8) - 5.0), 0.5)
        with self.assertRaisesRegex(ValueError, "unknown decoding rule"):
            codec.decode_near(hm, 8, "nearest", prior, [True, True], 10.0)
