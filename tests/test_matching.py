"""The batch-to-channel dynamic depthwise convolution against a per-sample loop."""
import numpy as np
import tensorflow as tf

from dkd_tf.models.matching import PoseKernelMatching, dynamic_depthwise_conv


def per_sample(features, kernels):
    return tf.concat([tf.nn.depthwise_conv2d(features[i:i + 1], kernels[i][..., None],
                                             [1, 1, 1, 1], "SAME")
                      for i in range(features.shape[0])], axis=0)


class DynamicDepthwiseConvTest(tf.test.TestCase):

    def test_values_and_gradients_match_loop(self):
        rng = np.random.default_rng(0)
        for batch in (1, 2, 4):
            f = tf.constant(rng.normal(size=(batch, 9, 11, 5)), tf.float32)
            k = tf.constant(rng.normal(size=(batch, 3, 3, 5)), tf.float32)
            w = tf.constant(rng.normal(size=(batch, 9, 11, 5)), tf.float32)  # loss weights
            with tf.GradientTape(persistent=True) as tape:
                tape.watch([f, k])
                fast = dynamic_depthwise_conv(f, k)
                slow = per_sample(f, k)
                lf, ls = tf.reduce_sum(fast * w), tf.reduce_sum(slow * w)
            self.assertAllClose(fast, slow, atol=1e-5)
            for var in (f, k):
                self.assertAllClose(tape.gradient(lf, var), tape.gradient(ls, var), atol=1e-4)

    def test_kernels_are_per_sample(self):
        f = tf.ones([2, 5, 5, 1])
        k = tf.stack([tf.ones([3, 3, 1]), 2 * tf.ones([3, 3, 1])])
        out = dynamic_depthwise_conv(f, k)
        self.assertAllClose(out[0, 2, 2, 0], 9.0)
        self.assertAllClose(out[1, 2, 2, 0], 18.0)

    def test_matching_head_shapes_and_config(self):
        layer = PoseKernelMatching(num_joints=4, channels=6)
        out = layer([tf.zeros([2, 8, 8, 10]), tf.zeros([2, 3, 3, 6])])
        self.assertEqual(out.shape, (2, 8, 8, 4))
        clone = PoseKernelMatching.from_config(layer.get_config())
        self.assertEqual((clone.num_joints, clone.channels), (4, 6))

    def test_residual_matching_adds_a_centred_unit_tap(self):
        # k' + delta: residual matching with kernels k equals plain matching with k + delta.
        rng = np.random.default_rng(0)
        feats = tf.constant(rng.normal(size=(2, 8, 8, 10)), tf.float32)
        kernels = rng.normal(size=(2, 3, 3, 6)).astype("float32")
        residual = PoseKernelMatching(num_joints=4, channels=6, residual=True)
        residual([feats, tf.constant(kernels)])
        plain = PoseKernelMatching(num_joints=4, channels=6)
        plain([feats, tf.constant(kernels)])
        plain.set_weights(residual.get_weights())
        delta = kernels.copy()
        delta[:, 1, 1, :] += 1.0
        self.assertAllClose(residual([feats, tf.constant(kernels)]),
                            plain([feats, tf.constant(delta)]), atol=1e-5)
        self.assertNotAllClose(plain([feats, tf.constant(kernels)]),
                               plain([feats, tf.constant(delta)]))
        clone = PoseKernelMatching.from_config(residual.get_config())
        self.assertTrue(clone.residual)
        config = plain.get_config()
        del config["residual"]  # saved before the option existed: plain matching
        self.assertFalse(PoseKernelMatching.from_config(config).residual)
