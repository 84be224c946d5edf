"""Recipes: valid settings, and the fairness docs/experiments.md claims (same encoder, same
frames)."""
import dataclasses
import os

import tensorflow as tf

from dkd_tf import presets
from dkd_tf.training import recipes, run_state


# A recipe whose DKD is seeded whole from the finished Baseline, which trains on beside it.
CONTINUED = dataclasses.replace(
    recipes.REFERENCE, name="continued", baseline_continue_epochs=50,
    dkd_overrides=dict(kernel_residual=True, distillator_output="linear"))
ALL = list(recipes.RECIPES.values()) + [CONTINUED]



class RecipesTest(tf.test.TestCase):

    def test_every_recipe_gives_valid_runs_with_a_shared_frame_encoder(self):
        for recipe in ALL:
            runs = recipes.runs(recipe, "/tmp/out", "/tmp/out/data", 8, 10)
            for cfg in runs.values():  # raises on any invalid setting (the seeds come later)
                run_state.validate_config(run_state.unseeded(cfg))
            base, dkd = runs["baseline"], runs["dkd"]
            self.assertEqual((base.variant, dkd.variant), ("baseline", "dkd"))
            for field in ("encoder_backbone", "encoder_width", "deconv_filters", "input_size",
                          "data_dir", "seed"):
                self.assertEqual(getattr(base, field), getattr(dkd, field), field)
            if recipe.baseline_continue_epochs:
                # The finished seed seeds P, F, the matching head and the Baseline row; the
                # pretraining run is the seed's own first epochs.
                seed = runs["seed"]
                model = os.path.join(seed.model_dir, "model.keras")
                self.assertEqual((dkd.init_initializer_from, dkd.init_encoder_from,
                                  dkd.init_matcher_from, base.init_initializer_from),
                                 (model,) * 4)
                self.assertEqual(recipes.stages(runs), ["pretrain", "seed", "baseline", "dkd"])
                self.assertFalse(recipes.uses_encoder_snapshot(runs))
                self.assertEqual(base.epochs, recipe.baseline_continue_epochs)
                self.assertNotEqual(base.model_dir, seed.model_dir)
                base = seed
            elif recipe.initializer_preset:
                # P from a shipped preset (a path relative to here, as the runs' others are),
                # F from the pretraining snapshot.
                self.assertEqual(os.path.abspath(dkd.init_initializer_from), os.path.join(
                    presets.PRESETS_DIR, recipe.initializer_preset, "baseline", "model.keras"))
                self.assertFalse(os.path.isabs(dkd.init_initializer_from))
            else:  # P from the finished Baseline, F from the pretraining snapshot
                self.assertEqual(dkd.init_initializer_from, base.model_dir + "/model.keras")
            if not recipe.baseline_continue_epochs:
                self.assertTrue(recipes.uses_encoder_snapshot(runs))
                self.assertEqual(dkd.init_matcher_from, "")
            # The pretraining run is the Baseline's (or its seed's) own first epochs.
            self.assertEqual(runs["pretrain"].model_dir, base.model_dir)
            self.assertEqual(dataclasses.replace(runs["pretrain"], epochs=base.epochs), base)

    def test_both_frame_encoders_train_on_the_same_number_of_frames(self):
        for recipe in ALL:
            runs = recipes.runs(recipe, "/tmp/out", "/tmp/out/data", 8, 10)
            base, dkd, pre = runs["baseline"], runs["dkd"], runs["pretrain"]

            def frames(cfg, epochs):
                return epochs * cfg.clips_per_epoch * cfg.clip_length

            baseline_frames = frames(base, base.epochs)
            dkd_encoder_frames = frames(dkd, dkd.epochs)
            if "seed" not in runs:  # F starts from the pretraining run, the Baseline's start
                dkd_encoder_frames += frames(pre, pre.epochs)
            # (with a seed, both start from the whole seed run and train on from there)
            self.assertEqual(baseline_frames, dkd_encoder_frames, recipe.name)

    def test_epoch_scale_shortens_every_run(self):
        runs = recipes.runs(recipes.REFERENCE, "/o", "/o/d", 8, 10, epoch_scale=0.1)
        self.assertEqual(runs["pretrain"].epochs, 3)
        self.assertEqual(runs["dkd"].epochs, 2)
        self.assertLess(runs["baseline"].lr_decay_epochs[0], runs["baseline"].epochs)

    def test_side_cue_runs_train_on_the_striped_set_without_flips(self):
        plain = recipes.runs(recipes.REFERENCE, "/tmp/o", "/tmp/o/data", 8, 5)
        side = recipes.runs(recipes.REFERENCE, "/tmp/o", "/tmp/o/data", 8, 5, side_cue=True)
        self.assertEqual(set(plain), set(side))
        for key, cfg in side.items():
            self.assertTrue(cfg.synthetic_side_cue, key)
            self.assertEqual(cfg.flip_prob, 0.0, key)
            self.assertFalse(plain[key].synthetic_side_cue, key)
            self.assertGreater(plain[key].flip_prob, 0.0, key)

    def test_unknown_recipe_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown recipe"):
            recipes.get("huge")

    def test_the_snapshot_is_kept_before_the_baseline_replaces_the_pretrained_model(self):
        root = self.get_temp_dir()
        runs = recipes.runs(recipes.REFERENCE, root, os.path.join(root, "data"), 8, 10)
        os.makedirs(runs["pretrain"].model_dir)
        model = os.path.join(runs["pretrain"].model_dir, "model.keras")
        with open(model, "w") as f:
            f.write("pretrained")
        snapshot = recipes.save_encoder_snapshot(runs)
        self.assertEqual(snapshot, runs["dkd"].init_encoder_from)
        with open(model, "w") as f:
            f.write("baseline")
        recipes.save_encoder_snapshot(runs)  # a rerun keeps the first snapshot
        with open(snapshot) as f:
            self.assertEqual(f.read(), "pretrained")

    def test_the_mobile_recipe_pairs_a_small_f_with_the_reference_p(self):
        dkd = recipes.runs(recipes.MOBILE, "/o", "/o/d", 8, 10)["dkd"]
        reference_p = presets.verify("reference")["names"]["baseline"]
        self.assertEqual(reference_p, "Baseline(ResNet18-w32)")
        self.assertEqual((dkd.initializer_backbone, dkd.initializer_width,
                          dkd.initializer_deconv_filters), ("resnet18", 32, 128))
        self.assertEqual((dkd.encoder_backbone, dkd.deconv_filters, dkd.kernel_channels),
                         ("mobilenetv3_small", 64, 32))

    def test_an_unknown_initializer_preset_is_refused(self):
        recipe = dataclasses.replace(recipes.MOBILE, initializer_preset="no_such_preset")
        with self.assertRaisesRegex(presets.PresetError, "no preset named"):
            recipes.runs(recipe, "/o", "/o/d", 8, 10)
