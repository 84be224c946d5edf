"""The DKD stepper cut into its parts, each a batch-1 tf.function of fixed shapes.

    F backbone   frame [1, S, S, 3] -> stride-32 maps            (preprocessing + backbone of F)
    deconvs      stride-32 maps -> features f [1, S/8, S/8, C_f]  (F's two deconvolutions + BN)
    V            f -> [1, S/8, S/8, C]                            (eq. 6, 1x1 conv)
    matching     (V f, kernels k' [1, s, s, C]) -> depthwise     (eq. 2, runtime filter)
    U+BN         -> heatmaps [1, S/8, S/8, K]                     (eq. 6, 1x1 conv and BN)
    Phi          (f, heatmaps) -> next kernels [1, s, s, C]       (the distillator)

Run in this order, the parts compute exactly the stepper (tested), so the benchmark can export
each as its own small graph and say where a frame's time goes: their multiply-adds add up to the
stepper's. Only the kernel variants (dkd, wo_tat, w_sat) have these parts.
"""
from __future__ import annotations

import dataclasses

import tensorflow as tf

from dkd_tf.models.matching import dynamic_depthwise_conv

PART_NAMES = ("F backbone", "deconvs", "V", "matching", "U+BN", "Phi")


class PartsUnavailable(ValueError):
    """The model has no DKD kernel stepper to cut (single-frame or w_lstm variants)."""


@dataclasses.dataclass
class StepperPart:
    name: str
    function: tf.types.experimental.PolymorphicFunction  # fixed input_signature, batch 1

    def concrete(self):
        return self.function.get_concrete_function()


def _spec(shape, name):
    return tf.TensorSpec([int(d) for d in shape], tf.float32, name=name)


def _encoder_split(encoder):
    """(backbone layers, head layers) of F: everything up to its backbone model, and the
    deconvolution head after it (a chain, see models/pose_net.py)."""
    names = [layer.name for layer in encoder.layers]
    key = f"{encoder.name}_backbone"
    if key not in names:
        raise PartsUnavailable(f"the frame encoder {encoder.name!r} has no layer {key!r}; the part "
                               "breakdown expects models/pose_net.py's backbone + deconv head")
    i = names.index(key)
    body = [l for l in encoder.layers[1:i + 1]]  # layers[0] is the input
    head = list(encoder.layers[i + 1:])
    return body, head


def _chain(layers_, x):
    for layer in layers_:
        x = layer(x, training=False)
    return x


def stepper_parts(model, input_size: int) -> list[StepperPart]:
    """The six parts of `model`'s stepper at input_size (see the module docstring)."""
    if not model.temporal or model.lstm:
        raise PartsUnavailable(f"variant {model.variant!r} has no kernel-matching stepper to "
                               "break down (single-frame or w_lstm)")
    if model.encoder_factor != 1:
        raise PartsUnavailable(f"encoder_input_scale {model.encoder_input_scale:g}: the parts "
                               "are timed for an F at the input size")
    body, head = _encoder_split(model.encoder)
    matcher, phi = model.matcher, model.distillator
    s = int(input_size)
    frame = _spec([1, s, s, 3], "frame")
    backbone_out = tf.function(lambda x: _chain(body, x), autograph=False
                               ).get_concrete_function(frame).structured_outputs.shape
    cells = s // model.stride
    feat = _spec([1, cells, cells, model.deconv_filters], "features")
    hw = feat.shape[1:3]
    vf = _spec([1, *hw, model.kernel_channels], "v_features")
    state = _spec([1, *model.state_shape_for(s)], "state")
    heat = _spec([1, *hw, model.num_joints], "heatmaps")

    def fn(f, *specs):
        return tf.function(f, input_signature=list(specs), autograph=False)

    return [
        StepperPart("F backbone", fn(lambda x: _chain(body, x), frame)),
        StepperPart("deconvs", fn(lambda x: _chain(head, x), _spec(backbone_out, "maps"))),
        StepperPart("V", fn(lambda f: matcher.v(f), feat)),
        StepperPart("matching", fn(dynamic_depthwise_conv, vf, state)),
        StepperPart("U+BN", fn(lambda x: matcher.read_out(x, training=False), vf)),
        StepperPart("Phi", fn(lambda f, h: phi([f, h], training=False), feat, heat)),
    ]


def run_parts(parts: list[StepperPart], frame, state):
    """(heatmaps, next state) through the parts in stepper order; equals model.step."""
    p = {part.name: part.function for part in parts}
    features = p["deconvs"](p["F backbone"](frame))
    heatmaps = p["U+BN"](p["matching"](p["V"](features), state))
    return heatmaps, p["Phi"](features, heatmaps)
