"""Convolutional LSTM cell for the w-LSTM ablation (Table 2): temporal cues carried by a ConvLSTM
state, as in LSTM Pose Machines [20], instead of distilled pose kernels.

A single step is a layer (not keras.layers.ConvLSTM2D, which consumes whole sequences), so the
w-LSTM model streams with the same initialize/step contract as DKD; its state is the hidden and
cell maps concatenated on the channel axis.
"""
from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="dkd_tf")
class ConvLSTMCell(layers.Layer):
    """call([inputs [B,h,w,Cin], state [B,h,w,2*filters]]) -> new state [B,h,w,2*filters]."""

    def __init__(self, filters: int, kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.gates = layers.Conv2D(4 * filters, kernel_size, padding="same", name="gates")

    def build(self, input_shape):
        in_shape, _ = input_shape
        self.gates.build(tuple(in_shape[:-1]) + (in_shape[-1] + self.filters,))

    def call(self, inputs):
        x, state = inputs
        hidden, cell = state[..., :self.filters], state[..., self.filters:]
        z = self.gates(ops.concatenate([x, hidden], axis=-1))
        i, f, o, g = (z[..., k * self.filters:(k + 1) * self.filters] for k in range(4))
        cell = ops.sigmoid(f) * cell + ops.sigmoid(i) * ops.tanh(g)
        hidden = ops.sigmoid(o) * ops.tanh(cell)
        return ops.concatenate([hidden, cell], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (2 * self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}
