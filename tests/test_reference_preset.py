"""The shipped pairs (dkd_tf/presets/reference, dkd_tf/presets/mobile): each loads, its TFLite
export still matches the shipped Keras DKD, and it scores held-out synthetic videos near what the
README's presets table (and docs/experiments.md) says.

The held-out videos are re-rendered from the generator (video i of the preset's data seed is
reproducible on its own), so the test needs no data set on disk.
"""
import os

import numpy as np
import tensorflow as tf

from dkd_tf.evaluation import protocol, metrics
from dkd_tf.core import joints
from dkd_tf import presets
from dkd_tf.data import penn_action
from dkd_tf.data import synthetic
from dkd_tf.serving import graphs as graphs_lib
from dkd_tf.serving import manifest as manifest_lib
from tests.helpers import shipped_export_check

VIDEOS = 4  # the first held-out videos of the preset's data set
# The preset's full-set PCK (preset.json = the README's presets table) minus this many points is the
# floor on the first VIDEOS videos: their spread around the mean is about 10 points.
FLOOR_MARGIN = 15.0


def _held_out_records(root, meta, count):
    data = meta["data"]
    n_train = synthetic.num_train(data["videos"], 0.25)
    for i in range(n_train, n_train + count):
        v = synthetic.render_video(synthetic.video_rng(data["seed"], i), data["frames"], 160, 208)
        penn_action.write_video(root, f"{i + 1:04d}", v["frames"], v["joints"], v["visibility"],
                                v["bboxes"], train=False, action=v["action"], pose=v["pose"])
    return penn_action.read_split(root, "test")


class ReferencePresetTest(tf.test.TestCase):
    PRESET = "reference"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meta = presets.verify(cls.PRESET)  # fails when the shipped files were changed or lost

    def test_shipped_export_matches_the_shipped_keras_model(self):
        model_dir = presets.member_dir(self.PRESET, "dkd", self.meta)
        export_dir = presets.member_dir(self.PRESET, "dkd_tflite", self.meta)
        shipped_export_check(self, model_dir, export_dir)

    def test_shipped_pair_scores_held_out_videos_above_the_floor(self):
        records = _held_out_records(self.get_temp_dir(), self.meta, VIDEOS)
        self.assertLen(records, VIDEOS)
        results = self.meta["results"]
        for member in ("dkd", "baseline"):
            model = protocol.load_model(presets.member_dir(self.PRESET, member, self.meta))
            acc, preds = protocol.evaluate_records(model, records, self.meta["input_size"],
                                                     joints.PENN_ACTION)
            for norm in metrics.NORMS:
                floor = results[member][norm]["mean"] - FLOOR_MARGIN
                got = acc.result(norm=norm)["mean"]
                self.assertGreater(got, floor, f"{member} PCK@0.2 by {norm} size {got:.1f}")
            self.assertTrue(all(np.all(np.isfinite(p)) for p in preds.values()))

    def test_preset_records_how_it_was_made(self):
        for key in ("produced_by", "machine", "wall_minutes", "commit", "data", "results"):
            self.assertIn(key, self.meta)
        self.assertIn(f"--recipe {self.PRESET}", self.meta["produced_by"])
        self.assertTrue(os.path.isdir(presets.member_dir(self.PRESET, "baseline", self.meta)))


class MobilePresetTest(ReferencePresetTest):
    """The phone-sized DKD: F = MobileNetV3-Small, P = the reference Baseline's network, and an
    int8 export (checked by keypoint agreement, as every integer export is)."""
    PRESET = "mobile"

    def test_its_initializer_has_the_reference_baselines_architecture(self):
        model, _ = graphs_lib.load_model_dir(presets.member_dir(self.PRESET, "dkd", self.meta))
        reference, _ = graphs_lib.load_model_dir(presets.member_dir("reference", "baseline"))
        self.assertEqual(model.encoder_backbone, "mobilenetv3_small")
        # P was seeded from it (recipes.MOBILE.initializer_preset): the same architecture.
        self.assertEqual([w.shape for w in model.initializer.weights],
                         [w.shape for w in reference.initializer.weights])
        manifest = manifest_lib.read(presets.member_dir(self.PRESET, "dkd_tflite", self.meta))
        self.assertEqual(manifest["formats"]["tflite"]["quantization"], "int8")
