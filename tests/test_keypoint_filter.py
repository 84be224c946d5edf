"""The One Euro filter of the streamed keypoints (dkd_tf.tracking.keypoint_filter)."""
import numpy as np
import tensorflow as tf

from dkd_tf.tracking import keypoint_filter


def _acceleration(track):
    return float(np.median(np.linalg.norm(track[2:] - 2 * track[1:-1] + track[:-2], axis=-1)))


class OneEuroFilterTest(tf.test.TestCase):

    def test_still_keypoints_pass_unchanged(self):
        f = keypoint_filter.OneEuroFilter()
        still = np.array([[10.0, 20.0], [30.5, 40.25]], np.float32)
        for _ in range(5):
            np.testing.assert_allclose(f(still, 100.0), still, atol=1e-5)

    def test_shake_of_a_resting_joint_is_damped(self):
        rng = np.random.default_rng(0)
        raw = 50.0 + rng.normal(0.0, 1.0, (200, 3, 2))
        f = keypoint_filter.OneEuroFilter()
        out = np.stack([f(k, 100.0) for k in raw])
        self.assertLess(_acceleration(out), 0.5 * _acceleration(raw))  # 0.34 x
        self.assertLess(np.abs(out[50:].mean((0, 1)) - 50.0).max(), 0.5)  # no drift

    def test_a_fast_joint_lags_far_less_than_with_a_fixed_cutoff(self):
        size = 100.0
        ramp = np.stack([[[20.0 * t, 0.0]] for t in range(40)])  # 0.2 person sizes a frame
        lag = {}
        for beta in (0.0, keypoint_filter.DEFAULT_BETA):
            f = keypoint_filter.OneEuroFilter(beta=beta)
            out = np.stack([f(k, size) for k in ramp])
            lag[beta] = float(ramp[-1, 0, 0] - out[-1, 0, 0])
        self.assertGreater(lag[0.0], 25.0)  # a 0.1-cycle low-pass trails by over a step (32)
        self.assertLess(lag[keypoint_filter.DEFAULT_BETA], 0.2 * lag[0.0])  # 3.1 px

    def test_speed_is_measured_in_person_sizes(self):
        ramp = np.stack([[[2.0 * t, 0.0]] for t in range(30)])
        outs = []
        for scale in (1.0, 10.0):  # the same motion, ten times larger, ten times larger person
            f = keypoint_filter.OneEuroFilter()
            outs.append(np.stack([f(k * scale, 50.0 * scale) for k in ramp]) / scale)
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-4)

    def test_reset_forgets_the_past(self):
        f = keypoint_filter.OneEuroFilter()
        f(np.zeros((1, 2)), 100.0)
        self.assertNotAllClose(f(np.full((1, 2), 80.0), 100.0), [[80.0, 80.0]])
        f.reset()
        self.assertAllClose(f(np.full((1, 2), -5.0), 100.0), [[-5.0, -5.0]])

    def test_settings(self):
        for bad in ({"min_cutoff": 0.0}, {"min_cutoff": float("nan")}, {"beta": -1.0},
                    {"d_cutoff": -0.5}):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                keypoint_filter.OneEuroFilter(**bad)
        self.assertIsNone(keypoint_filter.make(None))
        made = keypoint_filter.make({"min_cutoff": 0.2, "beta": 1.0})
        self.assertEqual(made.describe(), {"filter": "one_euro", "min_cutoff": 0.2, "beta": 1.0,
                                           "d_cutoff": keypoint_filter.DEFAULT_D_CUTOFF})


if __name__ == "__main__":
    tf.test.main()
