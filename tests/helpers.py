"""Tiny models and data sets shared by the tests (kept small so the suite runs on 2 cores)."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import cv2
import keras
import numpy as np

from dkd_tf.training import trainer
from dkd_tf.data import synthetic
from dkd_tf.models.dkd import DKD
from dkd_tf.training.trainer import MODEL_FILE, TrainConfig

TINY = dict(initializer_backbone="resnet10", encoder_backbone="resnet10", initializer_width=8,
            encoder_width=8, deconv_filters=16, kernel_size=3, kernel_channels=8)


def tiny_model(variant="dkd", num_joints=13, **overrides) -> DKD:
    return DKD(num_joints=num_joints, variant=variant, **{**TINY, **overrides})


def make_model_dir(path, seed=0, data_dir="", variant="dkd", input_size=64,
                   calibrate=False, edit=None, **overrides) -> str:
    """A tiny untrained DKD saved as a training model dir (config.json + model.keras);
    `calibrate` sets its BatchNorm statistics from random frames (calibrate_batchnorm);
    `edit(model)` changes the built model's weights before it is saved."""
    keras.utils.set_random_seed(seed)
    model = tiny_model(variant, **overrides)
    model(np.zeros((1, 2, input_size, input_size, 3), np.float32))  # build
    if calibrate:
        rng = np.random.default_rng(seed)
        calibrate_batchnorm(model, rng.uniform(0, 255, (2, 4, input_size, input_size, 3)))
    if edit is not None:
        edit(model)
    TrainConfig(model_dir=path, dataset="synthetic", data_dir=data_dir or os.path.join(path, "x"),
                input_size=input_size, variant=variant, **{**TINY, **overrides}).save(path)
    model.save(os.path.join(path, MODEL_FILE))
    return path


class EpochLog(keras.callbacks.Callback):
    """Records the epochs fit() runs (which ones a resumed run repeats or skips)."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def _walk(layer):
    yield layer
    for sub in getattr(layer, "layers", []):
        yield from _walk(sub)


def calibrate_batchnorm(model, clip) -> None:
    """Gives every BatchNormalization of the inference graphs the statistics of `clip`
    [B, T, H, W, 3] (one training-mode pass at momentum 0), as training would. Untrained
    keras.applications MobileNetV3 with its initial statistics outputs ~1e-10 everywhere, which
    no check can use, and unnormalized kernel matching grows frame after frame."""
    nets = [model.initializer] + ([model.encoder, model.distillator] if model.temporal else [])
    bns = [l for net in nets for l in _walk(net) if isinstance(l, keras.layers.BatchNormalization)]
    if model.temporal and hasattr(model.matcher, "bn"):
        bns.append(model.matcher.bn)
    for bn in bns:
        bn.momentum = 0.0
    model(np.asarray(clip, np.float32), training=True)
    for bn in bns:
        bn.momentum = 0.99


def compile_model(model, lr=1e-3):
    model.compile(optimizer=keras.optimizers.RMSprop(lr),
                  d_optimizer=keras.optimizers.RMSprop(lr) if model.adversarial else None)
    return model


def tiny_config(model_dir, data_dir, **overrides) -> trainer.TrainConfig:
    fields = dict(model_dir=model_dir, dataset="synthetic", data_dir=data_dir, input_size=64,
                  clip_length=3, batch_size=2, epochs=2, clips_per_epoch=4,
                  lr_decay_epochs=(), verbose=0, **TINY)
    fields.update(overrides)
    return trainer.TrainConfig(**fields)


def tiny_synthetic(root, videos=3, frames=6):
    """A small synthetic set in Penn Action format (written once per directory)."""
    if not os.path.isdir(os.path.join(root, "labels")):
        synthetic.generate(root, videos, frames, seed=1, height=96, width=128)
    return root


_SHARED_EXPORTS = {}


def shared_export(**model_args) -> tuple[str, str]:
    """(model_dir, export_dir): a tiny untrained model (make_model_dir(**model_args)) exported to
    fp32 TFLite and to ONNX, both verified. Made once per test process for each set of arguments
    and shared by the test files that only read it (an export of even a tiny model takes seconds
    on 2 cores); removed when the process exits. Copy it (copy_export_with_manifest) before
    changing anything in it."""
    key = tuple(sorted(model_args.items()))
    if key not in _SHARED_EXPORTS:
        from dkd_tf.serving import onnx_export
        from dkd_tf.serving import tflite_export
        root = tempfile.mkdtemp(prefix="dkd_shared_export_")
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        model_dir = make_model_dir(os.path.join(root, "model"), **model_args)
        export_dir = os.path.join(root, "export")
        tflite_export.export_tflite(model_dir, export_dir, "none", log=lambda *_: None)
        onnx_export.export_onnx(model_dir, export_dir, log=lambda *_: None)
        _SHARED_EXPORTS[key] = model_dir, export_dir
    return _SHARED_EXPORTS[key]


def copy_export_with_manifest(src: str, dst: str, **changes) -> str:
    """Copies an export directory and overwrites top-level manifest entries; -> manifest path.
    The manifest is sealed again (its content_sha256 recomputed): it stands for a manifest
    written that way, which the runners must still refuse for what it says, not for an edit."""
    import json
    import shutil

    from dkd_tf.serving import manifest as manifest_lib
    shutil.copytree(src, dst)
    path = manifest_lib.manifest_path(dst)
    with open(path) as f:
        manifest = json.load(f)
    manifest.update(changes)
    with open(path, "w") as f:
        json.dump(manifest_lib.seal(manifest), f)
    return path


def shipped_export_check(test, model_dir: str, export_dir: str) -> dict:
    """A shipped export's manifest records a passed check against the shipped Keras model (by
    its sha256), and that check passes again here, on the default parity clip."""
    from dkd_tf.serving import graphs as graphs_lib
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.serving import runtimes
    from dkd_tf.serving import verify
    manifest = manifest_lib.read(export_dir)
    test.assertTrue(manifest["verification"]["tflite"]["passed"])
    test.assertEqual(manifest["model"]["sha256"],
                     graphs_lib.file_sha256(graphs_lib.model_file(model_dir)))
    model, _ = graphs_lib.load_model_dir(model_dir)
    reference = runtimes.KerasRunner(model, manifest, model_dir)
    clip = verify.load_clip(reference.input_size, verify.MIN_FRAMES)
    result = verify.verify_format(export_dir, "tflite", reference, clip, log=lambda *_: None)
    test.assertTrue(result["passed"], result.get("problems"))
    return manifest


def write_video(path, frames, fourcc="MJPG", fps=25):
    """uint8 RGB frames [H, W, 3] written as a video OpenCV reads back; returns path."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened(), path
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path
