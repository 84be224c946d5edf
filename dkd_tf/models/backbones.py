"""Backbones cut at stride 32, and the input normalization each one expects.

ResNet-10/18/34 (basic blocks) are built here because keras.applications has no basic-block ResNet;
ResNet-50/101 and MobileNetV3 come from keras.applications so that users with ImageNet weights can
load them (`weights='imagenet'` or a weights file). The movenet_* backbones are keras.applications
MobileNetV2 shaped as MoveNet's (dkd_tf.models.movenet), whose published weights map onto them. Every backbone is a functional model with a
free spatial size, so the same network serves 64 px tests, 256 px training and multi-scale testing.
"""
from __future__ import annotations

import keras
from keras import layers

from dkd_tf.core import train_config
from dkd_tf.models.movenet import MOVENET_BACKBONES, mobilenet_v2

BACKBONES = train_config.BACKBONES  # the --*_backbone choices, declared with the settings

# Which normalization the backbone's (ImageNet) weights were trained with.
_PREPROCESSING = {
    "resnet10": "torch", "resnet18": "torch", "resnet34": "torch",
    "resnet50": "caffe", "resnet101": "caffe",
    "mobilenetv3_small": "tf", "mobilenetv3_large": "tf",
    **{name: "movenet" for name in MOVENET_BACKBONES},
}


def preprocessing_mode(name: str) -> str:
    _check(name)
    return _PREPROCESSING[name]


def _check(name):
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {BACKBONES}")


def _basic_block(x, filters, stride, name):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(epsilon=1e-5, name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(epsilon=1e-5, name=f"{name}_bn2")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 name=f"{name}_down_conv")(x)
        shortcut = layers.BatchNormalization(epsilon=1e-5, name=f"{name}_down_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


def basic_resnet(depth: int, input_channels: int = 3, width: int = 64,
                 name: str | None = None) -> keras.Model:
    """ResNet-10/18/34 (He et al. 2016, basic blocks) without the classifier, stride 32.

    ResNet-10 has one basic block per stage: the shallowest of the family, for the cheapest
    frame encoders and for the test suite's tiny models, whose graphs (and so tracing time)
    are about half a ResNet-18's. `width` is the channel count of the first stage (64 in the
    paper); smaller widths give the cheap encoders used in tests and in the CPU demo.
    """
    stages = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}[depth]
    inputs = keras.Input((None, None, input_channels))
    x = layers.Conv2D(width, 7, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(epsilon=1e-5, name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for s, blocks in enumerate(stages):
        for b in range(blocks):
            stride = 2 if (s > 0 and b == 0) else 1
            x = _basic_block(x, width * 2 ** s, stride, name=f"stage{s + 1}_block{b + 1}")
    return keras.Model(inputs, x, name=name or f"resnet{depth}")


def build_backbone(name: str, input_channels: int = 3, weights=None, width: int = 64,
                   model_name: str | None = None) -> keras.Model:
    """Returns a functional model mapping [B, H, W, input_channels] to stride-32 features.

    Args:
      name: one of BACKBONES.
      input_channels: 3 for images; the temporal discriminator feeds images + heatmaps.
      weights: None (random init), 'imagenet', or a path to a weights file
        (keras.applications backbones only; ResNet-10/18/34 accept a `.weights.h5` path).
      width: first-stage channels of ResNet-10/18/34 (ignored by the others).
    """
    _check(name)
    if weights == "imagenet" and input_channels != 3:
        raise ValueError("ImageNet weights need 3 input channels")
    shape = (None, None, input_channels)
    if name in MOVENET_BACKBONES:
        if weights == "imagenet":
            raise ValueError(f"{name} starts from MoveNet's weights (training maps them), "
                             "not ImageNet's")
        model = mobilenet_v2(name, input_channels, model_name)
        if weights:
            model.load_weights(weights)
        return model
    if name in ("resnet10", "resnet18", "resnet34"):
        model = basic_resnet(int(name[6:]), input_channels, width, name=model_name)
        if weights == "imagenet":
            raise ValueError(f"{name} has no keras.applications ImageNet weights; "
                             "pass a .weights.h5 file instead")
        if weights:
            model.load_weights(weights)
        return model
    if name == "resnet50":
        base = keras.applications.ResNet50(include_top=False, weights=weights, input_shape=shape)
    elif name == "resnet101":
        base = keras.applications.ResNet101(include_top=False, weights=weights,
                                            input_shape=shape)
    elif name == "mobilenetv3_small":
        base = keras.applications.MobileNetV3Small(include_top=False, weights=weights,
                                                   input_shape=shape, include_preprocessing=False)
    else:
        base = keras.applications.MobileNetV3Large(include_top=False, weights=weights,
                                                   input_shape=shape, include_preprocessing=False)
    if model_name:
        return keras.Model(base.inputs, base.output, name=model_name)  # one tensor, not a list
    return base
