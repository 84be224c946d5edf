"""Named training recipes: a Baseline and a DKD with the same frame encoder, as TrainConfigs.

Every recipe trains three runs in `out_dir/runs/`:
  pretrain   the single-frame network (Baseline variant), its first epochs; a snapshot of it
             seeds DKD's frame encoder F, as the paper seeds F with single-frame pretraining;
  baseline   the same run trained on: Baseline(F's backbone); it also seeds DKD's pose
             initializer P (P has F's size here, so DKD's edge comes from the distilled kernels,
             not from a bigger initializer);
  dkd        DKD fine-tuned from those seeds with Algorithm 1 (P, F, Phi, matching head, D);
             both frame encoders end up having trained on the same number of frames.

'quick' is `make demo`'s from-scratch pair (minutes); 'reference' produces the shipped preset
(`python -m dkd_tf.demo --recipe reference --ship`, about 90 minutes on a 2-core CPU).
"""
from __future__ import annotations

import dataclasses
import os
import shutil

from dkd_tf.training import trainer
from dkd_tf.models import dkd as dkd_model

ENCODER_SNAPSHOT = "encoder_pretrained.keras"
# The synthetic set every recipe trains on and the presets are evaluated on (its test split).
DATA = {"videos": 256, "frames": 40}  # 192 train, 64 held out


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A recipe: shared TrainConfig fields, then per-run lengths (epochs of `clips_per_epoch`).

    baseline_overrides apply to the single-frame runs only (e.g. single frames instead of clips:
    a single-frame network gains nothing from five near-identical consecutive frames).
    """

    name: str
    label: str  # the encoder's name in tables, e.g. 'ResNet18-w16'
    common: dict
    pretrain_epochs: int
    baseline_epochs: int  # after the pretraining snapshot; the last ones at lr x decay
    dkd_epochs: int
    baseline_overrides: dict = dataclasses.field(default_factory=dict)
    dkd_overrides: dict = dataclasses.field(default_factory=dict)
    decay_epochs: tuple = (1, 1)  # (baseline, dkd) epochs at the end at lr x lr_decay_factor
    # A shipped preset whose Baseline seeds P instead of this recipe's own Baseline (a mobile F
    # with the reference P; the recipe's Baseline is then only a table row); '' = the recipe's
    # own Baseline seeds P.
    initializer_preset: str = ""
    ship_quantize: str = "none"  # the shipped export's --quantize (demo --ship)
    # > 0: the finished Baseline ('seed') seeds all of DKD (P, F, and the matching head through
    # --init_matcher_from, so DKD's later frames start as the Baseline's heatmaps), and the
    # Baseline row ('baseline') is that seed trained on for this many epochs (the last
    # decay_epochs[0] at lr x decay), as many frames as DKD's clips: the pair then differs only
    # in what the last, equally long stretch of training adds. 0: F from the pretraining
    # snapshot, P from the Baseline row itself.
    baseline_continue_epochs: int = 0

    def names(self) -> dict:
        return {"dkd": f"DKD({self.label})", "baseline": f"Baseline({self.label})"}


QUICK = Recipe(
    name="quick", label="ResNet18-w16",
    common=dict(dataset="synthetic", input_size=128, deconv_filters=64, kernel_size=7,
                kernel_channels=32, encoder_backbone="resnet18", encoder_width=16,
                initializer_backbone="resnet18", initializer_width=16, batch_size=8,
                clip_length=5, clips_per_epoch=400, learning_rate=1e-3,
                discriminator_scale=0.25, max_translation=0.1, verbose=2),
    pretrain_epochs=4, baseline_epochs=5, dkd_epochs=5)  # D on quarter-size images: 2.3x the
# DKD steps per second of full-size D (`bench --profile_training`), where D took half a step

# The shipped pair. What the plateau of the quick recipe (about 80 PCK by person size whatever
# its length) responded to, measured on 600-1000-step single-frame runs: width 32 (torso PCK
# 23 -> 31, wrists 26 -> 44), Adam, and the foreground weight, which keeps larger heatmaps from
# stalling at the all-zero output. Single-frame runs see single frames (16 per step, not 8 clips
# of 5 near-identical ones); both frame encoders see 64k frames in all. S = 7 as in the paper
# although Phi's two pools leave 4 x 4 cells at 128 px: S = 3 (no upsampling of the pooled map),
# measured from the same Baseline and snapshot, scored 82.1 / 43.7 against S = 7's 83.7 / 41.1.
REFERENCE = Recipe(
    name="reference", label="ResNet18-w32",
    common=dict(dataset="synthetic", input_size=128, deconv_filters=128, kernel_size=7,
                kernel_channels=64, encoder_backbone="resnet18", encoder_width=32,
                initializer_backbone="resnet18", initializer_width=32, batch_size=8,
                clip_length=5, clips_per_epoch=400, optimizer="adam", learning_rate=1e-3,
                foreground_weight=10.0, discriminator_scale=0.5, max_translation=0.1,
                verbose=2),
    baseline_overrides=dict(clip_length=1, batch_size=16, clips_per_epoch=800),
    pretrain_epochs=30, baseline_epochs=50, dkd_epochs=20, decay_epochs=(8, 3))

# The phone-sized DKD (issue: a stepper at half BlazePose-lite's time): the reference recipe's
# schedule with F = MobileNetV3-Small, its deconvolutions and C halved to 64 / 32 (at 128 / 64
# the stepper timed 0.84x BlazePose-lite, and `bench --parts` put 44 % of its MACs in F's
# deconvolutions), and P = the shipped reference Baseline (ResNet18-w32, deconvolutions 128),
# which runs once per video. The Baseline row is the single-frame MobileNetV3-Small network,
# trained on as many frames as DKD's F: the paper's small-encoder comparison.
MOBILE = dataclasses.replace(
    REFERENCE, name="mobile", label="MobileNetV3-Small",
    common={**REFERENCE.common, "encoder_backbone": "mobilenetv3_small", "deconv_filters": 64,
            "kernel_channels": 32, "initializer_deconv_filters": 128},
    initializer_preset="reference",
    ship_quantize="int8")  # the phone format: 7.6 MB against 27 MB in fp32 (its export check
# kept every keypoint within 1 px of Keras on the 30-frame parity clip)

RECIPES = {"quick": QUICK, "reference": REFERENCE, "mobile": MOBILE}


def get(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}")
    return RECIPES[name]


def _scaled(n: int, scale: float) -> int:
    return max(1, round(n * scale))


def runs(recipe: Recipe, out_dir: str, data_dir: str, videos: int, frames: int,
         epoch_scale: float = 1.0, seed: int = 0, side_cue: bool = False) -> dict:
    """{'pretrain', 'baseline', 'dkd'} -> TrainConfig of the recipe's runs under out_dir/runs.

    side_cue: train on the set drawn with data.synthetic's left-limb stripe, without flips
    (a mirrored crop would swap the stripe's side): the identity-visible ceiling."""
    data = dict(data_dir=data_dir, synthetic_videos=videos, synthetic_frames=frames,
                seed=seed, **recipe.common)
    if side_cue:
        data.update(synthetic_side_cue=True, flip_prob=0.0)
    root = os.path.join(out_dir, "runs")
    pre = _scaled(recipe.pretrain_epochs, epoch_scale)
    fine = _scaled(recipe.baseline_epochs, epoch_scale)
    dkd_epochs = _scaled(recipe.dkd_epochs, epoch_scale)
    decay_b = min(recipe.decay_epochs[0], fine)
    decay_d = min(recipe.decay_epochs[1], dkd_epochs)
    baseline = trainer.TrainConfig(model_dir=os.path.join(root, "baseline"),
                                    **{**data, **recipe.baseline_overrides}, variant="baseline",
                                    epochs=pre + fine, lr_decay_epochs=(pre + fine - decay_b,))
    out = {"pretrain": dataclasses.replace(baseline, epochs=pre)}
    encoder = os.path.join(root, ENCODER_SNAPSHOT)
    initializer = os.path.join(baseline.model_dir, trainer.MODEL_FILE)
    matcher = ""
    if recipe.baseline_continue_epochs:
        seed_run = dataclasses.replace(baseline, model_dir=os.path.join(root, "seed"))
        out = {"pretrain": dataclasses.replace(seed_run, epochs=pre), "seed": seed_run}
        encoder = initializer = matcher = os.path.join(seed_run.model_dir, trainer.MODEL_FILE)
        more = _scaled(recipe.baseline_continue_epochs, epoch_scale)
        baseline = dataclasses.replace(baseline, epochs=more,
                                       lr_decay_epochs=(more - min(recipe.decay_epochs[0], more),),
                                       init_initializer_from=encoder)
    if recipe.initializer_preset:
        from dkd_tf import presets  # verified first: a changed preset file is refused
        # Relative, as the runs' other paths are: a shipped config names no machine's folders.
        initializer = os.path.relpath(os.path.join(
            presets.member_dir(recipe.initializer_preset, "baseline"), trainer.MODEL_FILE))
    dkd = trainer.TrainConfig(model_dir=os.path.join(root, "dkd"),
                               **{**data, **recipe.dkd_overrides}, variant="dkd",
                               epochs=dkd_epochs, lr_decay_epochs=(dkd_epochs - decay_d,),
                               init_initializer_from=initializer, init_encoder_from=encoder,
                               init_matcher_from=matcher)
    return {**out, "baseline": baseline, "dkd": dkd}


def stages(runs: dict) -> list:
    """The runs' keys in training order, each after the runs that seed it (ablation rows, which
    DKD's seeds seed, last)."""
    first = [k for k in ("pretrain", "seed", "baseline", "dkd") if k in runs]
    return first + [k for k in runs if k not in first]


def uses_encoder_snapshot(runs: dict) -> bool:
    return os.path.basename(runs["dkd"].init_encoder_from) == ENCODER_SNAPSHOT


def save_encoder_snapshot(runs: dict) -> str:
    """After the pretraining run: keep its model as ENCODER_SNAPSHOT beside the runs (once; a
    rerun finds it), before the Baseline's epochs replace that run's model.keras."""
    snapshot = os.path.join(os.path.dirname(runs["dkd"].model_dir), ENCODER_SNAPSHOT)
    if not os.path.exists(snapshot):
        shutil.copyfile(os.path.join(runs["pretrain"].model_dir, trainer.MODEL_FILE), snapshot)
    return snapshot


# Tables 1 and 2 of the paper as rows trained from one recipe's seeds. Every row after the
# Baseline is fine-tuned like DKD (same epochs, clips and seeds): w/o-PKD is F with a pixel
# classifier and TAT (F's snapshot seeds it), w/o-TAT is DKD without D, w-SAT swaps D for a
# spatial adversary, w-LSTM swaps Phi and the matching head for a ConvLSTM.
ABLATIONS = ("baseline", "wo_pkd", "wo_tat", "dkd", "w_sat", "w_lstm")
ABLATION_LABELS = {"baseline": "Baseline", "wo_pkd": "w/o-PKD", "wo_tat": "w/o-TAT",
                   "dkd": "DKD", "w_sat": "w-SAT", "w_lstm": "w-LSTM"}


def ablation_runs(recipe: Recipe, out_dir: str, data_dir: str, videos: int, frames: int,
                  epoch_scale: float = 1.0, seed: int = 0) -> dict:
    """runs() plus one TrainConfig per ABLATIONS row (keys: 'pretrain' and the row variants)."""
    base = runs(recipe, out_dir, data_dir, videos, frames, epoch_scale, seed)
    dkd = base["dkd"]
    root = os.path.dirname(dkd.model_dir)
    out = dict(base)
    for variant in ABLATIONS:
        if variant in out:
            continue
        cfg = dataclasses.replace(dkd, variant=variant, model_dir=os.path.join(root, variant))
        if variant == "wo_pkd":  # one per-frame network, seeded as F is
            cfg = dataclasses.replace(cfg, init_initializer_from="")
        if variant not in dkd_model.KERNEL_MATCHING_VARIANTS:  # no kernel-matching head to seed
            cfg = dataclasses.replace(cfg, init_matcher_from="")
        out[variant] = cfg
    return out
