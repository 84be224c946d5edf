"""Ablation rows: same seeds and schedule as DKD, one command trains and scores them all."""
import dataclasses
import json
import os

import tensorflow as tf

from dkd_tf.experiments import ablations
from dkd_tf.training import recipes, run_state
from tests.helpers import TINY, tiny_synthetic


def _tiny_recipe():
    common = dict(dataset="synthetic", input_size=64, batch_size=2, clip_length=2,
                  clips_per_epoch=2, learning_rate=1e-3, discriminator_scale=0.5, verbose=0,
                  **TINY)
    return recipes.Recipe(name="tiny", label="tiny", common=common, pretrain_epochs=1,
                          baseline_epochs=1, dkd_epochs=1)


class AblationRunsTest(tf.test.TestCase):

    def test_rows_share_dkd_schedule_and_seeds(self):
        continued = dataclasses.replace(
            recipes.REFERENCE, baseline_continue_epochs=50,
            dkd_overrides=dict(kernel_residual=True, distillator_output="linear"))
        for recipe in list(recipes.RECIPES.values()) + [continued]:
            runs = recipes.ablation_runs(recipe, "/tmp/out", "/tmp/out/data", 8, 10)
            seed = {"seed"} if recipe.baseline_continue_epochs else set()
            self.assertEqual(set(runs), {"pretrain", *seed, *recipes.ABLATIONS})
            dkd = runs["dkd"]
            for row in recipes.ABLATIONS:
                cfg = runs[row]
                self.assertEqual(cfg.variant, row)
                run_state.validate_config(run_state.unseeded(cfg))
                # Only rows with a kernel-matching head take the matching-head seed.
                if row in ("wo_pkd", "w_lstm", "baseline"):
                    self.assertEqual(cfg.init_matcher_from, "", row)
                else:
                    self.assertEqual(cfg.init_matcher_from, dkd.init_matcher_from, row)
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
        # Per tag too, each row minus the Baseline (the PCK table's sign).
        self.assertEqual(list(doc["by_tag"]["DKD"]["clean"]["minus"]), ["Baseline"])
        self.assertNotIn("minus", doc["by_tag"]["Baseline"]["clean"])
        gmacs = doc["stepper_gmacs"]
        # DKD's stepper (F + matching + Phi) costs more than the bare single-frame network,
        # and w/o-PKD is that network (same per-frame graph as the Baseline).
        self.assertGreater(gmacs["DKD"], gmacs["Baseline"])
        self.assertAlmostEqual(gmacs["w/o-PKD"], gmacs["Baseline"], places=6)


class ContinuedRecipeTest(tf.test.TestCase):

    def test_seed_trains_first_then_the_baseline_and_dkd_from_it(self):
        """A recipe with baseline_continue_epochs: seed (resuming the pretraining run), then the
        Baseline row and DKD, both from the finished seed; no encoder snapshot is made."""
        from dkd_tf.experiments import run_steps
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn"), videos=4, frames=5)
        tiny = _tiny_recipe()
        recipe = dataclasses.replace(
            tiny, baseline_continue_epochs=1,
            common={**tiny.common, "kernel_channels": 16},
            dkd_overrides=dict(kernel_residual=True, distillator_output="linear"))
        runs = recipes.runs(recipe, tmp, data, 4, 5)
        seconds = run_steps.train_runs(runs)
        self.assertEqual(list(seconds), ["pretrain", "seed", "baseline", "dkd"])
        for key in ("seed", "baseline", "dkd"):
            record = run_state.read_record(runs[key].model_dir)
            self.assertEqual(record["epoch"], runs[key].epochs, key)
        self.assertFalse(os.path.exists(os.path.join(tmp, "runs", recipes.ENCODER_SNAPSHOT)))
        stored = json.load(open(os.path.join(runs["dkd"].model_dir, "config.json")))
        self.assertEqual(stored["init_matcher_from"],
                         os.path.join(runs["seed"].model_dir, "model.keras"))


if __name__ == "__main__":
    tf.test.main()
