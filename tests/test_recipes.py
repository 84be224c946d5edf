"""Recipes: valid settings, and the fairness the README claims (same encoder, same frames)."""
import dataclasses

import tensorflow as tf

from dkd_tf import recipes, run_state


class RecipesTest(tf.test.TestCase):

    def test_every_recipe_gives_valid_runs_with_a_shared_frame_encoder(self):
        for recipe in recipes.RECIPES.values():
            runs = recipes.runs(recipe, "/tmp/out", "/tmp/out/data", 8, 10)
            for cfg in runs.values():  # raises on any invalid setting (the seeds come later)
                run_state.validate_config(dataclasses.replace(
                    cfg, init_initializer_from="", init_encoder_from=""))
            base, dkd = runs["baseline"], runs["dkd"]
            self.assertEqual((base.variant, dkd.variant), ("baseline", "dkd"))
            for field in ("encoder_backbone", "encoder_width", "deconv_filters", "input_size",
                          "data_dir", "seed"):
                self.assertEqual(getattr(base, field), getattr(dkd, field), field)
            # P is seeded by the finished Baseline, F by the pretraining snapshot.
            self.assertEqual(dkd.init_initializer_from, base.model_dir + "/model.keras")
            self.assertTrue(dkd.init_encoder_from.endswith(recipes.ENCODER_SNAPSHOT))
            # The pretraining run is the Baseline's own first epochs (same directory).
            self.assertEqual(runs["pretrain"].model_dir, base.model_dir)
            self.assertEqual(dataclasses.replace(runs["pretrain"], epochs=base.epochs), base)

    def test_both_frame_encoders_train_on_the_same_number_of_frames(self):
        for recipe in recipes.RECIPES.values():
            runs = recipes.runs(recipe, "/tmp/out", "/tmp/out/data", 8, 10)
            base, dkd, pre = runs["baseline"], runs["dkd"], runs["pretrain"]

            def frames(cfg, epochs):
                return epochs * cfg.clips_per_epoch * cfg.clip_length

            baseline_frames = frames(base, base.epochs)
            dkd_encoder_frames = frames(pre, pre.epochs) + frames(dkd, dkd.epochs)
            self.assertEqual(baseline_frames, dkd_encoder_frames, recipe.name)

    def test_epoch_scale_shortens_every_run(self):
        runs = recipes.runs(recipes.REFERENCE, "/o", "/o/d", 8, 10, epoch_scale=0.1)
        self.assertEqual(runs["pretrain"].epochs, 3)
        self.assertEqual(runs["dkd"].epochs, 2)
        self.assertLess(runs["baseline"].lr_decay_epochs[0], runs["baseline"].epochs)

    def test_unknown_recipe_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown recipe"):
            recipes.get("huge")
