"""Every setting of a training run, declared once: TrainConfig's fields.

Each field carries, as metadata, its --flag help and its kind, from which dkd_tf.train defines
the flags, dkd_tf.training.run_state decides what a resumed run may change, training.build_model passes
the model's arguments and dkd_tf.serving.manifest records the architecture:

- ARCHITECTURE: defines the network, its weights' meaning or what the checkpoints were trained on
  (the optimizer too: its slot variables are in the checkpoints); never changed in a resumed run.
- SAFE: how a run proceeds from here; may change in a resumed run when named in
  --allow_changes (logged).
- RUN: how this process runs, not what it trains; never compared.

model=True: an argument of models.dkd.DKD of the same name (freeze_initializer is passed as
initializer_trainable = not it); manifest=True: recorded in an export's manifest (model section).
This module imports nothing heavy, so the commands can validate settings before TensorFlow loads.
"""
from __future__ import annotations

import dataclasses
import json
import os

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
ARCHITECTURE, SAFE, RUN = "architecture", "safe", "run"
OPTIMIZERS = ("rmsprop", "adam")  # --optimizer's choices
KINDS = (ARCHITECTURE, SAFE, RUN)


def setting(default, kind: str, help_: str, model: bool = False, manifest: bool = False):
    """A TrainConfig field with its help and kind (module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    return dataclasses.field(default=default, metadata={"help": help_, "kind": kind,
                                                        "model": model, "manifest": manifest})


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run (the absl flags of dkd_tf.train are these fields)."""

    model_dir: str = setting("runs/dkd", RUN,
        "Directory for config.json, checkpoints/, logs/ (TensorBoard) and model.keras.")
    dataset: str = setting("synthetic", ARCHITECTURE,
        "Data set reader: synthetic | penn_action | sub_jhmdb | mpii.")
    data_dir: str = setting("data/synthetic", SAFE,
        "Root of the data set in its official layout (docs/data.md).")
    split: int = setting(1, ARCHITECTURE,
        "Sub-JHMDB split (1, 2 or 3).")
    synthetic_videos: int = setting(64, SAFE,
        "Videos to generate when --dataset=synthetic and data_dir is empty.")
    synthetic_frames: int = setting(40, SAFE,
        "Frames per generated synthetic video.")
    synthetic_face_cue: bool = setting(False, SAFE,
        "Synthetic set drawn with a face on the front of each head (a front/back cue); "
        "a set on disk drawn otherwise is refused.")
    synthetic_side_cue: bool = setting(False, SAFE,
        "Synthetic set drawn with a white stripe down each left limb (left/right "
        "visible in one frame; needs --flip_prob=0); a set on disk drawn otherwise is "
        "refused.")
    variant: str = setting("dkd", ARCHITECTURE,
        "dkd | wo_tat | wo_pkd | baseline (Table 1 rows).", model=True)
    initializer_backbone: str = setting("resnet101", ARCHITECTURE,
        "Backbone of the pose initializer P: resnet18|34|50|101, "
        "mobilenetv3_small|large.", model=True, manifest=True)
    encoder_backbone: str = setting("resnet18", ARCHITECTURE,
        "Backbone of the frame encoder F and of D (and of the single-frame network of "
        "baseline / wo_pkd).", model=True, manifest=True)
    initializer_width: int = setting(64, ARCHITECTURE,
        "First-stage width of a ResNet-18/34 initializer (64 = standard).",
        model=True, manifest=True)
    encoder_width: int = setting(64, ARCHITECTURE,
        "First-stage width of a ResNet-18/34 encoder (64 = standard).", model=True, manifest=True)
    backbone_weights: str = setting("", ARCHITECTURE,
        "'' (random), 'imagenet' (keras.applications backbones), 'movenet' (the "
        "movenet_* networks start from MoveNet's published weights, fetched and checked"
        " by dkd_tf.pretrained) or a file.")
    init_initializer_from: str = setting("", ARCHITECTURE,
        "A pretrained .keras model (e.g. MPII) whose pose network seeds P.")
    init_encoder_from: str = setting("", ARCHITECTURE,
        "A pretrained .keras model whose backbone and deconvolutions seed F.")
    init_matcher_from: str = setting("", ARCHITECTURE,
        "A trained single-frame .keras model (a Baseline) whose 1x1 classifier seeds "
        "DKD's matching head (needs --kernel_residual, --distillator_output=linear): "
        "later frames start as its heatmaps.")
    deconv_filters: int = setting(256, ARCHITECTURE,
        "Channels of the two deconvolution layers (256 in the paper).", model=True, manifest=True)
    initializer_deconv_filters: int = setting(0, ARCHITECTURE,
        "Deconvolution channels of P when they differ from F's (a mobile F with a "
        "bigger P); 0 = --deconv_filters.", model=True, manifest=True)
    kernel_size: int = setting(7, ARCHITECTURE,
        "S, spatial size of the distilled pose kernels (7).", model=True, manifest=True)
    kernel_channels: int = setting(256, ARCHITECTURE,
        "C, channels of the distilled kernel bases (256).", model=True, manifest=True)
    distillator_pools: int = setting(2, ARCHITECTURE,
        "2x2 max-pools in Phi: 2 (the paper, 256-px crops) or 1 (128-px crops, whose "
        "two-pool map is smaller than S).", model=True, manifest=True)
    distillator_output: str = setting("relu", ARCHITECTURE,
        "What ends Phi: relu (BN + ReLU: non-negative kernels, which can only blur) or "
        "linear (BN alone: signed kernels).", model=True, manifest=True)
    kernel_residual: bool = setting(False, ARCHITECTURE,
        "Match with the distilled kernels plus a centred unit tap, so the static 1x1 "
        "classifier U V is the matching head's starting point.", model=True, manifest=True)
    eta: float = setting(0.1, ARCHITECTURE,
        "Weight of the adversarial term in L_G, eq. 5 (0.1); 0 disables TAT.", model=True)
    gamma: float = setting(0.1, SAFE,
        "Update rate of lambda, eq. 7 (0.1).", model=True)
    discriminator_scale: float = setting(1.0, ARCHITECTURE,
        "Input scale of the temporal discriminator: 1.0 as in the paper, 0.5 or 0.25 to"
        " cut its cost on CPUs.", model=True)
    foreground_weight: float = setting(0.0, SAFE,
        "Pose-loss weight of pixels near joints (0: plain l2, the paper).", model=True)
    encoder_input_scale: float = setting(1.0, ARCHITECTURE,
        "F (and a single-frame variant's network) reads the frame scaled by this: 1, "
        "0.5 or 0.25 (P keeps --input_size; F's heatmaps are upsampled to P's grid), so"
        " a phone pays F's cost at a lower resolution.", model=True, manifest=True)
    freeze_initializer: bool = setting(False, ARCHITECTURE,
        "Keep P as seeded (--init_initializer_from or --backbone_weights): frozen "
        "weights, batch norm in inference mode; F, Phi and the matching head train.", model=True)
    input_size: int = setting(256, ARCHITECTURE,
        "Side of the square person crop fed to the network (256).")
    clip_length: int = setting(5, SAFE,
        "T, consecutive frames per training clip (5).")
    sigma: float = setting(1.0, SAFE,
        "Std of the Gaussian heatmap targets, in heatmap cells (stride 8).")
    batch_size: int = setting(8, SAFE,
        "Clips per replica per step.")
    epochs: int = setting(40, SAFE,
        "Training epochs (40).")
    clips_per_epoch: int = setting(0, SAFE,
        "Clips per epoch; 0 = every clip of every training video once.")
    optimizer: str = setting("rmsprop", ARCHITECTURE,
        "Optimizer of the generator and of D: rmsprop (the paper) | adam.")
    learning_rate: float = setting(5e-4, SAFE,
        "Initial RMSprop learning rate of both optimizers (5e-4).")
    lr_decay_epochs: tuple = setting((15, 25), SAFE,
        "Epochs at which the learning rate is multiplied by lr_decay_factor.")
    lr_decay_factor: float = setting(0.1, SAFE,
        "Learning-rate multiplier at each decay epoch (0.1).")
    scale_min: float = setting(0.8, SAFE,
        "Smallest random scale factor (0.8).")
    scale_max: float = setting(1.4, SAFE,
        "Largest random scale factor (1.4).")
    max_rotation: float = setting(40.0, SAFE,
        "Random rotation range in degrees, +- (40).")
    rotation_prob: float = setting(0.6, SAFE,
        "Probability that a clip is rotated at all.")
    flip_prob: float = setting(0.5, SAFE,
        "Probability of a horizontal flip (joints are swapped left/right).")
    max_translation: float = setting(0.0, SAFE,
        "Random shift of the crop centre, +- this fraction of the person size (0 = the "
        "paper; 0.1 makes a follow-the-keypoints stream robust).")
    strategy: str = setting("default", RUN,
        "tf.distribute strategy: default | mirrored | multi_worker (TF_CONFIG) | tpu.")
    tpu: str = setting("", RUN,
        "TPU name or address for --strategy=tpu ('' = local).")
    seed: int = setting(0, SAFE,
        "Random seed (data order, augmentation, initialization, synthetic data).")
    verbose: int = setting(1, RUN,
        "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.")

    def save(self, model_dir):
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, CONFIG_FILE), "w") as f:
            json.dump(dataclasses.asdict(self), f, indent=2)

    @classmethod
    def load(cls, model_dir) -> "TrainConfig":
        path = os.path.join(model_dir, CONFIG_FILE)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no training config; is {model_dir!r} a model "
                                    "directory written by dkd_tf.train?")
        with open(path) as f:
            raw = json.load(f)
        known = {f.name for f in dataclasses.fields(cls)}
        raw = {k: v for k, v in raw.items() if k in known}
        if "lr_decay_epochs" in raw:
            raw["lr_decay_epochs"] = tuple(raw["lr_decay_epochs"])
        return cls(**raw)


def fields_of_kind(kind: str) -> tuple:
    """Names of the settings of one kind, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(TrainConfig) if f.metadata["kind"] == kind)


def help_of(name: str) -> str:
    return next(f.metadata["help"] for f in dataclasses.fields(TrainConfig) if f.name == name)


def model_kwargs(cfg: TrainConfig) -> dict:
    """The DKD constructor arguments the settings give (model=True fields)."""
    out = {}
    for f in dataclasses.fields(TrainConfig):
        if f.metadata["model"]:
            value = getattr(cfg, f.name)
            if f.name == "freeze_initializer":
                out["initializer_trainable"] = not value
            else:
                out[f.name] = value
    return out


MANIFEST_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.metadata["manifest"])
