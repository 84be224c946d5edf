"""Every backbone family builds at stride 32 and serves as P, F and D; keras.applications
backbones take a weights file and survive a .keras round trip inside a DKD model."""
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from dkd_tf.models import backbones, pose_net
from dkd_tf.models.discriminator import build_discriminator
from dkd_tf.models.dkd import DKD

SIZE = 64  # -> 2 x 2 at stride 32, 8 x 8 heatmaps
CHANNELS = {"resnet10": 8 * 8, "resnet18": 8 * 8, "resnet34": 8 * 8, "resnet50": 2048, "resnet101": 2048,
            "mobilenetv3_small": 576, "mobilenetv3_large": 960,
            "movenet_lightning": 1280, "movenet_thunder": 1280}


class BackboneTest(tf.test.TestCase):

    def test_every_backbone_is_stride_32(self):
        frame = np.random.default_rng(0).uniform(0, 255, (1, SIZE, SIZE, 3)).astype(np.float32)
        for name in backbones.BACKBONES:
            with self.subTest(name):
                net = backbones.build_backbone(name, 3, width=8, model_name=f"{name}_test")
                # keras.applications' backbones declare a one-element input list; fed as they
                # declare it (a bare tensor works too, with a Keras structure warning)
                out = net([frame] if isinstance(net._inputs_struct, list) else frame)
                self.assertIsInstance(out, tf.Tensor)  # one tensor, not a one-element list
                self.assertEqual(tuple(out.shape), (1, SIZE // 32, SIZE // 32, CHANNELS[name]))

    def test_pose_nets_on_application_backbones(self):
        frame = np.zeros((2, SIZE, SIZE, 3), np.float32)
        for name in ("resnet50", "mobilenetv3_small", "movenet_lightning"):
            with self.subTest(name):
                p = pose_net.build_pose_net(name, 13, 16, name=f"p_{name}")
                f = pose_net.build_pose_net(name, None, 16, name=f"f_{name}")
                self.assertEqual(tuple(p(frame).shape), (2, SIZE // 8, SIZE // 8, 13))
                self.assertEqual(tuple(f(frame).shape), (2, SIZE // 8, SIZE // 8, 16))

    def test_discriminator_on_an_application_backbone(self):
        d = build_discriminator("mobilenetv3_small", 13, 16)
        frame = np.zeros((1, SIZE, SIZE, 3), np.float32)
        heatmaps = np.zeros((1, SIZE // 8, SIZE // 8, 13), np.float32)
        d_t = d([frame, heatmaps, frame, heatmaps])
        self.assertEqual(tuple(d_t.shape), (1, SIZE // 8, SIZE // 8, 13))

    def test_weights_file(self):
        root = tempfile.mkdtemp()
        for name in ("mobilenetv3_small", "resnet18"):
            with self.subTest(name):
                keras.utils.set_random_seed(1)
                source = backbones.build_backbone(name, 3, width=8)
                path = os.path.join(root, f"{name}.weights.h5")
                source.save_weights(path)
                keras.utils.set_random_seed(2)
                loaded = backbones.build_backbone(name, 3, weights=path, width=8)
                for a, b in zip(source.weights, loaded.weights):
                    self.assertAllEqual(a, b)

    def test_imagenet_weights_need_rgb_and_an_application_backbone(self):
        with self.assertRaisesRegex(ValueError, "3 input channels"):
            backbones.build_backbone("resnet50", 29, weights="imagenet")
        with self.assertRaisesRegex(ValueError, "no keras.applications ImageNet weights"):
            backbones.build_backbone("resnet18", 3, weights="imagenet")
        with self.assertRaisesRegex(ValueError, "unknown backbone 'vgg16'"):
            backbones.build_backbone("vgg16")

    def test_dkd_with_application_backbones_round_trips(self):
        keras.utils.set_random_seed(3)
        model = DKD(num_joints=13, variant="dkd", initializer_backbone="resnet50",
                    encoder_backbone="mobilenetv3_small", deconv_filters=16, kernel_size=3,
                    kernel_channels=8)
        clip = np.random.default_rng(4).uniform(0, 255, (1, 2, SIZE, SIZE, 3)).astype(np.float32)
        expected = model(clip)
        path = os.path.join(tempfile.mkdtemp(), "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        self.assertAllClose(loaded(clip), expected, atol=1e-5)
        heatmaps, state = loaded.initialize(clip[:, 0])
        step_heatmaps, _ = loaded.step(clip[:, 1], state)
        self.assertAllClose(heatmaps, expected[:, 0], atol=1e-5)
        self.assertAllClose(step_heatmaps, expected[:, 1], atol=1e-5)


if __name__ == "__main__":
    tf.test.main()
