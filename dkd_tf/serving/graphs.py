"""The two batch-1 inference graphs of the streaming contract (DESIGN.md), built from a DKD model.

  initialize(frame)        -> {'heatmaps', 'state'}      signature 'initialize', file initializer.*
  step(frame, state)       -> {'heatmaps', 'state'}      signature 'step',       file stepper.*

frame: float32 [1, S, S, 3] RGB 0..255 (normalization is inside the graph); heatmaps: float32
[1, S/8, S/8, K]; state: float32 [1, *model.state_shape_for(S)] (the w_lstm state is the size of the
heatmaps, so the state shape depends on the input size). The batch is static and 1: the dynamic
depthwise convolution folds the batch into channels (dkd_tf/models/matching.py), so a graph traced
for one batch size only runs at that size.

Only the model directory's config.json and model.keras are read here; no training code runs.
"""
from __future__ import annotations

import dataclasses
import os

import keras
import tensorflow as tf

# Importing the model module registers DKD and its layers for safe_mode loading.
from dkd_tf.models import dkd as dkd_lib  # noqa: F401
from dkd_tf.training import run_state
from dkd_tf.training.trainer import CONFIG_FILE, MODEL_FILE
from dkd_tf.serving import rewrites as rewrites_lib

BATCH = 1
# Logical graph names -> (TFLite signature key, exported file stem).
INITIALIZER, STEPPER = "initializer", "stepper"
SIGNATURES = {INITIALIZER: "initialize", STEPPER: "step"}
INPUTS = {INITIALIZER: ("frame",), STEPPER: ("frame", "state")}
OUTPUTS = ("heatmaps", "state")


@dataclasses.dataclass
class InferenceGraphs:
    """The two tf.functions (fixed input signatures) and the shapes they were traced for."""

    model: keras.Model
    input_size: int
    initialize: tf.types.experimental.PolymorphicFunction
    step: tf.types.experimental.PolymorphicFunction
    rewrites: tuple = ()  # dkd_tf.serving.rewrites names applied to these graphs

    @property
    def frame_shape(self) -> tuple:
        return (BATCH, self.input_size, self.input_size, 3)

    @property
    def state_shape(self) -> tuple:
        return (BATCH, *self.model.state_shape_for(self.input_size))

    @property
    def heatmap_shape(self) -> tuple:
        s = self.input_size // self.model.stride
        return (BATCH, s, s, self.model.num_joints)

    def function(self, graph: str):
        return {INITIALIZER: self.initialize, STEPPER: self.step}[graph]


file_sha256 = run_state.file_sha256  # one checksum for run records, manifests and presets


def load_model_dir(model_dir: str):
    """(model, TrainConfig) of a training model directory (config.json + model.keras), through
    the one loader, run_state.load_model_dir: verified (preset checksums, model record), and
    config.json checked against the model."""
    return run_state.load_model_dir(model_dir)


def model_file(model_dir: str) -> str:
    return os.path.join(model_dir, MODEL_FILE)


def is_model_dir(path: str) -> bool:
    return (os.path.isfile(os.path.join(path, MODEL_FILE))
            and os.path.isfile(os.path.join(path, CONFIG_FILE)))


def check_input_size(model, input_size: int) -> int:
    input_size = int(input_size)
    problem = run_state.input_size_problem(input_size)  # the one rule (stride-32 backbones)
    if problem:
        raise ValueError(f"input size {input_size} {problem}; heatmaps are input / "
                         f"{model.stride}")
    return input_size


def build_graphs(model, input_size: int, rewrites=()) -> InferenceGraphs:
    """Batch-1 tf.functions with named inputs (frame, state) and outputs (heatmaps, state).

    rewrites: names from dkd_tf.serving.rewrites.REWRITES applied while tracing (the exporters pass
    dkd_tf.serving.rewrites.DEFAULT); none by default, so the Keras reference of the parity check and the
    calibration runs are the model's own ops. The model itself is never changed.
    """
    input_size = check_input_size(model, input_size)
    nets = rewrites_lib.exported_pose_nets(model, input_size, rewrites)
    frame_spec = tf.TensorSpec([BATCH, input_size, input_size, 3], tf.float32, name="frame")
    state_spec = tf.TensorSpec([BATCH, *model.state_shape_for(input_size)], tf.float32,
                               name="state")

    @tf.function(input_signature=[frame_spec], autograph=False)
    def initialize(frame):
        with rewrites_lib.pose_nets_swapped(model, nets):
            heatmaps, state = model.initialize(frame, training=False)
        return {"heatmaps": heatmaps, "state": state}

    @tf.function(input_signature=[frame_spec, state_spec], autograph=False)
    def step(frame, state):
        with rewrites_lib.pose_nets_swapped(model, nets):
            heatmaps, next_state = model.step(frame, state, training=False)
        return {"heatmaps": heatmaps, "state": next_state}

    applied = tuple(rewrites) if nets else ()
    return InferenceGraphs(model, input_size, initialize, step, applied)


def write_saved_model(graphs: InferenceGraphs, path: str) -> str:
    """A SavedModel with the two signatures 'initialize' and 'step' (input to the TFLite
    converter, which needs a SavedModel to keep named signatures). keras.export.ExportArchive
    tracks exactly the variables the endpoints read, so the converter can freeze them."""
    archive = keras.export.ExportArchive()
    for graph in (INITIALIZER, STEPPER):
        fn = graphs.function(graph)
        fn.get_concrete_function()  # ExportArchive takes traced tf.functions as they are
        archive.add_endpoint(SIGNATURES[graph], fn)
    archive.write_out(path, verbose=False)
    return path

