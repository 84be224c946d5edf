"""The DKD model: streaming graphs, Algorithm 1 training step, variants, serialization."""
import os

import keras
import numpy as np
import tensorflow as tf

from tests.helpers import compile_model, tiny_model

H = 64  # input size; heatmaps are H / 8


def random_batch(batch=2, t=3, k=13, seed=0):
    rng = np.random.default_rng(seed)
    frames = rng.uniform(0, 255, size=(batch, t, H, H, 3)).astype("float32")
    targets = rng.uniform(0, 1, size=(batch, t, H // 8, H // 8, k)).astype("float32")
    weights = np.ones((batch, t, k), "float32")
    return frames, targets, weights


def streamed(model, clip):
    """The clip's heatmaps [B, T, h, w, K] through the two streaming graphs, frame by frame:
    initialize on frame 1, then step with the state it carries."""
    heatmaps, state = model.initialize(clip[:, 0])
    out = [heatmaps]
    for t in range(1, clip.shape[1]):
        heatmaps, state = model.step(clip[:, t], state)
        out.append(heatmaps)
    return tf.stack(out, axis=1)


def snapshot(variables):
    return [v.numpy().copy() for v in variables]


def changed(before, variables):
    return any(not np.allclose(b, v.numpy()) for b, v in zip(before, variables))


def stepped_dkd():
    """A DKD (gamma 0.1, lambda 0.5) after one train_on_batch."""
    model = compile_model(tiny_model("dkd", gamma=0.1))
    model.lam.assign(0.5)
    return model


def stepped_w_lstm():
    """A w/ LSTM model after one train_on_batch."""
    return compile_model(tiny_model("w_lstm"))


class DKDTest(tf.test.TestCase):

    _stepped = {}

    def stepped(self, make):
        """(model, snapshots before, logs) of one train_on_batch on make()'s model, made once
        for the class: tracing a training step takes seconds, and two tests check the same
        stepped model (the step's updates, the model's round trip through a .keras file)."""
        if make not in self._stepped:
            model = make()
            before = {"d": snapshot(model.discriminator.trainable_variables),
                      "g": snapshot(model.generator_variables)}
            logs = model.train_on_batch(*random_batch(), return_dict=True)
            self._stepped[make] = model, before, logs
        return self._stepped[make]

    def test_step_over_clip_equals_call(self):
        for variant in ("dkd", "baseline", "w_lstm"):
            model = tiny_model(variant)
            clip = tf.constant(random_batch()[0])
            unrolled = model(clip, training=False)
            self.assertEqual(model.initialize(clip[:, 0])[1].shape[1:], model.state_shape_for(H))
            self.assertAllClose(streamed(model, clip), unrolled, atol=1e-5)

    def test_state_changes_the_step(self):
        model = tiny_model("dkd")
        frame = tf.constant(random_batch(batch=1)[0][:, 0])
        _, state = model.initialize(frame)
        a, _ = model.step(frame, state)
        b, _ = model.step(frame, state * 2.0 + 1.0)
        self.assertGreater(float(tf.reduce_max(tf.abs(a - b))), 1e-6)

    def test_train_step_updates_d_generator_and_lambda(self):
        model, before, logs = self.stepped(stepped_dkd)
        self.assertTrue(changed(before["d"], model.discriminator.trainable_variables))
        self.assertTrue(changed(before["g"], model.generator_variables))
        expected = np.clip(0.5 + 0.1 * (logs["adv_real_loss"] - logs["adv_fake_loss"]), 0, 1)
        self.assertAllClose(float(model.lam.numpy()), expected, atol=1e-5)
        self.assertAllClose(logs["d_loss"], 0.5 * logs["adv_fake_loss"] - logs["adv_real_loss"],
                            atol=1e-4)
        self.assertEqual(logs["g_steps"], 1.0)
        self.assertEqual(logs["d_steps"], 1.0)

    def test_lambda_is_clipped_to_unit_interval(self):
        model = compile_model(tiny_model("dkd", gamma=1e4))
        logs = model.train_on_batch(*random_batch(), return_dict=True)
        bound = 1.0 if logs["adv_real_loss"] > logs["adv_fake_loss"] else 0.0
        self.assertEqual(float(model.lam.numpy()), bound)

    def test_without_tat_has_no_discriminator(self):
        for model in (tiny_model("wo_tat"), tiny_model("dkd", eta=0.0), tiny_model("baseline")):
            self.assertFalse(model.adversarial)
            self.assertFalse(hasattr(model, "discriminator"))
            compile_model(model)
            before = float(model.lam.numpy())
            logs = model.train_on_batch(*random_batch(), return_dict=True)
            self.assertNotIn("d_loss", logs)
            self.assertEqual(float(model.lam.numpy()), before)
        self.assertTrue(tiny_model("wo_pkd").adversarial)

    def test_table2_variants_train(self):
        for make in (lambda: compile_model(tiny_model("w_sat")), stepped_w_lstm):
            model, before, logs = self.stepped(make)
            self.assertTrue(model.adversarial)
            self.assertTrue(changed(before["d"], model.discriminator.trainable_variables))
            self.assertTrue(np.isfinite(logs["loss"]))
        spatial = tiny_model("w_sat").discriminator
        self.assertEqual(len(spatial.inputs), 2)  # D(I_t, h_t), not the temporal pair

    def test_keras_round_trip_safe_mode(self):
        # One training step moves the BN statistics away from the defaults (the dkd and w_lstm
        # models are those test_train_step_updates... and test_table2_variants_train check).
        for variant, make in (("dkd", stepped_dkd),
                              ("wo_pkd", lambda: compile_model(tiny_model("wo_pkd"))),
                              ("w_lstm", stepped_w_lstm)):
            model, _, _ = self.stepped(make)
            lambda_layers = [l.name for l in model._flatten_layers()
                             if isinstance(l, keras.layers.Lambda)]
            self.assertEqual(lambda_layers, [])
            path = os.path.join(self.get_temp_dir(), f"{variant}.keras")
            model.save(path)
            loaded = keras.models.load_model(path, safe_mode=True)
            clip = tf.constant(random_batch(seed=3)[0])
            self.assertAllEqual(loaded(clip, training=False), model(clip, training=False))
            self.assertEqual(loaded.get_config(), model.get_config())

    def test_initializer_may_have_wider_deconvolutions_than_the_encoder(self):
        # A mobile F with a bigger P: P's own deconvolution width, F's features feed Phi.
        model = tiny_model("dkd", deconv_filters=8, initializer_deconv_filters=24)
        clip = tf.constant(random_batch()[0])
        heatmaps, state = model.initialize(clip[:, 0])
        heatmaps, _ = model.step(clip[:, 1], state)
        self.assertEqual(heatmaps.shape, (2, H // 8, H // 8, 13))
        self.assertEqual(model.initializer.get_layer("initializer_deconv1").filters, 24)
        self.assertEqual(model.encoder.get_layer("encoder_deconv1").filters, 8)
        model(clip, training=False)  # built as a whole (initialize/step build its parts only)
        path = os.path.join(self.get_temp_dir(), "mixed.keras")
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        self.assertEqual(loaded.initializer_deconv_filters, 24)
        self.assertAllEqual(loaded(clip, training=False), model(clip, training=False))
        # 0 (the default, and every model saved before the setting existed) = deconv_filters.
        self.assertEqual(tiny_model("dkd", deconv_filters=8).initializer_deconv_filters, 8)

    def test_distillator_pools_and_output(self):
        # One pool keeps Phi's map at (H / 8) / 2 cells before the resize to S; 'linear' drops
        # the last ReLU, so kernels can be negative; both survive a save.
        from dkd_tf.models.distillator import build_distillator
        feats = tf.random.normal((2, H // 8, H // 8, 16), seed=1)
        heat = tf.random.normal((2, H // 8, H // 8, 13), seed=2)
        for pools, cells in ((2, H // 32), (1, H // 16), (0, H // 8)):
            phi = build_distillator(16, 13, kernel_size=3, channels=8, pools=pools)
            pooled = keras.Model(phi.inputs, phi.get_layer("distillator_relu3").output)
            self.assertEqual(pooled([feats, heat]).shape[1], cells)
        relu = build_distillator(16, 13, kernel_size=3, channels=8)
        linear = build_distillator(16, 13, kernel_size=3, channels=8, output="linear")
        self.assertGreaterEqual(float(tf.reduce_min(relu([feats, heat], training=True))), 0.0)
        self.assertLess(float(tf.reduce_min(linear([feats, heat], training=True))), 0.0)
        self.assertNotIn("distillator_relu3", [l.name for l in linear.layers])
        with self.assertRaisesRegex(ValueError, "distillator output"):
            build_distillator(16, 13, output="tanh")
        model = tiny_model("dkd", distillator_pools=1, distillator_output="linear")
        clip = tf.constant(random_batch()[0])
        path = os.path.join(self.get_temp_dir(), "phi.keras")
        model(clip)
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        self.assertEqual((loaded.distillator_pools, loaded.distillator_output), (1, "linear"))
        self.assertAllEqual(loaded(clip, training=False), model(clip, training=False))
        # Models saved before the settings existed load as the paper's Phi.
        config = model.get_config()
        del config["distillator_pools"], config["distillator_output"]
        old = type(model).from_config(config)
        self.assertEqual((old.distillator_pools, old.distillator_output), (2, "relu"))
        with self.assertRaisesRegex(ValueError, "distillator_pools"):
            tiny_model("dkd", distillator_pools=3)

    def test_encoder_at_half_scale_keeps_the_streaming_contract(self):
        # F reads the frame average-pooled by 2; its heatmaps come back on P's grid, so both
        # graphs keep one input size and one heatmap shape; the unrolled clip is the stream.
        for variant in ("dkd", "baseline", "w_lstm"):
            model = tiny_model(variant, encoder_input_scale=0.5, distillator_pools=1)
            clip = tf.constant(random_batch()[0])
            unrolled = model(clip, training=False)
            self.assertEqual(unrolled.shape, (2, 3, H // 8, H // 8, 13))
            self.assertEqual(model.initialize(clip[:, 0])[1].shape[1:], model.state_shape_for(H))
            self.assertAllClose(streamed(model, clip), unrolled, atol=1e-5)
            net = model.encoder if model.temporal else model.initializer
            self.assertEqual(net(model._shrink(clip[:, 0])).shape[1], H // 16)
            path = os.path.join(self.get_temp_dir(), f"half_{variant}.keras")
            model.save(path)
            loaded = keras.models.load_model(path, safe_mode=True)
            self.assertEqual(loaded.encoder_input_scale, 0.5)
            self.assertAllEqual(loaded(clip, training=False), unrolled)
        # The Baseline at half scale is its network on the pooled frame, upsampled.
        base = tiny_model("baseline", encoder_input_scale=0.5)
        frame = tf.constant(random_batch()[0][:, 0])
        small = base.initializer(tf.nn.avg_pool2d(frame, 2, 2, "VALID"))
        up = tf.image.resize(small, (H // 8, H // 8), "bilinear")
        self.assertAllClose(base.initialize(frame)[0], up, atol=1e-5)
        for bad in (0.3, 2.0):
            with self.assertRaisesRegex(ValueError, "encoder_input_scale"):
                tiny_model("dkd", encoder_input_scale=bad)

    def test_stride4_encoder_reads_out_on_p_grid(self):
        # F keeps MoveNet's stride-4 keypoint maps: at half scale they are on P's grid (no
        # upsampling), Phi reads them pooled 2 x 2, and every weight keeps its shape, so a model
        # trained without the option seeds one with it (--init_from).
        movenet = dict(encoder_backbone="movenet_lightning", deconv_filters=8,
                       encoder_input_scale=0.5, distillator_pools=1, kernel_residual=True,
                       distillator_output="linear")
        clip = tf.constant(random_batch()[0])
        for variant in ("dkd", "baseline"):
            model = tiny_model(variant, encoder_stride4=True, **movenet)
            unrolled = model(clip, training=False)
            self.assertEqual(unrolled.shape, (2, 3, H // 8, H // 8, 13))
            self.assertAllClose(streamed(model, clip), unrolled, atol=1e-5)
            net = model.encoder if model.temporal else model.initializer
            self.assertEqual(net(model._shrink(clip[:, 0])).shape[1], H // 8)
            plain = tiny_model(variant, **movenet)
            self.assertEqual([tuple(w.shape) for w in plain.weights],
                             [tuple(w.shape) for w in model.weights])
            path = os.path.join(self.get_temp_dir(), f"stride4_{variant}.keras")
            model.save(path)
            loaded = keras.models.load_model(path, safe_mode=True)
            self.assertTrue(loaded.encoder_stride4)
            self.assertAllEqual(loaded(clip, training=False), unrolled)
        frame = clip[:, 0]
        pool = lambda x: tf.nn.avg_pool2d(x, 2, 2, "VALID")  # noqa: E731
        features = model.initializer(pool(frame))  # the Baseline: no upsampling
        self.assertAllClose(model.initialize(frame)[0], features, atol=1e-6)
        dkd = tiny_model("dkd", encoder_stride4=True, **movenet)
        kernels = dkd.distillator([pool(dkd.encoder(pool(frame))), pool(dkd.initializer(frame))])
        self.assertAllClose(dkd.initialize(frame)[1], kernels, atol=1e-5)
        for bad in (dict(movenet, encoder_backbone="resnet10"),
                    dict(movenet, encoder_input_scale=1.0)):
            with self.assertRaisesRegex(ValueError, "encoder_stride4"):
                tiny_model("dkd", encoder_stride4=True, **bad)
        with self.assertRaisesRegex(ValueError, "encoder_stride4"):
            tiny_model("w_lstm", encoder_stride4=True, **movenet)

    def test_frozen_initializer_keeps_its_weights_and_statistics(self):
        model = compile_model(tiny_model("dkd", initializer_trainable=False))
        model(tf.constant(random_batch()[0]))
        before = snapshot(model.initializer.weights)  # moving BN statistics included
        self.assertEqual(model.initializer.trainable_variables, [])
        encoder_before = snapshot(model.encoder.trainable_variables)
        model.train_on_batch(*random_batch())
        self.assertFalse(changed(before, model.initializer.weights))
        self.assertTrue(changed(encoder_before, model.encoder.trainable_variables))
        path = os.path.join(self.get_temp_dir(), "frozen.keras")
        model.save(path)
        self.assertFalse(keras.models.load_model(path, safe_mode=True).initializer.trainable)
        with self.assertRaisesRegex(ValueError, "no pose initializer to freeze"):
            tiny_model("baseline", initializer_trainable=False)

    def test_frozen_encoder_keeps_its_weights_and_statistics(self):
        model = compile_model(tiny_model("dkd", encoder_trainable=False))
        model(tf.constant(random_batch()[0]))
        before = snapshot(model.encoder.weights)  # moving BN statistics included
        self.assertEqual(model.encoder.trainable_variables, [])
        learning = snapshot(model.distillator.trainable_variables
                            + model.matcher.trainable_variables)
        model.train_on_batch(*random_batch())
        self.assertFalse(changed(before, model.encoder.weights))
        self.assertTrue(changed(learning, model.distillator.trainable_variables
                                + model.matcher.trainable_variables))
        path = os.path.join(self.get_temp_dir(), "frozen_f.keras")
        model.save(path)
        self.assertFalse(keras.models.load_model(path, safe_mode=True).encoder.trainable)
        with self.assertRaisesRegex(ValueError, "no frame encoder F to freeze"):
            tiny_model("baseline", encoder_trainable=False)

    def test_sigmoid_matching_head(self):
        # Ends as the movenet_* classifiers end, so a head seeded from one starts as its maps.
        from dkd_tf.models.matching import PoseKernelMatching
        feats = tf.random.normal((2, 4, 4, 16), seed=4)
        kernels = tf.random.normal((2, 3, 3, 8), seed=5)
        plain = PoseKernelMatching(13, 8, name="m")
        sig = PoseKernelMatching(13, 8, activation="sigmoid", name="m")
        plain([feats, kernels])
        sig([feats, kernels])
        sig.set_weights(plain.get_weights())
        self.assertAllClose(sig([feats, kernels]), tf.sigmoid(plain([feats, kernels])))
        self.assertEqual(PoseKernelMatching.from_config(sig.get_config()).activation, "sigmoid")
        with self.assertRaisesRegex(ValueError, "activation"):
            PoseKernelMatching(13, 8, activation="relu")

    def test_unknown_variant(self):
        with self.assertRaisesRegex(ValueError, "unknown variant"):
            tiny_model("lstm_magic")
