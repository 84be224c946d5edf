"""dkd_tf.serving.rewrites: Conv2DTranspose + BN as 2x2 conv + depth-to-space keeps the math (layer, pose
net, exported TFLite files), is the exporters' default, is recorded in the manifest and can be
turned off."""
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from dkd_tf.serving import manifest as manifest_lib, rewrites
from dkd_tf.serving import tflite_export
from tests.helpers import calibrate_batchnorm, make_model_dir, tiny_model

SIZE = 64


def _quiet(*_):
    pass


def _random_bn(bn, rng, channels):
    """Non-trivial statistics: BN at its initial values (mean 0, var 1) would hide a wrong fold."""
    bn.gamma.assign(rng.uniform(0.5, 2.0, channels).astype(np.float32))
    bn.beta.assign(rng.normal(0, 1, channels).astype(np.float32))
    bn.moving_mean.assign(rng.normal(0, 2, channels).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.1, 3.0, channels).astype(np.float32))


def _tflite_ops(path):
    from ai_edge_litert.interpreter import Interpreter
    return {op["op_name"] for op in Interpreter(model_path=path)._get_ops_details()}


class DeconvAsConvTest(tf.test.TestCase):

    def test_weights_reproduce_transposed_conv_and_bn(self):
        rng = np.random.default_rng(0)
        for h, w, c_in, c_out in ((5, 7, 3, 4), (1, 1, 2, 2), (8, 8, 16, 8)):
            with self.subTest(shape=(h, w, c_in, c_out)):
                x = keras.Input((h, w, c_in))
                deconv = keras.layers.Conv2DTranspose(c_out, 4, strides=2, padding="same",
                                                      use_bias=False)
                bn = keras.layers.BatchNormalization(epsilon=1e-3)
                net = keras.Model(x, keras.layers.ReLU()(bn(deconv(x))))
                deconv.kernel.assign(rng.normal(0, 1, deconv.kernel.shape).astype(np.float32))
                _random_bn(bn, rng, c_out)
                inputs = rng.normal(0, 1, (2, h, w, c_in)).astype(np.float32)
                ref = net(inputs, training=False).numpy()
                kernel, bias = rewrites.deconv_as_conv_weights(
                    deconv.kernel.numpy(), *rewrites.folded_batchnorm(bn))
                self.assertEqual(kernel.shape, (2, 2, c_in, 4 * c_out))
                got = rewrites.conv_depth_to_space(tf.constant(inputs), kernel, bias,
                                                   relu=True).numpy()
                self.assertEqual(got.shape, (2, 2 * h, 2 * w, c_out))
                self.assertAllClose(got, ref, atol=1e-5 * max(1.0, np.abs(ref).max()), rtol=0)
                self.assertGreater(np.mean(ref > 0), 0.2)  # the ReLU leaves a real signal

    def test_without_bn_the_conv_is_the_transposed_conv(self):
        rng = np.random.default_rng(1)
        deconv = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False)
        inputs = rng.normal(0, 1, (1, 4, 6, 5)).astype(np.float32)
        ref = deconv(inputs).numpy()
        kernel, bias = rewrites.deconv_as_conv_weights(deconv.kernel.numpy())
        got = rewrites.conv_depth_to_space(tf.constant(inputs), kernel, bias, relu=False)
        self.assertAllClose(got, ref, atol=1e-5, rtol=0)

    def test_rewritten_pose_nets_match_keras_and_leave_the_model_alone(self):
        keras.utils.set_random_seed(5)
        model = tiny_model()
        clip = np.random.default_rng(5).uniform(0, 255, (2, 3, SIZE, SIZE, 3)).astype(np.float32)
        model(clip[:, :2])
        calibrate_batchnorm(model, clip)
        rng = np.random.default_rng(6)
        for net in (model.initializer, model.encoder):
            for layer in net.layers:
                if isinstance(layer, keras.layers.BatchNormalization) and "deconv" in layer.name:
                    _random_bn(layer, rng, layer.gamma.shape[0])
        before = [w.numpy().copy() for w in model.weights]
        nets = rewrites.exported_pose_nets(model, SIZE)
        self.assertEqual(sorted(nets), ["encoder", "initializer"])
        frame = tf.constant(clip[0, :1])
        for attr, rewritten in nets.items():
            self.assertLen(rewritten.rewritten, 2)
            ref = getattr(model, attr)(frame, training=False).numpy()
            self.assertAllClose(rewritten(frame), ref,
                                atol=1e-5 * max(1.0, np.abs(ref).max()), rtol=0)
        # Swapping is only for tracing: the originals are back afterwards, weights unchanged.
        encoder = model.encoder
        with rewrites.pose_nets_swapped(model, nets):
            self.assertIs(model.encoder, nets["encoder"])
        self.assertIs(model.encoder, encoder)
        self.assertNotIn("encoder", [l.name for l in model.encoder.layers])
        for a, b in zip(before, model.weights):
            self.assertAllEqual(a, b.numpy())
        self.assertEqual(rewrites.exported_pose_nets(model, SIZE, ()), {})
        with self.assertRaisesRegex(ValueError, "unknown export rewrite"):
            rewrites.exported_pose_nets(model, SIZE, ("fuse_everything",))


class RewrittenExportTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="dkd_rewrite_test_")
        cls.model_dir = make_model_dir(os.path.join(cls.root, "model"), seed=7, calibrate=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_default_export_is_rewritten_and_passes_parity_and_off_switch_keeps_deconvs(self):
        on = os.path.join(self.root, "on")
        off = os.path.join(self.root, "off")
        m_on = tflite_export.export_tflite(self.model_dir, on, "none", log=_quiet)
        m_off = tflite_export.export_tflite(self.model_dir, off, "none", rewrites=(), log=_quiet)
        self.assertEqual([r["name"] for r in m_on["formats"]["tflite"]["rewrites"]],
                         [rewrites.DECONV_AS_CONV])
        self.assertEqual(m_off["formats"]["tflite"]["rewrites"], [])
        self.assertEqual(manifest_lib.read(on)["formats"]["tflite"]["rewrites"],
                         m_on["formats"]["tflite"]["rewrites"])
        for m in (m_on, m_off):
            result = m["verification"]["tflite"]
            self.assertTrue(result["passed"], result["problems"])
            self.assertLess(result["max_abs_diff_heatmaps"], 1e-4)
        for graph in ("initializer", "stepper"):
            ops_on = _tflite_ops(os.path.join(on, f"{graph}.tflite"))
            ops_off = _tflite_ops(os.path.join(off, f"{graph}.tflite"))
            self.assertIn("TRANSPOSE_CONV", ops_off)
            self.assertNotIn("TRANSPOSE_CONV", ops_on)
            self.assertIn("DEPTH_TO_SPACE", ops_on)


if __name__ == "__main__":
    tf.test.main()
