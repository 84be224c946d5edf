"""Ablation rows: same seeds and schedule as DKD, one command trains and scores them all."""
import dataclasses
import json
import os

import tensorflow as tf

from dkd_tf import ablations, recipes, run_state
from tests.helpers import TINY, tiny_synthetic


def _tiny_recipe():
    common = dict(dataset="synthetic", input_size=64, batch_size=2, clip_length=3,
                  clips_per_epoch=2, learning_rate=1e-3, discriminator_scale=0.5, verbose=0,
                  **TINY)
    return recipes.Recipe(name="tiny", label="tiny", common=common, pretrain_epochs=1,
                          baseline_epochs=1, dkd_epochs=1)


class AblationRunsTest(tf.test.TestCase):

    def test_rows_share_dkd_schedule_and_seeds(self):
        for recipe in recipes.RECIPES.values():
            runs = recipes.ablation_runs(recipe, "/tmp/out", "/tmp/out/data", 8, 10)
            self.assertEqual(set(runs), {"pretrain", *recipes.ABLATIONS})
            dkd = runs["dkd"]
            for row in recipes.ABLATIONS:
                cfg = runs[row]
                self.assertEqual(cfg.variant, row)
                run_state.validate_config(dataclasses.replace(
                    cfg, init_initializer_from="", init_encoder_from=""))
                if row == "baseline":
                    continue
                for field in ("epochs", "clip_length", "batch_size", "clips_per_epoch",
                              "learning_rate", "encoder_width", "init_encoder_from", "seed"):
                    self.assertEqual(getattr(cfg, field), getattr(dkd, field), (row, field))
            self.assertEqual(runs["wo_pkd"].init_initializer_from, "")  # one network: F's seed
            self.assertEqual(len({runs[r].model_dir for r in recipes.ABLATIONS}),
                             len(recipes.ABLATIONS))


class AblationCommandTest(tf.test.TestCase):

    def test_trains_every_row_and_scores_them_against_the_baseline(self):
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn"), videos=4, frames=5)
        rows, seconds = ablations.train_rows(_tiny_recipe(), tmp, data, 4, 5)
        self.assertEqual(set(rows), set(recipes.ABLATIONS))
        for cfg in rows.values():
            self.assertTrue(os.path.exists(os.path.join(cfg.model_dir, "model.keras")))
        data_cfg = dataclasses.replace(rows["baseline"], data_dir=data)
        acc = ablations.score_rows(rows, data_cfg, os.path.join(tmp, "eval"))
        self.assertEqual(list(acc), [recipes.ABLATION_LABELS[r] for r in recipes.ABLATIONS])
        with open(os.path.join(tmp, "eval", "ablations.json")) as f:
            doc = json.load(f)
        self.assertEqual(set(doc["minus_baseline"]), set(list(acc)[1:]))
        gmacs = doc["stepper_gmacs"]
        # DKD's stepper (F + matching + Phi) costs more than the bare single-frame network,
        # and w/o-PKD is that network (same per-frame graph as the Baseline).
        self.assertGreater(gmacs["DKD"], gmacs["Baseline"])
        self.assertAlmostEqual(gmacs["w/o-PKD"], gmacs["Baseline"], places=6)


if __name__ == "__main__":
    tf.test.main()
