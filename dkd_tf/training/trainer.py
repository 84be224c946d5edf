"""Training: data set loading, model construction, resumable fit under a tf.distribute strategy.

`model_dir` holds everything a run produces:
  config.json         the TrainConfig (evaluation and export read the data/model settings here)
  checkpoints/        tf.train.Checkpoint per epoch: model (with lambda), both optimizers, epoch
  logs/               TensorBoard
  model.keras         the latest model, for inference (loads with safe_mode=True)
Running the same command again after a kill restores the newest checkpoint and continues from the
epoch after it, with both optimizers' step counts and lambda as they were.
"""
from __future__ import annotations

import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from dkd_tf import presets
from dkd_tf.core import joints as joints_lib
from dkd_tf.core import run_lock
from dkd_tf.training import run_state
from dkd_tf.data import datasets, frame_check, pipeline
from dkd_tf.models.dkd import DKD, KERNEL_MATCHING_VARIANTS
from dkd_tf.models.movenet import MOVENET_BACKBONES
from dkd_tf.models import model_dir as model_dir_lib
from dkd_tf.models import movenet_weights
# CONFIG_FILE and MODEL_FILE are used as training.X by many modules: imported for them too.
from dkd_tf.core.train_config import CONFIG_FILE, MODEL_FILE, OPTIMIZERS, TrainConfig, model_kwargs


def make_strategy(name: str, tpu: str = "") -> tf.distribute.Strategy:
    """default: one device; mirrored: all local GPUs (or logical CPUs); multi_worker: the cluster
    in TF_CONFIG; tpu: the TPU named by `tpu` ('' for the local one)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            logging.warning("--strategy=multi_worker without TF_CONFIG runs a one-worker cluster")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"unknown strategy {name!r}; choose default|mirrored|multi_worker|tpu")


def map_movenet(model: DKD, cfg: TrainConfig, joint_set: joints_lib.JointSet) -> int:
    """--backbone_weights movenet: every movenet_* pose network of the model (P, F, or the
    single-frame network) starts as the published MoveNet (dkd_tf.models.movenet_weights),
    its classifier mapped onto the joint set by name. Returns the layers mapped."""
    nets = [(model.initializer, cfg.initializer_backbone if model.temporal
             else cfg.encoder_backbone)]
    if model.temporal:
        nets.append((model.encoder, cfg.encoder_backbone))
    mapped = 0
    for net, backbone in nets:
        if backbone in MOVENET_BACKBONES:
            n = movenet_weights.map_into(net, backbone, joint_set)
            logging.info("%s starts from MoveNet's published weights (%s, %d layers)",
                         net.name, backbone, n)
            mapped += n
    return mapped


def build_model(cfg: TrainConfig, num_joints: int, clips=None,
                joint_set: joints_lib.JointSet | None = None) -> DKD:
    """The run's model with its seeds applied; `clips` [B, T, H, W, 3] (training frames) are
    needed only by --init_matcher_from, whose batch-norm statistics come from them."""
    weights = cfg.backbone_weights if cfg.backbone_weights not in ("", "movenet") else None
    model = DKD(num_joints=num_joints, **model_kwargs(cfg), initializer_weights=weights,
                encoder_weights=weights)
    if cfg.backbone_weights == "movenet":
        model(np.zeros((1, 2, cfg.input_size, cfg.input_size, 3), np.float32))  # build
        map_movenet(model, cfg, joint_set or datasets.joint_set_of(cfg.dataset))
    if cfg.init_from:
        seed_all(model, load_seed(cfg.init_from), cfg.init_from)
    if not model.temporal and cfg.init_initializer_from and cfg.init_encoder_from:
        raise ValueError(f"variant {cfg.variant!r} has one per-frame network: give "
                         "--init_initializer_from or --init_encoder_from, not both")
    target_joints = joint_set or datasets.joint_set_of(cfg.dataset)
    if cfg.init_initializer_from:
        source, source_joints = _seed_of(cfg.init_initializer_from)
        copy_pose_net(source, model.initializer, source_joints, target_joints)
    if cfg.init_encoder_from:
        # Single-frame variants (Baseline, w/o-PKD) are F with a classifier: F's seed is theirs.
        source, source_joints = _seed_of(cfg.init_encoder_from)
        copy_pose_net(source, model.encoder if model.temporal else model.initializer,
                      source_joints, target_joints)
    if cfg.init_matcher_from:
        if clips is None:
            raise ValueError("--init_matcher_from needs training clips for its statistics")
        seed_matcher(model, *_seed_of(cfg.init_matcher_from), clips, target_joints)
    return model


def seed_all(model: DKD, source: DKD, path: str = "") -> None:
    """--init_from: every inference network of `source` (P, F, Phi, matching head, lambda) into
    `model`, which must be the same variant with the same weight shapes; D, which shipped models
    do not keep (save_inference_model), starts afresh."""
    nets = ["initializer"] + (["encoder", "distillator", "matcher"] if model.temporal else [])
    where = f"--init_from={path}" if path else "--init_from"
    if source.variant != model.variant:
        raise ValueError(f"{where}: is a {source.variant!r} model; this run trains "
                         f"{model.variant!r}")
    for name in nets:
        theirs = [tuple(w.shape) for w in getattr(source, name).weights]
        ours = [tuple(w.shape) for w in getattr(model, name).weights]
        if theirs != ours:
            raise ValueError(f"{where}: its {name} has other weight shapes than this run's "
                             "(another architecture setting)")
    for name in nets:
        getattr(model, name).set_weights(getattr(source, name).get_weights())
    model.lam.assign(source.lam)
    logging.info("seeded %s from %s", ", ".join(nets), path or source.name)


def _classifier_of(pose_net: keras.Model):
    layer = pose_net.layers[-1]
    if not layer.name.endswith("_classifier"):
        raise ValueError(f"{pose_net.name} has no joint classifier to seed a matching head with")
    return layer


def seed_matcher(model: DKD, source: keras.Model, source_joints, clips,
                 target_joints=None) -> None:
    """Start DKD's residual matching head as the single-frame classifier of `source`.

    The matched heatmap is BN(U ((k' + delta) (*) V f)). With V's first K channels = the
    classifier's weights W, U = [I_K; 0], Phi's last batch-norm scale and offset at 0 (so
    k' = 0, which needs Phi's linear output: a ReLU would pass no gradient at 0) and BN set to
    undo its own normalization (scale = the std of W f over the training clips, offset = its
    mean + the classifier's bias), every later frame starts as exactly the single-frame
    network's heatmaps; training then adds what the distilled kernels carry. A DKD fine-tuned
    from its Baseline this way cannot start behind it."""
    if not (model.variant in KERNEL_MATCHING_VARIANTS and model.kernel_residual
            and model.distillator_output == "linear"):
        raise ValueError("--init_matcher_from seeds the matching head of --variant "
                         f"{'|'.join(KERNEL_MATCHING_VARIANTS)} with --kernel_residual and "
                         "--distillator_output=linear")
    w, b = (v.numpy() for v in _classifier_of(source).weights)  # [1, 1, D, K], [K]
    if source_joints is not None and target_joints is not None \
            and source_joints.names != target_joints.names:
        mapped = _mapped_classifier(w, b, source_joints, target_joints)
        if mapped is None:
            raise ValueError(f"classifier of {source.name} ({source_joints.name} joints) has no "
                             f"weights for every {target_joints.name} joint to seed the "
                             "matching head with")
        w, b, _ = mapped  # our joint order, joint by joint
    d, k = w.shape[2], w.shape[3]
    matcher = model.matcher
    c = matcher.channels
    if d != model.deconv_filters or k != model.num_joints or c < k:
        raise ValueError(f"classifier of {source.name} maps {d} features to {k} joints; the "
                         f"matching head reads {model.deconv_filters} features, predicts "
                         f"{model.num_joints} joints through C = {c} (>= K needed)")
    v = matcher.v.kernel.numpy()
    v[..., :k] = w
    matcher.v.kernel.assign(v)
    u = np.zeros(tuple(matcher.u.kernel.shape), np.float32)
    u[0, 0, :k, :k] = np.eye(k)
    matcher.u.kernel.assign(u)
    last_bn = [l for l in model.distillator.layers
               if isinstance(l, keras.layers.BatchNormalization)][-1]
    last_bn.gamma.assign(tf.zeros_like(last_bn.gamma))
    last_bn.beta.assign(tf.zeros_like(last_bn.beta))
    frames = tf.reshape(clips[:, 1:], (-1,) + tuple(clips.shape[2:]))
    features = model.encoder(model._shrink(frames), training=False)
    logits = tf.einsum("bhwd,dk->bhwk", features, w[0, 0])
    mean, var = tf.nn.moments(logits, axes=[0, 1, 2])
    bn = matcher.bn
    bn.moving_mean.assign(mean)
    bn.moving_variance.assign(var)
    bn.gamma.assign(tf.sqrt(var + bn.epsilon))
    bn.beta.assign(mean + b)
    logging.info("seeded the matching head with the classifier of %s", source.name)


def load_seed(path) -> DKD:
    """A seed .keras model (--init_*_from), through the model loader's file check (a corrupt
    seed is called corrupt, with its path); a preset member's is checked against its preset's
    checksums first (presets.verify_path), so a changed member never seeds a run."""
    presets.verify_path(os.path.dirname(os.path.abspath(path)))
    return model_dir_lib.load_keras(path, DKD)


def _pose_net_of(path):
    """The pose network of a seed .keras file (load_seed)."""
    return load_seed(path).initializer


def _seed_of(path):
    """(pose network, its joint set or None) of a seed .keras model; the joint set comes from
    the config.json written beside it (a run or preset folder), so a classifier trained on
    another joint set (LSP's 14) can seed ours (Penn Action's 13) joint by joint."""
    joint_set = None
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isfile(os.path.join(folder, CONFIG_FILE)):
        joint_set = datasets.joint_set_of(TrainConfig.load(folder).dataset)
    return _pose_net_of(path), joint_set


def _mapped_classifier(kernel, bias, source_joints, target_joints, keep=None):
    """A classifier's weights (kernel [..., K_s], bias [K_s]) in target_joints' order, joint by
    joint (joints.mapping): (kernel, bias, index), or None when `kernel` is not a classifier for
    source_joints. A target joint the source lacks keeps its column of `keep` (the target's
    current [kernel, bias]); without `keep`, such a joint makes it None too."""
    index = joints_lib.mapping(source_joints, target_joints)
    if kernel.shape[-1] != source_joints.num_joints:
        return None
    if keep is None:
        return None if min(index) < 0 else (kernel[..., index], bias[index], index)
    if keep[0].shape[-1] != len(index):
        return None
    k, b = np.array(keep[0]), np.array(keep[1])
    for t, s in enumerate(index):
        if s >= 0:
            k[..., t] = kernel[..., s]
            b[t] = bias[s]
    return k, b, index


def _strip_prefix(name: str) -> str:
    for prefix in ("initializer", "encoder", "pose_net"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def copy_pose_net(source: keras.Model, target: keras.Model,
                  source_joints: joints_lib.JointSet | None = None,
                  target_joints: joints_lib.JointSet | None = None) -> int:
    """Copies the layers two pose networks share (same role and weight shapes), e.g. from an
    MPII-pretrained single-frame model into P or F (sec. 4.1). A classifier for another joint
    set is copied joint by joint (joints.mapping) when both joint sets are given, the target's
    joints the source lacks keeping their weights; otherwise it is skipped, as is F's missing
    classifier. Returns the number of layers copied."""
    src = {_strip_prefix(l.name): l for l in source.layers}
    copied = 0
    for layer in target.layers:
        other = src.get(_strip_prefix(layer.name))
        if other is None or not layer.weights:
            continue
        weights = other.get_weights()
        if [w.shape for w in weights] == [tuple(v.shape) for v in layer.weights] and (
                not layer.name.endswith("_classifier") or source_joints is None
                or target_joints is None or source_joints.names == target_joints.names):
            layer.set_weights(weights)
            copied += 1
        elif layer.name.endswith("_classifier") and source_joints and target_joints:
            mapped = _mapped_classifier(weights[0], weights[1], source_joints, target_joints,
                                        keep=[v.numpy() for v in layer.weights])
            if mapped is None:
                continue
            *new, index = mapped
            layer.set_weights(new)
            copied += 1
            logging.info("mapped %s's classifier from %s to %s joints (%d of %d)", target.name,
                         source_joints.name, target_joints.name, sum(i >= 0 for i in index),
                         len(index))
    if not copied:
        raise ValueError(f"no layer of {source.name} fits {target.name}: different backbones?")
    logging.info("seeded %s with %d layers of %s", target.name, copied, source.name)
    return copied


def save_inference_model(model: DKD, path: str, input_size: int) -> DKD:
    """Save the inference part of a trained model (P, F, Phi, matching head; no discriminator,
    no optimizer state) as a .keras file: the same initialize/step graphs at a third of the size,
    for shipping (dkd_tf.presets)."""
    import numpy as np
    config = {**model.get_config(), "eta": 0.0}  # eta = 0: D is neither built nor saved
    config.pop("name", None)
    config.pop("trainable", None)
    config.pop("dtype", None)
    slim = DKD(**config)
    clip = np.zeros((1, 2, input_size, input_size, 3), np.float32)
    slim(clip)
    nets = ["initializer"] + (["encoder", "distillator", "matcher"] if model.temporal else [])
    for name in nets:
        getattr(slim, name).set_weights(getattr(model, name).get_weights())
    slim.lam.assign(model.lam)
    tmp = path + ".tmp.keras"
    slim.save(tmp)
    os.replace(tmp, path)
    return slim


def make_optimizer(cfg: TrainConfig, lr):
    """One optimizer of the run's kind (generator and D each get their own)."""
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose one of {OPTIMIZERS}")


def learning_rate_schedule(cfg: TrainConfig, steps_per_epoch: int):
    """RMSprop lr x decay_factor at each of lr_decay_epochs (paper: 5e-4, x0.1 at 15 and 25)."""
    boundaries = [int(e * steps_per_epoch) for e in cfg.lr_decay_epochs]
    values = [cfg.learning_rate * cfg.lr_decay_factor ** i for i in range(len(boundaries) + 1)]
    if not boundaries:
        return cfg.learning_rate
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the full training state and the inference model after every epoch."""

    def __init__(self, manager: tf.train.CheckpointManager, epoch_var: tf.Variable,
                 model_path: str):
        super().__init__()
        self.manager, self.epoch_var, self.model_path = manager, epoch_var, model_path
        self.model_dir = os.path.dirname(model_path)
        # Training time so far: a fresh run starts at 0; a resumed one continues its record's
        # count, or keeps none when the record has none (its earlier time is unknown).
        self.seconds = run_state.recorded_train_seconds(self.model_dir, fresh=0.0)
        self._epoch_start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_var.assign(epoch + 1)
        self.manager.save(checkpoint_number=epoch + 1)
        if self.seconds is not None and self._epoch_start is not None:
            self.seconds += time.time() - self._epoch_start
        # model.keras, then the record of its epoch; each atomic (run_state promise 1).
        run_state.write_model(self.model, self.model_dir, epoch + 1, self.seconds)


def run_training(cfg: TrainConfig, callbacks=(), allow_changes=()) -> DKD:
    """Trains (or resumes) the run in cfg.model_dir and returns the trained model.

    Before anything is written: every setting is validated (a model_dir inside the shipped
    presets is refused), the directory is locked against a second writer (dkd_tf.core.run_lock),
    the settings are compared with the config.json of a resumed run (architecture changes are
    refused, the safe ones only applied when named in allow_changes; dkd_tf.training.run_state), and every
    frame of the training videos is checked (dkd_tf.data.frame_check). A torn newest checkpoint
    falls back to the newest whole one, and model.keras is rewritten when it is not the model of
    the restored checkpoint."""
    run_state.validate_config(cfg)
    with run_lock.hold(cfg.model_dir):
        return _run_locked(cfg, callbacks, allow_changes)


def _run_locked(cfg: TrainConfig, callbacks, allow_changes) -> DKD:
    changes = run_state.check_resume(cfg, allow_changes)
    keras.utils.set_random_seed(cfg.seed)
    # Same seed, same machine, same versions -> the same weights, resumed or not (the data order
    # and draws are fixed per epoch by the pipeline). Kernels still differ across CPUs / thread
    # counts.
    tf.config.experimental.enable_op_determinism()
    joint_set, train_records = datasets.load(cfg, "train", generate=True)
    frame_check.check_frames(train_records, cfg.data_dir,
                             cache_path=os.path.join(cfg.model_dir, frame_check.CACHE_FILE))
    strategy = make_strategy(cfg.strategy, cfg.tpu)
    aug = pipeline.augmentation_of(cfg)
    global_batch = cfg.batch_size * strategy.num_replicas_in_sync
    n_clips = len(pipeline.clip_table(train_records, cfg.clip_length)["paths"])
    clips = cfg.clips_per_epoch or n_clips
    steps_per_epoch = max(1, clips // global_batch)

    def epochs_from(first_epoch):
        """The clips of epochs first_epoch..cfg.epochs-1: each epoch's order and augmentation
        depend on (seed, epoch) alone, so a resumed run trains on what an uninterrupted one
        would (pipeline.epoch_order)."""
        return pipeline.make_dataset(
            train_records, joint_set, cfg.input_size, cfg.clip_length, global_batch,
            training=True, sigma=cfg.sigma, augmentation=aug,
            clips_per_epoch=steps_per_epoch * global_batch, seed=cfg.seed,
            first_epoch=first_epoch, epochs=max(1, cfg.epochs - first_epoch))

    run_state.clean_litter(cfg.model_dir)
    clips = next(iter(epochs_from(0)))[0] if cfg.init_matcher_from else None
    with strategy.scope():
        model = build_model(cfg, joint_set.num_joints, clips, joint_set)
        lr = learning_rate_schedule(cfg, steps_per_epoch)
        model.compile(optimizer=make_optimizer(cfg, lr),
                      d_optimizer=make_optimizer(cfg, lr) if model.adversarial else None)
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        ckpt_args = {"model": model, "optimizer": model.optimizer, "epoch": epoch_var}
        if model.adversarial:
            ckpt_args["d_optimizer"] = model.d_optimizer
        ckpt = tf.train.Checkpoint(**ckpt_args)
        ckpt_dir = os.path.join(cfg.model_dir, run_state.CHECKPOINT_DIR)
        restored = run_state.restore_newest(ckpt, ckpt_dir)
        manager = tf.train.CheckpointManager(ckpt, ckpt_dir, max_to_keep=3)
        if restored:
            logging.info("resumed from %s (epoch %d)", restored, int(epoch_var.numpy()))
    initial_epoch = int(epoch_var.numpy())
    run_state.reconcile_model(model, cfg.model_dir, initial_epoch, cfg.input_size)
    if initial_epoch >= cfg.epochs:
        logging.info("%s already trained for %d epochs", cfg.model_dir, initial_epoch)
        return model  # nothing trains: config.json keeps describing the checkpoints as it does
    run_state.save_config(cfg, changes)  # written only now, after the checks and the restore
    cbs = [EpochCheckpoint(manager, epoch_var, os.path.join(cfg.model_dir, MODEL_FILE)),
           keras.callbacks.TensorBoard(os.path.join(cfg.model_dir, "logs")), *callbacks]
    # shuffle=False: the tf.data pipeline orders the clips itself (seeded, resumable); Keras's
    # default shuffle=True is ignored for a Dataset and only warns. The dataset holds the
    # remaining epochs back to back; with steps_per_epoch Keras keeps one iterator across them.
    model.fit(epochs_from(initial_epoch), epochs=cfg.epochs, initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
              callbacks=cbs, verbose=cfg.verbose, shuffle=False)
    return model
