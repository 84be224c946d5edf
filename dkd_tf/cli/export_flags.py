"""The flag `python -m export.tflite` and `python -m export.onnx` share: which decoding rule the
manifest names (every runtime, the Android app included, decodes the heatmaps by it)."""
from __future__ import annotations

from absl import flags

from dkd_tf.core import codec


def define_decoding() -> None:
    flags.DEFINE_enum("decoding", None, list(codec.DECODING_RULES), "Decoding rule the "
                      "manifest names (dkd_tf.core.codec): argmax_smoothed_log_parabola takes the "
                      "sub-cell step on the heatmap smoothed by a Gaussian, less jitter where the "
                      "heatmap is no clean Gaussian (the real-world preset's). Default: "
                      f"{codec.DEFAULT_DECODING}.")
