"""In-graph image normalization, so every runtime (Keras, TFLite, ONNX, Android) feeds raw pixels."""
from __future__ import annotations

import keras
from keras import ops

_MODES = ("torch", "caffe", "tf", "movenet")
# MoveNet scales by 1/127.5 stored as float16 (its graph's constant), so the mapped Keras network
# reproduces the published graph to float32 rounding.
MOVENET_SCALE = 0.0078430176


@keras.saving.register_keras_serializable(package="dkd_tf")
class ImagePreprocess(keras.layers.Layer):
    """Maps float RGB 0..255 to the normalization the backbone expects.

    Modes: 'torch' ((x/255 - ImageNet mean) / std, our ResNet-10/18/34), 'caffe' (BGR minus the
    ImageNet mean, keras.applications ResNet-50/101), 'tf' (x/127.5 - 1, MobileNetV3),
    'movenet' (x * MOVENET_SCALE - 1, MoveNet-initialized MobileNetV2).
    """

    def __init__(self, mode: str = "torch", **kwargs):
        super().__init__(**kwargs)
        if mode not in _MODES:
            raise ValueError(f"unknown preprocessing mode {mode!r}; choose one of {_MODES}")
        self.mode = mode

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor([0.485, 0.456, 0.406], self.compute_dtype) * 255.0
            std = ops.convert_to_tensor([0.229, 0.224, 0.225], self.compute_dtype) * 255.0
            return (x - mean) / std
        if self.mode == "caffe":
            mean = ops.convert_to_tensor([103.939, 116.779, 123.68], self.compute_dtype)
            return ops.flip(x, axis=-1) - mean
        if self.mode == "movenet":
            return x * MOVENET_SCALE - 1.0
        return x / 127.5 - 1.0

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
