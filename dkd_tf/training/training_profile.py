"""Where a training step's time goes: `python -m dkd_tf.bench --profile_training --flagfile F`.

Times, on one batch held in memory (so each part is measured alone, not behind the others):
  pipeline      producing one batch with tf.data (decoding or the frame cache, augmentation,
                heatmap targets), the way fit() consumes it;
  P             the pose initializer, forward + backward on frame 1 of every clip;
  F             the frame encoder, forward + backward on all T frames;
  Phi+matching  the recurrence (distillator and kernel matching over T-1 steps), fwd + bwd;
  D             the temporal discriminator, forward + backward on both pair sets;
  train_step    the whole of Algorithm 1 (both optimizers included), as fit() runs it;
then steps/s and frames/s of train_step alone, and of fit() with the pipeline feeding it.
Medians of `runs` timed calls after two untimed ones.
"""
from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from dkd_tf.training import run_state, trainer
from dkd_tf.data import datasets, pipeline


def _median_seconds(fn, runs: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        tf.nest.map_structure(lambda x: x.numpy() if hasattr(x, "numpy") else x, out)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _grad_fn(net_call, variables):
    @tf.function
    def run():
        with tf.GradientTape() as tape:
            out = net_call()
            loss = tf.reduce_mean(tf.square(out))
        return tape.gradient(loss, variables)
    return run


def profile(cfg: trainer.TrainConfig, runs: int = 10, fit_steps: int = 20) -> dict:
    """Seconds per part (see the module docstring) for the run `cfg` describes, untrained."""
    keras.utils.set_random_seed(cfg.seed)
    joint_set, records = datasets.load(cfg, "train")
    arch = run_state.unseeded(cfg)
    aug = pipeline.augmentation_of(cfg)
    ds = pipeline.make_dataset(records, joint_set, cfg.input_size, cfg.clip_length,
                               cfg.batch_size, training=True, sigma=cfg.sigma, augmentation=aug,
                               clips_per_epoch=cfg.batch_size * (fit_steps + 4), seed=cfg.seed)
    t0 = time.perf_counter()
    n = 0
    for _ in ds:
        n += 1
    out = {"pipeline": (time.perf_counter() - t0) / max(n, 1)}
    frames, targets, weights = next(iter(ds))
    model = trainer.build_model(arch, joint_set.num_joints)
    model.compile(optimizer=trainer.make_optimizer(cfg, cfg.learning_rate),
                  d_optimizer=(trainer.make_optimizer(cfg, cfg.learning_rate)
                               if model.adversarial else None))
    t = frames.shape[1]
    flat = tf.reshape(frames, (-1,) + tuple(frames.shape[2:]))
    out["P"] = _median_seconds(_grad_fn(lambda: model.initializer(frames[:, 0], training=True),
                                        model.initializer.trainable_variables), runs)
    if model.temporal:
        out["F"] = _median_seconds(_grad_fn(lambda: model.encoder(flat, training=True),
                                            model.encoder.trainable_variables), runs)
        encoded = model.encoder(flat)
        feats = tf.reshape(encoded, (-1, t) + tuple(encoded.shape[1:]))
        h0 = targets[:, 0]

        def recurrence():
            state = model._distill(feats[:, 0], h0, model._zero_lstm_state(feats[:, 0]), True)
            maps = []
            for i in range(1, t):
                h, state = model._match_and_distill(feats[:, i], state, True)
                maps.append(h)
            return tf.stack(maps)
        out["Phi+matching"] = _median_seconds(_grad_fn(
            recurrence, model.distillator.trainable_variables + model.matcher.trainable_variables),
            runs)
    if model.adversarial:
        out["D"] = _median_seconds(_grad_fn(
            lambda: tf.stack(model.adversarial_losses(frames, targets, targets)),
            model.discriminator.trainable_variables), runs)
    step = tf.function(model.train_step)
    out["train_step"] = _median_seconds(lambda: step((frames, targets, weights)), runs)
    # trace fit's own step function outside the timing
    model.fit(ds.take(2), verbose=0, shuffle=False)
    t0 = time.perf_counter()
    model.fit(ds.take(fit_steps), verbose=0, shuffle=False)
    out["fit_step"] = (time.perf_counter() - t0) / fit_steps
    frames_per_step = cfg.batch_size * t
    return {"seconds": out, "frames_per_step": frames_per_step,
            "train_step_steps_per_s": 1.0 / out["train_step"],
            "fit_steps_per_s": 1.0 / out["fit_step"],
            "fit_frames_per_s": frames_per_step / out["fit_step"]}


def format_profile(result: dict, cfg: trainer.TrainConfig) -> str:
    s = result["seconds"]
    lines = [f"training step of {cfg.variant} ({cfg.encoder_backbone} width {cfg.encoder_width}, "
             f"input {cfg.input_size}, batch {cfg.batch_size} x T={cfg.clip_length} = "
             f"{result['frames_per_step']} frames)",
             f"  {'part':14s} {'ms':>9s} {'of train_step':>14s}"]
    for name, sec in s.items():
        share = "" if name in ("pipeline", "fit_step") else f"{100 * sec / s['train_step']:13.0f}%"
        lines.append(f"  {name:14s} {1000 * sec:9.1f} {share}")
    lines.append(f"  fit(): {result['fit_steps_per_s']:.2f} steps/s, "
                 f"{result['fit_frames_per_s']:.0f} frames/s "
                 f"(train_step alone: {result['train_step_steps_per_s']:.2f} steps/s)")
    return "\n".join(lines)
