"""Every setting of a training run, declared once: TrainConfig's fields.

Each field carries, as metadata, its --flag help and its kind, from which dkd_tf.train defines
the flags, dkd_tf.training.run_state decides what a resumed run may change, training.build_model passes
the model's arguments and dkd_tf.serving.manifest records the architecture:

- ARCHITECTURE: defines the network, its weights' meaning or what the checkpoints were trained on
  (the optimizer too: its slot variables are in the checkpoints); never changed in a resumed run.
- SAFE: how a run proceeds from here; may change in a resumed run when named in
  --allow_changes (logged).
- RUN: how this process runs, not what it trains; never compared.

model=True: an argument of models.dkd.DKD of the same name (freeze_initializer and freeze_encoder
are passed as initializer_trainable and encoder_trainable = not it); manifest=True: recorded in
an export's manifest (model section).
This module imports nothing heavy, so the commands can validate settings before TensorFlow loads.
"""
from __future__ import annotations

import dataclasses
import json
import os

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
ARCHITECTURE, SAFE, RUN = "architecture", "safe", "run"
KINDS = (ARCHITECTURE, SAFE, RUN)

# The choices of the settings that name a registry entry. The registries (data.datasets,
# models.dkd, models.backbones, models.distillator, training.run_state) import them from here, so
# a command checks a choice before TensorFlow loads; tests build every one.
DATASETS = ("synthetic", "penn_action", "sub_jhmdb", "mpii", "lsp", "lsp_extended")
VARIANTS = ("dkd", "wo_tat", "wo_pkd", "baseline", "w_sat", "w_lstm")
TEMPORAL_VARIANTS = ("dkd", "wo_tat", "w_sat", "w_lstm")  # P on frame 1, F on the others
BACKBONES = ("resnet10", "resnet18", "resnet34", "resnet50", "resnet101", "mobilenetv3_small",
             "mobilenetv3_large", "movenet_lightning", "movenet_thunder")
DISTILLATOR_OUTPUTS = ("relu", "linear")  # what ends Phi: BN + ReLU (Fig. 2c read literally) or BN
DISTILLATOR_POOLS = (0, 1, 2)  # 2x2 max-pools Phi may have (2: the paper's)
OPTIMIZERS = ("rmsprop", "adam")
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def setting(default, kind: str, help_: str, model: bool = False, manifest: bool = False,
            choices: tuple | None = None, at_least=None, above=None, at_most=None):
    """A TrainConfig field with its help, kind (module docstring) and the rule its value alone
    must follow: one of `choices`, and/or >= at_least, > above, <= at_most. The --flag's help
    names the choices; field_problem checks the rule (flags at parse time, run_state for any
    config). Rules that relate two settings live in run_state.config_problems."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    if choices:
        help_ += f" One of: {', '.join(map(str, choices))}."
    return dataclasses.field(default=default, metadata={
        "help": help_, "kind": kind, "model": model, "manifest": manifest,
        "choices": tuple(choices) if choices else None,
        "at_least": at_least, "above": above, "at_most": at_most})


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run (the absl flags of dkd_tf.train are these fields)."""

    model_dir: str = setting("runs/dkd", RUN,
        "Directory for config.json, checkpoints/, logs/ (TensorBoard) and model.keras.")
    dataset: str = setting("synthetic", ARCHITECTURE,
        "Data set reader.",
        choices=DATASETS)
    data_dir: str = setting("data/synthetic", SAFE,
        "Root of the data set in its official layout (docs/data.md).")
    split: int = setting(1, ARCHITECTURE,
        "Sub-JHMDB split.",
        choices=(1, 2, 3))
    synthetic_videos: int = setting(64, SAFE,
        "Videos to generate when --dataset=synthetic and data_dir is empty.",
        at_least=1)
    synthetic_frames: int = setting(40, SAFE,
        "Frames per generated synthetic video.",
        at_least=1)
    synthetic_face_cue: bool = setting(False, SAFE,
        "Synthetic set drawn with a face on the front of each head (a front/back cue); "
        "a set on disk drawn otherwise is refused.")
    synthetic_side_cue: bool = setting(False, SAFE,
        "Synthetic set drawn with a white stripe down each left limb (left/right "
        "visible in one frame; needs --flip_prob=0); a set on disk drawn otherwise is "
        "refused.")
    variant: str = setting("dkd", ARCHITECTURE,
        "Which network (Table 1 rows; w_sat, w_lstm: the paper's alternatives).", model=True,
        choices=VARIANTS)
    initializer_backbone: str = setting("resnet101", ARCHITECTURE,
        "Backbone of the pose initializer P.", model=True, manifest=True,
        choices=BACKBONES)
    encoder_backbone: str = setting("resnet18", ARCHITECTURE,
        "Backbone of the frame encoder F and of D (and of the single-frame network of "
        "baseline / wo_pkd).", model=True, manifest=True,
        choices=BACKBONES)
    initializer_width: int = setting(64, ARCHITECTURE,
        "First-stage width of a ResNet-10/18/34 initializer (64 = standard).",
        model=True, manifest=True,
        at_least=1)
    encoder_width: int = setting(64, ARCHITECTURE,
        "First-stage width of a ResNet-10/18/34 encoder (64 = standard).", model=True,
        manifest=True, at_least=1)
    backbone_weights: str = setting("", ARCHITECTURE,
        "'' (random), 'imagenet' (keras.applications backbones), 'movenet' (the "
        "movenet_* networks start from MoveNet's published weights, fetched and checked"
        " by dkd_tf.pretrained) or a file.")
    init_from: str = setting("", ARCHITECTURE,
        "A trained .keras model of the same variant (a preset member's or a run's) whose "
        "networks seed all of this run's (P, F, Phi, matching head; D starts afresh): "
        "fine-tuning it on other clips, or with a setting that keeps every weight's "
        "shape (--encoder_stride4). Not with the other --init_*_from.")
    init_initializer_from: str = setting("", ARCHITECTURE,
        "A pretrained .keras model (e.g. MPII) whose pose network seeds P.")
    init_encoder_from: str = setting("", ARCHITECTURE,
        "A pretrained .keras model whose backbone and deconvolutions seed F.")
    init_matcher_from: str = setting("", ARCHITECTURE,
        "A trained single-frame .keras model (a Baseline) whose 1x1 classifier seeds "
        "DKD's matching head (needs --kernel_residual, --distillator_output=linear): "
        "later frames start as its heatmaps.")
    deconv_filters: int = setting(256, ARCHITECTURE,
        "Channels of the two deconvolution layers (256 in the paper).", model=True, manifest=True,
        at_least=1)
    initializer_deconv_filters: int = setting(0, ARCHITECTURE,
        "Deconvolution channels of P when they differ from F's (a mobile F with a "
        "bigger P); 0 = --deconv_filters.", model=True, manifest=True,
        at_least=0)
    kernel_size: int = setting(7, ARCHITECTURE,
        "S, spatial size of the distilled pose kernels (7).", model=True, manifest=True,
        at_least=1)
    kernel_channels: int = setting(256, ARCHITECTURE,
        "C, channels of the distilled kernel bases (256).", model=True, manifest=True,
        at_least=1)
    distillator_pools: int = setting(2, ARCHITECTURE,
        "2x2 max-pools in Phi: 2 (the paper, 256-px crops) or 1 (128-px crops, whose "
        "two-pool map is smaller than S).", model=True, manifest=True,
        choices=DISTILLATOR_POOLS)
    distillator_output: str = setting("relu", ARCHITECTURE,
        "What ends Phi: relu (BN + ReLU: non-negative kernels, which can only blur) or "
        "linear (BN alone: signed kernels).", model=True, manifest=True,
        choices=DISTILLATOR_OUTPUTS)
    kernel_residual: bool = setting(False, ARCHITECTURE,
        "Match with the distilled kernels plus a centred unit tap, so the static 1x1 "
        "classifier U V is the matching head's starting point.", model=True, manifest=True)
    eta: float = setting(0.1, ARCHITECTURE,
        "Weight of the adversarial term in L_G, eq. 5 (0.1); 0 disables TAT.", model=True,
        at_least=0)
    gamma: float = setting(0.1, SAFE,
        "Update rate of lambda, eq. 7 (0.1).", model=True,
        at_least=0)
    discriminator_scale: float = setting(1.0, ARCHITECTURE,
        "Input scale of the temporal discriminator: 1.0 as in the paper, 0.5 or 0.25 to"
        " cut its cost on CPUs.", model=True,
        above=0, at_most=1)
    foreground_weight: float = setting(0.0, SAFE,
        "Pose-loss weight of pixels near joints (0: plain l2, the paper).", model=True,
        at_least=0)
    encoder_input_scale: float = setting(1.0, ARCHITECTURE,
        "F (and a single-frame variant's network) reads the frame scaled by this: 1, "
        "0.5 or 0.25 (P keeps --input_size; F's heatmaps are upsampled to P's grid), so"
        " a phone pays F's cost at a lower resolution.", model=True, manifest=True,
        choices=(1.0, 0.5, 0.25))
    encoder_stride4: bool = setting(False, ARCHITECTURE,
        "F (a movenet_* encoder, --encoder_input_scale 0.5 or 0.25) keeps MoveNet's "
        "stride-4 keypoint maps unpooled: at 0.5 its heatmaps are read out on P's grid, "
        "twice as fine, while Phi still reads them pooled to stride 8 of F's input.",
        model=True, manifest=True)
    freeze_initializer: bool = setting(False, ARCHITECTURE,
        "Keep P as seeded (--init_initializer_from or --backbone_weights): frozen "
        "weights, batch norm in inference mode; F, Phi and the matching head train.", model=True)
    freeze_encoder: bool = setting(False, ARCHITECTURE,
        "Keep F as seeded (--init_encoder_from, e.g. the trained Baseline): frozen weights, "
        "batch norm in inference mode; Phi and the matching head train, so DKD's frames are "
        "read by exactly its Baseline's F.", model=True)
    input_size: int = setting(256, ARCHITECTURE,
        "Side of the square person crop fed to the network (256).")
    clip_length: int = setting(5, SAFE,
        "T, consecutive frames per training clip (5).",
        at_least=1)
    sigma: float = setting(1.0, SAFE,
        "Std of the Gaussian heatmap targets, in heatmap cells (stride 8).",
        above=0)
    batch_size: int = setting(8, SAFE,
        "Clips per replica per step.",
        at_least=1)
    epochs: int = setting(40, SAFE,
        "Training epochs (40).",
        at_least=1)
    clips_per_epoch: int = setting(0, SAFE,
        "Clips per epoch; 0 = every clip of every training video once.",
        at_least=0)
    optimizer: str = setting("rmsprop", ARCHITECTURE,
        "Optimizer of the generator and of D (rmsprop: the paper's).",
        choices=OPTIMIZERS)
    learning_rate: float = setting(5e-4, SAFE,
        "Initial RMSprop learning rate of both optimizers (5e-4).",
        above=0)
    lr_decay_epochs: tuple = setting((15, 25), SAFE,
        "Epochs at which the learning rate is multiplied by lr_decay_factor.")
    lr_decay_factor: float = setting(0.1, SAFE,
        "Learning-rate multiplier at each decay epoch (0.1).",
        above=0)
    scale_min: float = setting(0.8, SAFE,
        "Smallest random scale factor (0.8).",
        above=0)
    scale_max: float = setting(1.4, SAFE,
        "Largest random scale factor (1.4).",
        above=0)
    max_rotation: float = setting(40.0, SAFE,
        "Random rotation range in degrees, +- (40).",
        at_least=0)
    rotation_prob: float = setting(0.6, SAFE,
        "Probability that a clip is rotated at all.",
        at_least=0, at_most=1)
    flip_prob: float = setting(0.5, SAFE,
        "Probability of a horizontal flip (joints are swapped left/right).",
        at_least=0, at_most=1)
    max_translation: float = setting(0.0, SAFE,
        "Random shift of the crop centre, +- this fraction of the person size (0 = the "
        "paper; 0.1 makes a follow-the-keypoints stream robust).",
        at_least=0)
    photometric: float = setting(0.0, SAFE,
        "Random brightness, contrast and saturation gains in 1 +- this, one draw per clip "
        "(0 = the paper; e.g. 0.4 for light the training clips lack, such as a person "
        "against the low sun).",
        at_least=0, at_most=0.9)
    strategy: str = setting("default", RUN,
        "tf.distribute strategy (multi_worker reads TF_CONFIG).",
        choices=STRATEGIES)
    tpu: str = setting("", RUN,
        "TPU name or address for --strategy=tpu ('' = local).")
    seed: int = setting(0, SAFE,
        "Random seed (data order, augmentation, initialization, synthetic data).")
    verbose: int = setting(1, RUN,
        "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.",
        choices=(0, 1, 2))

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


def field_problem(name: str, value) -> str | None:
    """Why `value` breaks the rule setting() declared for field `name` (a choice, a bound), or
    None. Needs no TensorFlow: the flags check it when they are parsed."""
    meta = _FIELDS[name].metadata
    choices = meta["choices"]
    if choices is not None:
        return None if value in choices else f"must be one of {', '.join(map(str, choices))}"
    low, above, high = meta["at_least"], meta["above"], meta["at_most"]
    if low is None and above is None and high is None:
        return None
    default = _FIELDS[name].default
    integer = low == 1 and isinstance(default, int) and not isinstance(default, bool)
    if integer:
        rule = "a positive integer"
    elif high is not None:
        rule = ("in [" + str(low) if above is None else "in (" + str(above)) + f", {high}]"
    else:
        rule = f"> {above}" if above is not None else f">= {low}"
    number = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
    ok = number and ((low is None or value >= low) and (above is None or value > above)
                     and (high is None or value <= high))
    return None if ok else f"must be {rule}"


def help_of(name: str) -> str:
    return next(f.metadata["help"] for f in dataclasses.fields(TrainConfig) if f.name == name)


# The --freeze_* settings -> (the DKD network each keeps as seeded: DKD's <network>_trainable is
# not the setting, that network as the config check names it).
FROZEN = {"freeze_initializer": ("initializer", "a pose initializer P"),
          "freeze_encoder": ("encoder", "a frame encoder F")}


def model_kwargs(cfg: TrainConfig) -> dict:
    """The DKD constructor arguments the settings give (model=True fields)."""
    out = {}
    for f in dataclasses.fields(TrainConfig):
        if f.metadata["model"]:
            value = getattr(cfg, f.name)
            if f.name in FROZEN:
                out[f"{FROZEN[f.name][0]}_trainable"] = not value
            else:
                out[f.name] = value
    return out


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
MANIFEST_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.metadata["manifest"])
