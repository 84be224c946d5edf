"""Training runs on every real data set's on-disk format, as the paper's recipe chains them:
MPII single-frame pretraining (sec. 4.1) seeds P and F of a DKD trained on Sub-JHMDB and on Penn
Action, each then evaluated by streaming its test videos."""
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from dkd_tf.evaluation import protocol
from dkd_tf.core import joints
from dkd_tf.training import trainer
from dkd_tf.data import datasets
from dkd_tf.data import synthetic
from tests.helpers import tiny_config
from tests.test_mpii import write_fixture as write_mpii
from tests.test_sub_jhmdb import write_fixture as write_sub_jhmdb


class TrainOnOfficialFormatsTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="dkd_formats_test_")
        cls.mpii_dir = os.path.join(cls.root, "mpii")
        write_mpii(cls.mpii_dir)
        cls.pre_dir = os.path.join(cls.root, "runs", "mpii")
        cls.pre = trainer.run_training(tiny_config(
            cls.pre_dir, cls.mpii_dir, dataset="mpii", variant="baseline", clip_length=1,
            epochs=1, clips_per_epoch=2))
        cls.pretrained = os.path.join(cls.pre_dir, trainer.MODEL_FILE)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def _train_seeded(self, name, data_dir, **fields):
        cfg = tiny_config(os.path.join(self.root, "runs", name), data_dir, variant="dkd",
                          epochs=1, clips_per_epoch=2, init_initializer_from=self.pretrained,
                          init_encoder_from=self.pretrained, **fields)
        model = trainer.run_training(cfg)
        self.assertTrue(os.path.isfile(os.path.join(cfg.model_dir, trainer.MODEL_FILE)))
        self.assertEqual(int(model.optimizer.iterations.numpy()), 1)  # 2 clips / batch 2
        return cfg, model

    def _stream_pck(self, cfg):
        joint_set, records = datasets.load(cfg, "test")
        acc, preds = protocol.evaluate_records(protocol.load_model(cfg.model_dir), records,
                                                 cfg.input_size, joint_set)
        for rec in records:
            self.assertEqual(preds[rec.video_id].shape, (rec.num_frames, joint_set.num_joints, 2))
        result = acc.result()
        self.assertTrue(0.0 <= result["mean"] <= 100.0)
        return result

    def test_mpii_pretraining_is_single_frame_with_16_joints(self):
        self.assertEqual(self.pre.variant, "baseline")
        self.assertEqual(self.pre.num_joints, 16)
        out = self.pre.initialize(np.zeros((1, 64, 64, 3), np.float32))[0]
        self.assertEqual(tuple(out.shape), (1, 8, 8, 16))

    def test_sub_jhmdb_dkd_from_mpii_pretraining(self):
        data = os.path.join(self.root, "sub_jhmdb")
        write_sub_jhmdb(data)
        cfg, model = self._train_seeded("sub_jhmdb", data, dataset="sub_jhmdb", split=1,
                                        clip_length=3)
        self.assertEqual(model.num_joints, 15)
        self.assertEqual(set(self._stream_pck(cfg)["groups"]), set(joints.GROUP_NAMES))

    def test_penn_action_dkd_from_mpii_pretraining(self):
        data = os.path.join(self.root, "penn")  # the synthetic writer uses Penn Action's format
        synthetic.generate(data, num_videos=4, num_frames=6, seed=2, height=96, width=128,
                           test_fraction=0.5)
        cfg, model = self._train_seeded("penn", data, dataset="penn_action")
        self.assertEqual(model.num_joints, 13)
        def first(net):  # the first convolution of the network's backbone
            return net.get_layer(net.name + "_backbone").get_layer("conv1").get_weights()[0]

        # P and F started from the MPII network: one RMSprop step moves a weight by about 3 x lr,
        # far less than the spread (std 0.12) of a fresh initialization of this layer.
        self.assertAllClose(first(model.initializer), first(self.pre.initializer), atol=0.05)
        self.assertAllClose(first(model.encoder), first(self.pre.initializer), atol=0.05)
        self._stream_pck(cfg)


if __name__ == "__main__":
    tf.test.main()
