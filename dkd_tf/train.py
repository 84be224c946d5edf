"""Train a DKD model: `python -m dkd_tf.train --flagfile configs/subjhmdb.flags`.

Every TrainConfig field is a flag of the same name. Re-running the same command after a kill
resumes from the last finished epoch (see dkd_tf.training).
"""
from __future__ import annotations

import dataclasses
import json
import sys

from absl import flags

from dkd_tf import cli_errors, run_state, training

HELP = {
    "model_dir": "Directory for config.json, checkpoints/, logs/ (TensorBoard) and model.keras.",
    "dataset": "Data set reader: synthetic | penn_action | sub_jhmdb | mpii.",
    "data_dir": "Root of the data set in its official layout (docs/data.md).",
    "split": "Sub-JHMDB split (1, 2 or 3).",
    "synthetic_videos": "Videos to generate when --dataset=synthetic and data_dir is empty.",
    "synthetic_frames": "Frames per generated synthetic video.",
    "synthetic_face_cue": "Synthetic set drawn with a face on the front of each head (a "
                          "front/back cue); a set on disk drawn otherwise is refused.",
    "synthetic_side_cue": "Synthetic set drawn with a white stripe down each left limb (left/"
                          "right visible in one frame; needs --flip_prob=0); a set on disk "
                          "drawn otherwise is refused.",
    "variant": "dkd | wo_tat | wo_pkd | baseline (Table 1 rows).",
    "initializer_backbone": "Backbone of the pose initializer P: resnet18|34|50|101, "
                            "mobilenetv3_small|large.",
    "encoder_backbone": "Backbone of the frame encoder F and of D (and of the single-frame "
                        "network of baseline / wo_pkd).",
    "initializer_width": "First-stage width of a ResNet-18/34 initializer (64 = standard).",
    "encoder_width": "First-stage width of a ResNet-18/34 encoder (64 = standard).",
    "backbone_weights": "'' (random), 'imagenet' (keras.applications backbones), 'movenet' "
                        "(the movenet_* networks start from MoveNet's published weights, fetched "
                        "and checked by dkd_tf.pretrained) or a file.",
    "init_initializer_from": "A pretrained .keras model (e.g. MPII) whose pose network seeds P.",
    "init_encoder_from": "A pretrained .keras model whose backbone and deconvolutions seed F.",
    "init_matcher_from": "A trained single-frame .keras model (a Baseline) whose 1x1 classifier "
                         "seeds DKD's matching head (needs --kernel_residual, "
                         "--distillator_output=linear): later frames start as its heatmaps.",
    "deconv_filters": "Channels of the two deconvolution layers (256 in the paper).",
    "initializer_deconv_filters": "Deconvolution channels of P when they differ from F's (a "
                                  "mobile F with a bigger P); 0 = --deconv_filters.",
    "kernel_size": "S, spatial size of the distilled pose kernels (7).",
    "kernel_channels": "C, channels of the distilled kernel bases (256).",
    "distillator_pools": "2x2 max-pools in Phi: 2 (the paper, 256-px crops) or 1 (128-px "
                         "crops, whose two-pool map is smaller than S).",
    "distillator_output": "What ends Phi: relu (BN + ReLU: non-negative kernels, which can only "
                          "blur) or linear (BN alone: signed kernels).",
    "kernel_residual": "Match with the distilled kernels plus a centred unit tap, so the static "
                       "1x1 classifier U V is the matching head's starting point.",
    "eta": "Weight of the adversarial term in L_G, eq. 5 (0.1); 0 disables TAT.",
    "gamma": "Update rate of lambda, eq. 7 (0.1).",
    "discriminator_scale": "Input scale of the temporal discriminator: 1.0 as in the paper, "
                           "0.5 or 0.25 to cut its cost on CPUs.",
    "foreground_weight": "Pose-loss weight of pixels near joints (0: plain l2, the paper).",
    "encoder_input_scale": "F (and a single-frame variant's network) reads the frame scaled "
                           "by this: 1, 0.5 or 0.25 (P keeps --input_size; F's heatmaps are "
                           "upsampled to P's grid), so a phone pays F's cost at a lower "
                           "resolution.",
    "freeze_initializer": "Keep P as seeded (--init_initializer_from or --backbone_weights): "
                          "frozen weights, batch norm in inference mode; F, Phi and the "
                          "matching head train.",
    "input_size": "Side of the square person crop fed to the network (256).",
    "clip_length": "T, consecutive frames per training clip (5).",
    "sigma": "Std of the Gaussian heatmap targets, in heatmap cells (stride 8).",
    "batch_size": "Clips per replica per step.",
    "epochs": "Training epochs (40).",
    "clips_per_epoch": "Clips per epoch; 0 = every clip of every training video once.",
    "optimizer": "Optimizer of the generator and of D: rmsprop (the paper) | adam.",
    "learning_rate": "Initial RMSprop learning rate of both optimizers (5e-4).",
    "lr_decay_epochs": "Epochs at which the learning rate is multiplied by lr_decay_factor.",
    "lr_decay_factor": "Learning-rate multiplier at each decay epoch (0.1).",
    "scale_min": "Smallest random scale factor (0.8).",
    "scale_max": "Largest random scale factor (1.4).",
    "max_rotation": "Random rotation range in degrees, +- (40).",
    "rotation_prob": "Probability that a clip is rotated at all.",
    "flip_prob": "Probability of a horizontal flip (joints are swapped left/right).",
    "max_translation": "Random shift of the crop centre, +- this fraction of the person size "
                       "(0 = the paper; 0.1 makes a follow-the-keypoints stream robust).",
    "strategy": "tf.distribute strategy: default | mirrored | multi_worker (TF_CONFIG) | tpu.",
    "tpu": "TPU name or address for --strategy=tpu ('' = local).",
    "seed": "Random seed (data order, augmentation, initialization, synthetic data).",
    "verbose": "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.",
}


def define_flags():
    defined = set()
    for field in dataclasses.fields(training.TrainConfig):
        if field.name in flags.FLAGS:  # already defined (evaluate imports these too)
            continue
        defined.add(field.name)
        default, name, help_ = field.default, field.name, HELP[field.name]
        if isinstance(default, bool):
            flags.DEFINE_bool(name, default, help_)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, help_)
        elif isinstance(default, tuple):
            flags.DEFINE_list(name, [str(v) for v in default], help_)
        else:
            flags.DEFINE_string(name, default, help_)
    if "input_size" in defined:
        # Validated when the flags are parsed, not as a shape error deep inside the first step.
        flags.register_validator("input_size", lambda v: run_state.input_size_problem(v) is None,
                                 message=run_state.INPUT_SIZE_RULE)


def config_from_flags() -> training.TrainConfig:
    values = {}
    for field in dataclasses.fields(training.TrainConfig):
        value = flags.FLAGS[field.name].value
        if isinstance(field.default, tuple):
            value = tuple(int(v) for v in value)
        values[field.name] = value
    return training.TrainConfig(**values)


def dry_run(cfg, allow_changes=()) -> None:
    """Validate every setting (and, for a run with checkpoints, the comparison with its
    config.json) without writing anything; print the resolved config."""
    missing = run_state.validate_config(cfg, paths=False)
    changes = run_state.check_resume(cfg, allow_changes)
    for field, problem in missing:  # not fatal here: the data may live on the training machine
        print(f"warning: --{field}={getattr(cfg, field)}: {problem} (training here would fail)",
              file=sys.stderr)
    print(json.dumps(dataclasses.asdict(cfg), indent=2))
    if run_state.has_checkpoints(cfg.model_dir):
        print(f"{cfg.model_dir}: would resume"
              + (" with these allowed changes:\n" + run_state.format_differences(changes)
                 if changes else " with the stored settings"))


def main(argv):
    del argv
    cfg = config_from_flags()
    allow = [a for a in flags.FLAGS.allow_changes if a]
    if flags.FLAGS.dry_run:
        dry_run(cfg, allow)
        return 0
    training.run_training(cfg, allow_changes=allow)
    return 0


def define_cli_flags():
    flags.DEFINE_bool("dry_run", False, "Validate every flag (and the comparison with the "
                      "config.json of a run being resumed), print the resolved training config "
                      "as JSON and exit; writes nothing.")
    flags.DEFINE_list("allow_changes", [], "Resume a run although these safe settings differ "
                      "from its config.json (e.g. epochs,learning_rate); each change is logged. "
                      "Architecture settings can never change in a resumed run. Allowed: "
                      + ", ".join(run_state.SAFE_FIELDS) + ".")


if __name__ == "__main__":
    define_flags()
    define_cli_flags()
    cli_errors.run(main)
