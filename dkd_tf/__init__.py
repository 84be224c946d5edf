"""Dynamic Kernel Distillation (DKD) video pose estimation in TensorFlow/Keras.

    import dkd_tf
    dkd_tf.presets.list()                                  # the shipped presets
    tracker = dkd_tf.PoseTracker.from_preset(name)         # backend="tflite" | "onnx" | "keras"
    for pose in tracker.track("clip.mp4"):                 # one Pose per frame
        pose.keypoints                                     # [K, 3]: x, y, confidence
    model = dkd_tf.DKD.from_preset(name)                   # the keras.Model

The names are resolved on first use (module __getattr__), so `import dkd_tf` and
`dkd_tf.presets` stay cheap: TensorFlow is imported when DKD or PoseTracker is first touched.
"""
from __future__ import annotations

import importlib

# public name -> (module, attribute)
_LAZY = {
    "DKD": ("dkd_tf.models.dkd", "DKD"),
    "PoseTracker": ("dkd_tf.tracking.pose_tracker", "PoseTracker"),
    "Pose": ("dkd_tf.tracking.pose_tracker", "Pose"),
    "PresetError": ("dkd_tf.presets", "PresetError"),
    "presets": ("dkd_tf.presets", None),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'dkd_tf' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
