"""Training CLI library: resume after an interruption, distribution, model seeding."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile

import keras
import tensorflow as tf

from dkd_tf.training import run_state, trainer
from tests.helpers import EpochLog, tiny_config, tiny_model, tiny_synthetic


class Interrupt(keras.callbacks.Callback):
    """Simulates a kill in the middle of an epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt("simulated kill")


class TrainingTest(tf.test.TestCase):

    _baseline = None

    def setUp(self):
        super().setUp()
        self.data = tiny_synthetic(os.path.join(self.get_temp_dir(), "syn"))

    @classmethod
    def tearDownClass(cls):
        if cls._baseline is not None:
            shutil.rmtree(os.path.dirname(cls._baseline[1]), ignore_errors=True)
        super().tearDownClass()

    def pretrained_baseline(self):
        """(model, its model.keras): one tiny Baseline trained for an epoch, the seed of three
        tests here (trained once for all of them, on the same synthetic set)."""
        cls = type(self)
        if cls._baseline is None:
            pre_dir = tempfile.mkdtemp(prefix="dkd_training_test_baseline_")
            pre = trainer.run_training(tiny_config(pre_dir, self.data, variant="baseline",
                                                    epochs=1))
            cls._baseline = pre, os.path.join(pre_dir, "model.keras")
        return cls._baseline

    def test_resume_continues_epochs_optimizer_steps_and_lambda(self):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        # Adam and a foreground weight: the settings whose state or ops could break the
        # determinism checked last.
        settings = dict(epochs=3, optimizer="adam", foreground_weight=5.0)
        cfg = tiny_config(model_dir, self.data, **settings)
        steps = cfg.clips_per_epoch // cfg.batch_size
        with self.assertRaises(KeyboardInterrupt):
            trainer.run_training(cfg, callbacks=[Interrupt(epoch=1, batch=0)])
        self.assertTrue(os.path.exists(os.path.join(model_dir, "model.keras")))
        first = run_state.recorded_train_seconds(model_dir)
        self.assertGreater(first, 0)  # epoch 0's time, recorded beside its model
        log = EpochLog()
        model = trainer.run_training(cfg, callbacks=[log])
        # The training time adds up over the resume (what demo --ship reports).
        self.assertGreater(run_state.recorded_train_seconds(model_dir), first)
        self.assertEqual(log.epochs, [1, 2])  # epoch 0 was not repeated
        self.assertEqual(int(model.optimizer.iterations.numpy()), 3 * steps)
        self.assertEqual(int(model.d_optimizer.iterations.numpy()), 3 * steps)
        self.assertEqual(trainer.TrainConfig.load(model_dir), cfg)
        # A finished run is not trained again.
        again = trainer.run_training(cfg)
        self.assertEqual(int(again.optimizer.iterations.numpy()), 3 * steps)
        self.assertAllClose(again.lam.numpy(), model.lam.numpy())
        # The killed-and-resumed run is the run it replaces: epochs 1 and 2 saw the clips and
        # augmentation draws an uninterrupted run sees there (before, the data order restarted
        # at epoch 0's and these weights differed). Equal weights from two runs also show that
        # a seed fixes the whole run (op determinism + the pipeline's deterministic map).
        straight = trainer.run_training(
            tiny_config(os.path.join(self.get_temp_dir(), "straight"), self.data, **settings))
        for a, b in zip(straight.get_weights(), model.get_weights()):
            self.assertAllEqual(a, b)

    def test_seed_pose_networks_from_pretrained_single_frame_model(self):
        pre, seed = self.pretrained_baseline()
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "dkd"), self.data,
                          init_initializer_from=seed, init_encoder_from=seed)
        model = trainer.build_model(cfg, 13)
        frame = tf.random.uniform([1, 64, 64, 3], 0, 255)
        self.assertAllClose(model.initializer(frame), pre.initializer(frame), atol=1e-5)
        backbone = lambda net: net.get_layer(net.name + "_backbone")
        self.assertAllClose(backbone(model.encoder)(frame / 255.0),
                            backbone(pre.initializer)(frame / 255.0), atol=1e-5)

    def test_single_frame_variants_take_the_encoder_seed(self):
        """w/o-PKD is F with a classifier: --init_encoder_from seeds it (was silently ignored)."""
        pre, seed = self.pretrained_baseline()
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "wo_pkd"), self.data,
                          variant="wo_pkd", encoder_width=8, init_encoder_from=seed)
        model = trainer.build_model(cfg, 13)
        frame = tf.random.uniform([1, 64, 64, 3], 0, 255)
        self.assertAllClose(model.initializer(frame), pre.initializer(frame), atol=1e-5)
        both = dataclasses.replace(cfg, init_initializer_from=seed)
        with self.assertRaisesRegex(ValueError, "not both"):
            trainer.build_model(both, 13)

    def test_matcher_seeded_from_baseline_starts_as_its_heatmaps(self):
        """--init_matcher_from: DKD's later frames start as the Baseline's heatmaps (inference)."""
        pre, seed = self.pretrained_baseline()
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "dkd_m"), self.data,
                          init_initializer_from=seed, init_encoder_from=seed,
                          init_matcher_from=seed, kernel_residual=True, kernel_channels=16,
                          distillator_output="linear")
        clips = tf.random.uniform([2, 3, 64, 64, 3], 0, 255, seed=3)
        model = trainer.build_model(cfg, 13, clips)
        heatmaps = model(clips, training=False)
        flat = tf.reshape(clips, (-1, 64, 64, 3))
        expected = tf.reshape(pre.initializer(flat), heatmaps.shape)
        self.assertGreater(float(tf.reduce_max(tf.abs(expected))), 0.1)
        self.assertAllClose(heatmaps, expected, atol=1e-4)
        # Phi's kernels start at 0 and still learn: its last BN gets a gradient.
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(clips, training=True) ** 2)
        last_bn = [l for l in model.distillator.layers
                   if isinstance(l, keras.layers.BatchNormalization)][-1]
        grads = tape.gradient(loss, [last_bn.gamma, last_bn.beta])
        self.assertGreater(float(tf.reduce_max(tf.abs(grads[1]))), 0.0)
        for bad in (dict(kernel_residual=False), dict(distillator_output="relu")):
            with self.assertRaisesRegex(ValueError, "init_matcher_from"):
                trainer.build_model(dataclasses.replace(cfg, **bad), 13, clips)

    def test_classifier_of_another_joint_set_is_mapped_joint_by_joint(self):
        """An LSP-trained (14 joints) network seeds a Penn Action (13) one: every classifier
        column goes to the joint of the same name (LSP's head top is Penn Action's head)."""
        from dkd_tf.core import joints
        from dkd_tf.models.pose_net import build_pose_net
        lsp = build_pose_net("resnet18", 14, 16, width=8, name="pose_net")
        penn = build_pose_net("resnet18", 13, 16, width=8, name="initializer")
        copied = trainer.copy_pose_net(lsp, penn, joints.LSP, joints.get("penn_action"))
        self.assertEqual(copied, len([l for l in penn.layers if l.weights]))
        w, b = lsp.get_layer("pose_net_classifier").get_weights()
        w2, b2 = penn.get_layer("initializer_classifier").get_weights()
        index = joints.mapping(joints.LSP, joints.get("penn_action"))
        self.assertEqual(sorted(index), sorted(set(index)))
        self.assertNotIn(-1, index)
        self.assertAllEqual(w2, w[..., index])
        self.assertAllEqual(b2, b[index])
        head = joints.get("penn_action").names.index("head")
        self.assertEqual(joints.LSP.names[index[head]], "head_top")
        # Without joint sets the foreign classifier is skipped, as before.
        fresh = build_pose_net("resnet18", 13, 16, width=8, name="initializer")
        kept = fresh.get_layer("initializer_classifier").get_weights()[0].copy()
        trainer.copy_pose_net(lsp, fresh)
        self.assertAllEqual(fresh.get_layer("initializer_classifier").get_weights()[0], kept)

    def test_half_scale_dkd_seeded_from_a_half_scale_baseline_starts_as_it(self):
        """encoder_input_scale 0.5 + --init_matcher_from + a frozen P: later frames start as
        the Baseline's heatmaps (on the same half-resolution F), frame 1 is P's."""
        pre_dir = os.path.join(self.get_temp_dir(), "pre_half")
        pre = trainer.run_training(tiny_config(pre_dir, self.data, variant="baseline", epochs=1,
                                                encoder_width=8, encoder_input_scale=0.5))
        seed = os.path.join(pre_dir, "model.keras")
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "dkd_half"), self.data,
                          init_encoder_from=seed, init_matcher_from=seed, kernel_residual=True,
                          kernel_channels=16, distillator_output="linear", distillator_pools=1,
                          encoder_width=8, encoder_input_scale=0.5, freeze_initializer=True,
                          freeze_encoder=True)
        clips = tf.random.uniform([2, 3, 64, 64, 3], 0, 255, seed=3)
        model = trainer.build_model(cfg, 13, clips)
        self.assertFalse(model.initializer.trainable)
        self.assertFalse(model.encoder.trainable)  # the Baseline's F, kept as it is
        heatmaps = model(clips, training=False)
        expected = pre(clips, training=False)
        self.assertAllClose(heatmaps[:, 1:], expected[:, 1:], atol=1e-4)
        problems = dict(run_state.config_problems(dataclasses.replace(
            cfg, input_size=96, variant="baseline", eta=0.0, init_matcher_from="")))
        self.assertIn("encoder_input_scale", problems)  # 96 x 0.5 = 48, no multiple of 32
        self.assertIn("freeze_initializer", problems)  # a Baseline has no P to freeze
        problems = dict(run_state.config_problems(dataclasses.replace(
            cfg, variant="baseline", eta=0.0, init_matcher_from="", freeze_initializer=False,
            freeze_encoder=True)))
        self.assertIn("freeze_encoder", problems)  # ... nor an F apart from its one network

    def test_init_from_seeds_every_network_of_a_trained_model(self):
        """--init_from: a trained DKD's P, F, Phi and matching head (lambda too) start the run,
        which then streams as it; D starts afresh. Another variant or weight shape is refused,
        and so is --init_from beside another seed."""
        trained = tiny_model("dkd")
        trained.lam.assign(0.25)
        clip = tf.random.uniform([2, 3, 64, 64, 3], 0, 255, seed=5)
        trained(clip)
        seed = os.path.join(self.get_temp_dir(), "trained.keras")
        trainer.save_inference_model(trained, seed, 64)
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "tuned"), self.data, init_from=seed)
        model = trainer.build_model(cfg, 13)
        self.assertAllClose(model(clip, training=False), trained(clip, training=False),
                            atol=1e-5)
        self.assertAllClose(float(model.lam), 0.25)
        self.assertTrue(model.adversarial)  # its D is new: the seed holds none
        for bad, message in ((dict(variant="wo_tat", eta=0.0),
                              "trained.keras: is a 'dkd' model; this run trains 'wo_tat'"),
                             (dict(kernel_channels=4),
                              "trained.keras: its distillator has other weight shapes")):
            with self.assertRaisesRegex(ValueError, message):
                trainer.build_model(dataclasses.replace(cfg, **bad), 13)
        problems = dict(run_state.config_problems(dataclasses.replace(cfg,
                                                                      init_encoder_from=seed)))
        self.assertIn("seeds every network", problems["init_from"])
        # A seed whose config.json records another variant is refused with the flags, before
        # any model is built.
        self.assertNotIn("init_from", dict(run_state.config_problems(cfg)))
        with open(os.path.join(os.path.dirname(seed), "config.json"), "w") as f:
            json.dump({"variant": "baseline"}, f)
        problems = dict(run_state.config_problems(cfg))
        self.assertIn("is a 'baseline' model (its config.json); this run trains 'dkd'",
                      problems["init_from"])

    def test_mirrored_strategy_on_two_logical_cpus(self):
        """Runs in a subprocess: logical devices must be set before TensorFlow starts."""
        model_dir = os.path.join(self.get_temp_dir(), "mirrored")
        cfg = tiny_config(model_dir, self.data, strategy="mirrored", epochs=1)
        script = f"""
import json, tensorflow as tf
cpu = tf.config.list_physical_devices('CPU')[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from dkd_tf.training import trainer
cfg = trainer.TrainConfig(**json.loads({json.dumps(cfg.__dict__)!r}))
cfg.lr_decay_epochs = tuple(cfg.lr_decay_epochs)
model = trainer.run_training(cfg)
strategy = model.distribute_strategy
print('REPLICAS', strategy.num_replicas_in_sync, 'STEPS', int(model.optimizer.iterations.numpy()))
"""
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=600)
        self.assertEqual(out.returncode, 0, out.stderr[-3000:])
        # 4 clips per epoch, batch 2 per replica x 2 replicas: one step.
        self.assertIn("REPLICAS 2 STEPS 1", out.stdout)
