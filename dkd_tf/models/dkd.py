"""The Dynamic Kernel Distillation model (paper sec. 3, Algorithm 1).

Inference is two graphs, the streaming contract of DESIGN.md:
  initialize(frame)        -> (h_1, state)    h_1 = P(I_1); state = k'_1 = Phi(F(I_1), h_1)
  step(frame, state)       -> (h_t, state')   f = F(I_t); h_t = match(f, k'_{t-1}); state' = Phi(f, h_t)
`call(clip)` unrolls them over the T frames of a training clip, so training sees exactly the
computation deployment runs. `train_step` is Algorithm 1: one forward pass, then the temporal
discriminator D takes a step on -L_D (eq. 4), the generator (P, F, Phi, matching head) a step on
L_G + eta * L_fake (eq. 3, 5), and lambda moves by eq. 7.

Variants (Tables 1, 2): 'dkd' (PKD + TAT), 'wo_tat' (PKD only), 'wo_pkd' (single-frame network
trained with TAT), 'baseline' (single-frame network), 'w_sat' (PKD with a spatial discriminator
D(I_t, h_t) -> h_t in place of the temporal one), 'w_lstm' (a ConvLSTM carries the state in
place of Phi and the kernel matching, trained with TAT). Single-frame variants run one pose
network, built from `encoder_backbone` as Baseline(ResNet-x) is in the paper, on every frame;
their state is a [B, 1, 1, 1] zero tensor so every variant exports with the same two signatures.

`encoder_input_scale` < 1 runs F (and the single-frame variants' network, which is F with a
classifier) on the frame average-pooled by 1/scale, so a phone pays F's cost at 128 px while P
still reads 256 px: the matched heatmaps [B, H/16, W/16, K] are bilinearly upsampled (half-pixel
centres, the grids stay aligned) to P's [B, H/8, W/8, K], and P's heatmaps are average-pooled to
F's grid before Phi reads them. Every graph keeps one input size and one heatmap shape, so the
streaming contract, the exports and the runtimes are unchanged.

`encoder_stride4` (movenet_* F at scale 1/2 or 1/4) keeps MoveNet's keypoint branch at its own
stride 4 instead of pooling it to stride 8: at 1/2, F's features [B, H/8, W/8, D] are on P's grid,
so the matched heatmaps need no upsampling and are read out at twice the resolution (the 16-px
cells of a 256-px crop, which cost PCK at 0.1 of the person size, become 8-px cells). Phi still
reads f and h average-pooled 2 x 2, the grid (and the cost) it has without the option; only the
matching (1x1 V, the dynamic depthwise S x S, 1x1 U) runs on the finer grid.
"""
from __future__ import annotations

import os

import keras
import tensorflow as tf
from keras import layers, ops

from dkd_tf import presets
from dkd_tf.models.conv_lstm import ConvLSTMCell
from dkd_tf.models.discriminator import build_discriminator
from dkd_tf.models.distillator import POOLS, build_distillator
from dkd_tf.core import train_config
from dkd_tf.models import model_dir as model_dir_lib
from dkd_tf.models.matching import PoseKernelMatching
from dkd_tf.models.movenet import MOVENET_BACKBONES
from dkd_tf.models.pose_net import STRIDE, build_pose_net

SCALE_FACTORS = (1, 2, 4)  # 1 / encoder_input_scale
# The --variant choices, declared with the setting (TEMPORAL_VARIANTS: P on frame 1, F on the
# others).
VARIANTS, TEMPORAL_VARIANTS = train_config.VARIANTS, train_config.TEMPORAL_VARIANTS
# Those whose later frames come from Phi's kernels through PoseKernelMatching (w_lstm reads a
# ConvLSTM's state instead): the heads that --init_matcher_from can seed.
KERNEL_MATCHING_VARIANTS = tuple(v for v in TEMPORAL_VARIANTS if v != "w_lstm")


def weighted_mse(pred, target, weights, foreground_weight: float = 0.0):
    """Mean squared error over [B, h, w, K], each joint channel weighted by weights [B, K].

    foreground_weight > 0 weights each pixel by 1 + foreground_weight * target as well, so that
    the few pixels near a joint are not outvoted by the background: without it, maps larger than
    16 x 16 stall at the all-zero output (its loss is within 10 % of the trained one).
    """
    w = ops.cast(weights, pred.dtype)[:, None, None, :]
    if foreground_weight:
        w = w * (1.0 + foreground_weight * target)
    return ops.mean(w * ops.square(pred - target))


def _scale_for_replicas(loss):
    """Gradients are summed across replicas, so each replica contributes loss / replicas."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / float(replicas) if replicas > 1 else loss


@keras.saving.register_keras_serializable(package="dkd_tf")
class LSTMHead(layers.Layer):
    """w_lstm's read-out: heatmaps from the new features and the ConvLSTM hidden maps."""

    def __init__(self, num_joints: int, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.num_joints, self.channels = num_joints, channels
        self.conv = layers.Conv2D(num_joints, 1, use_bias=False, name="conv")
        self.bn = layers.BatchNormalization(gamma_initializer=keras.initializers.Constant(0.1),
                                            name="bn")

    def build(self, input_shape):
        feat_shape, _ = input_shape
        self.conv.build(tuple(feat_shape[:-1]) + (feat_shape[-1] + self.channels,))
        self.bn.build(tuple(feat_shape[:-1]) + (self.num_joints,))

    def call(self, inputs, training=None):
        features, state = inputs
        x = ops.concatenate([features, state[..., :self.channels]], axis=-1)
        return self.bn(self.conv(x), training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self.num_joints,)

    def get_config(self):
        return {**super().get_config(), "num_joints": self.num_joints, "channels": self.channels}


@keras.saving.register_keras_serializable(package="dkd_tf")
class DKD(keras.Model):
    """DKD pose estimator for videos.

    Args:
      num_joints: K, heatmap channels.
      variant: one of VARIANTS.
      initializer_backbone: backbone of the pose initializer P (temporal variants).
      encoder_backbone: backbone of the frame encoder F and of D; the per-frame network of the
        single-frame variants.
      initializer_width, encoder_width: first-stage width of ResNet-10/18/34 backbones.
      deconv_filters: channels of the two deconvolutions (256 in the paper).
      initializer_deconv_filters: P's deconvolution channels when P differs from F (a mobile F
        with a bigger P); 0 = deconv_filters.
      kernel_size: S of the distilled kernels (7). kernel_channels: C (256).
      distillator_pools: 2x2 max-pools in Phi (2, the paper's Fig. 2c); 1 at 128-px inputs,
        where two pools leave a map smaller than S (see build_distillator).
      distillator_output: 'relu' (non-negative kernels) or 'linear' (signed; see
        build_distillator).
      kernel_residual: match with the distilled kernels plus a centred unit tap (see
        PoseKernelMatching).
      eta: weight of the adversarial term in L_G (0.1); 0 leaves D out.
      gamma: lambda's update rate in eq. 7 (0.1).
      discriminator_scale: input scale of D (1.0 as in the paper; 0.5 for CPU training).
      foreground_weight: extra weight of heatmap pixels near joints in the pose loss (0 = the
        paper's plain l2; see weighted_mse).
      encoder_input_scale: F sees the frame scaled by this (1, 1/2 or 1/4; see above).
      encoder_stride4: F's features at stride 4 of its input, Phi's inputs pooled back to 8
        (see above).
      initializer_trainable: False keeps P as it was seeded (frozen weights, batch norm in
        inference mode) while F, Phi and the matching head train: P is the costliest network to
        train and, once pretrained, the one that needs it least (temporal variants only).
      encoder_trainable: False keeps F as it was seeded, the same way: with F seeded from the
        trained Baseline, DKD reads every frame with exactly its Baseline's features, and only
        Phi and the matching head learn (temporal variants only).
      initializer_weights, encoder_weights: backbone weights at construction ('imagenet' or a
        file); not stored in the config, since a saved model carries its trained weights.
    """

    def __init__(self, num_joints=13, variant="dkd", initializer_backbone="resnet101",
                 encoder_backbone="resnet18", initializer_width=64, encoder_width=64,
                 deconv_filters=256, kernel_size=7, kernel_channels=256, eta=0.1, gamma=0.1,
                 discriminator_scale=1.0, initializer_deconv_filters=0, foreground_weight=0.0,
                 distillator_pools=2, distillator_output="relu", kernel_residual=False,
                 encoder_input_scale=1.0, encoder_stride4=False, initializer_trainable=True,
                 encoder_trainable=True,
                 initializer_weights=None, encoder_weights=None, **kwargs):
        super().__init__(**kwargs)
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
        self.num_joints = int(num_joints)
        self.variant = variant
        self.initializer_backbone = initializer_backbone
        self.encoder_backbone = encoder_backbone
        self.initializer_width = int(initializer_width)
        self.encoder_width = int(encoder_width)
        self.deconv_filters = int(deconv_filters)
        self.initializer_deconv_filters = int(initializer_deconv_filters) or self.deconv_filters
        self.kernel_size = int(kernel_size)
        self.kernel_channels = int(kernel_channels)
        self.distillator_pools = int(distillator_pools)
        if self.distillator_pools not in POOLS:
            raise ValueError(f"distillator_pools must be one of {POOLS}, got {distillator_pools}")
        self.distillator_output = str(distillator_output)
        self.kernel_residual = bool(kernel_residual)
        self.eta = float(eta)
        self.gamma = float(gamma)
        self.discriminator_scale = float(discriminator_scale)
        self.foreground_weight = float(foreground_weight)
        self.encoder_input_scale = float(encoder_input_scale)
        self.encoder_factor = round(1.0 / self.encoder_input_scale)
        if self.encoder_factor not in SCALE_FACTORS or \
                self.encoder_factor * self.encoder_input_scale != 1.0:
            raise ValueError("encoder_input_scale must be 1, 0.5 or 0.25, got "
                             f"{encoder_input_scale}")
        self.encoder_stride4 = bool(encoder_stride4)
        if self.encoder_stride4 and (encoder_backbone not in MOVENET_BACKBONES
                                     or self.encoder_factor == 1 or variant == "w_lstm"):
            raise ValueError("encoder_stride4 needs a movenet_* encoder_backbone, "
                             "encoder_input_scale 0.5 or 0.25 and a variant other than w_lstm, "
                             f"got {encoder_backbone!r}, {encoder_input_scale}, {variant!r}")
        # F's grid is this many times coarser than P's (the output grid).
        self.grid_ratio = self.encoder_factor // 2 if self.encoder_stride4 else self.encoder_factor
        self.initializer_trainable = bool(initializer_trainable)
        self.encoder_trainable = bool(encoder_trainable)
        self.temporal = variant in TEMPORAL_VARIANTS
        for trainable, network in ((self.initializer_trainable, "pose initializer"),
                                   (self.encoder_trainable, "frame encoder F")):
            if not trainable and not self.temporal:
                raise ValueError(f"variant {variant!r} has no {network} to freeze: its one "
                                 "per-frame network is the model")
        self.lstm = variant == "w_lstm"
        self.adversarial = variant in ("dkd", "wo_pkd", "w_sat", "w_lstm") and self.eta > 0
        self.spatial_adversary = variant == "w_sat"

        k = self.num_joints
        if self.temporal:
            self.initializer = build_pose_net(initializer_backbone, k,
                                              self.initializer_deconv_filters,
                                              initializer_weights, initializer_width,
                                              name="initializer")
            self.encoder = build_pose_net(encoder_backbone, None, deconv_filters,
                                          encoder_weights, encoder_width, name="encoder",
                                          stride4=self.encoder_stride4)
        if self.lstm:
            # Same roles as Phi / matching: the cell folds (f_t, h_t) into the state, the head
            # reads the next frame's features with the state's hidden maps.
            self.distillator = ConvLSTMCell(kernel_channels, name="conv_lstm")
            self.distillator.build(((None, None, None, deconv_filters + k),
                                    (None, None, None, 2 * kernel_channels)))
            self.matcher = LSTMHead(k, kernel_channels, name="lstm_head")
            self.matcher.build(((None, None, None, deconv_filters),
                                (None, None, None, 2 * kernel_channels)))
        elif self.temporal:
            self.distillator = build_distillator(deconv_filters, k, kernel_size,
                                                 kernel_channels, self.distillator_pools,
                                                 self.distillator_output)
            self.matcher = PoseKernelMatching(
                k, kernel_channels, self.kernel_residual, name="matcher",
                activation="sigmoid" if encoder_backbone in MOVENET_BACKBONES else None)
            self.matcher.build(((None, None, None, deconv_filters),
                                (None, kernel_size, kernel_size, kernel_channels)))
        else:
            self.initializer = build_pose_net(encoder_backbone, k, deconv_filters,
                                              encoder_weights, encoder_width, name="pose_net",
                                              stride4=self.encoder_stride4)
        if self.temporal and not self.initializer_trainable:
            self.initializer.trainable = False
        if self.temporal and not self.encoder_trainable:
            self.encoder.trainable = False
        # No weights: the config's encoder_input_scale and encoder_stride4 rebuild them on load.
        if self.encoder_factor > 1:
            self.encoder_shrink = layers.AveragePooling2D(self.encoder_factor,
                                                          name="encoder_shrink")
        if self.grid_ratio > 1:
            r = self.grid_ratio
            self.heatmap_shrink = layers.AveragePooling2D(r, name="heatmap_shrink")
            self.heatmap_grow = layers.UpSampling2D(r, interpolation="bilinear",
                                                    name="heatmap_grow")
        if self.encoder_stride4:
            self.distillator_pool = layers.AveragePooling2D(2, name="distillator_pool")
        if self.adversarial:
            self.discriminator = build_discriminator(encoder_backbone, k, deconv_filters,
                                                     encoder_width,
                                                     temporal=not self.spatial_adversary,
                                                     input_scale=self.discriminator_scale)
        self.lam = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                   name="lambda", aggregation="mean")
        self.d_optimizer = None
        self._trackers = {n: keras.metrics.Mean(name=n) for n in
                          ("loss", "pose_loss", "adv_fake_loss", "adv_real_loss", "d_loss")}

    # ------------------------------------------------------------------ inference graphs
    def state_shape_for(self, input_size: int) -> tuple:
        """Per-sample state shape: kernel bases [S, S, C]; [h, w, 2C] ConvLSTM maps (w_lstm);
        [1, 1, 1] for single-frame variants."""
        if self.lstm:
            cells = input_size // self.encoder_stride
            return (cells, cells, 2 * self.kernel_channels)
        if self.temporal:
            return (self.kernel_size, self.kernel_size, self.kernel_channels)
        return (1, 1, 1)

    def _empty_state(self, frame):
        return ops.zeros((ops.shape(frame)[0], 1, 1, 1), dtype=self.compute_dtype)

    @property
    def encoder_stride(self) -> int:
        """Input pixels per cell of F's features (8, or 8 / encoder_input_scale; half that with
        encoder_stride4)."""
        return STRIDE * self.grid_ratio

    def _shrink(self, frames):  # also used by training.seed_matcher
        """Frames as F sees them (average-pooled when encoder_input_scale < 1)."""
        return self.encoder_shrink(frames) if self.encoder_factor > 1 else frames

    def _to_encoder_grid(self, heatmaps):
        return self.heatmap_shrink(heatmaps) if self.grid_ratio > 1 else heatmaps

    def _to_output_grid(self, heatmaps):
        return self.heatmap_grow(heatmaps) if self.grid_ratio > 1 else heatmaps

    def _to_distillator_grid(self, maps):
        """F's features or heatmaps on F's grid -> the grid Phi reads (stride 8 of F's input)."""
        return self.distillator_pool(maps) if self.encoder_stride4 else maps

    def _single_frame(self, frames, training):
        """The single-frame variants' network: F with a classifier, at F's input scale."""
        return self._to_output_grid(self.initializer(self._shrink(frames), training=training))

    def initialize(self, frame, training=False):
        """frame [B, H, W, 3] RGB 0..255 -> (heatmaps [B, H/8, W/8, K], state)."""
        if not self.temporal:
            return self._single_frame(frame, training), self._empty_state(frame)
        heatmaps = self.initializer(frame, training=training)
        features = self.encoder(self._shrink(frame), training=training)
        return heatmaps, self._distill(features, self._to_encoder_grid(heatmaps),
                                       self._zero_lstm_state(features), training)

    def _zero_lstm_state(self, features):
        if not self.lstm:
            return None
        shape = ops.shape(features)
        return ops.zeros((shape[0], shape[1], shape[2], 2 * self.kernel_channels),
                         dtype=features.dtype)

    def _distill(self, features, heatmaps, state, training):
        """Phi(f_t, h_t) -> kernel bases, both on F's grid; for w_lstm the ConvLSTM update of the
        state."""
        if self.lstm:
            return self.distillator([ops.concatenate([features, heatmaps], axis=-1), state])
        return self.distillator([self._to_distillator_grid(features),
                                 self._to_distillator_grid(heatmaps)], training=training)

    def step(self, frame, state, training=False):
        """frame [B, H, W, 3], state from the previous frame -> (heatmaps, next state)."""
        if not self.temporal:
            return self._single_frame(frame, training), self._empty_state(frame)
        features = self.encoder(self._shrink(frame), training=training)
        return self._match_and_distill(features, state, training)

    def _match_and_distill(self, features, state, training):
        """-> (heatmaps on the output grid, next state); Phi reads them on F's grid."""
        heatmaps = self.matcher([features, state], training=training)
        return (self._to_output_grid(heatmaps),
                self._distill(features, heatmaps, state, training))

    def call(self, clip, training=None):
        """clip [B, T, H, W, 3] -> heatmaps [B, T, H/8, W/8, K], frame 1 from P, then steps.

        F runs once on all T frames (one large batch is faster than T small ones); the result is
        the same as calling initialize/step frame by frame (tested).
        """
        t = clip.shape[1]
        flat = ops.reshape(clip, (-1,) + tuple(clip.shape[2:]))
        if not self.temporal:
            out = self._single_frame(flat, training)
            return ops.reshape(out, (-1, t) + tuple(out.shape[1:]))
        heatmaps = self.initializer(clip[:, 0], training=training)
        feats = self.encoder(self._shrink(flat), training=training)
        feats = ops.reshape(feats, (-1, t) + tuple(feats.shape[1:]))
        state = self._distill(feats[:, 0], self._to_encoder_grid(heatmaps),
                              self._zero_lstm_state(feats[:, 0]), training)
        outputs = [heatmaps]
        for i in range(1, t):
            heatmaps, state = self._match_and_distill(feats[:, i], state, training)
            outputs.append(heatmaps)
        return ops.stack(outputs, axis=1)

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="rmsprop", d_optimizer=None, **kwargs):
        """optimizer updates the generator (P, F, Phi, matching head); d_optimizer updates D."""
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.generator_variables)
        if self.adversarial:
            if d_optimizer is None:
                raise ValueError(f"variant {self.variant!r} with eta={self.eta} trains a "
                                 "discriminator: pass d_optimizer")
            self.d_optimizer = keras.optimizers.get(d_optimizer)
            self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def generator_variables(self):
        nets = [self.initializer]
        if self.temporal:
            nets += [self.encoder, self.distillator, self.matcher]
        return [v for n in nets for v in n.trainable_variables]

    @property
    def metrics(self):
        return list(self._trackers.values())

    def pose_loss(self, heatmaps, targets, weights):
        """Eq. 3: sum over frames of the (visibility-weighted) heatmap MSE."""
        t = heatmaps.shape[1]
        return sum(weighted_mse(heatmaps[:, i], targets[:, i], weights[:, i],
                                self.foreground_weight) for i in range(t))

    def adversarial_losses(self, frames, heatmaps, targets):
        """Sums over t of l2(d_real_t, d_hat_t) and l2(d_fake_t, d_t) (eq. 4, 7).

        For w_sat the spatial D reconstructs single-frame heatmaps instead: sums over all T
        frames of l2(D(I_t, h_hat_t), h_hat_t) and l2(D(I_t, h_t), h_t), as in [6].
        """
        t = heatmaps.shape[1]
        if self.spatial_adversary:
            i, g, h = (ops.reshape(x, (-1,) + tuple(x.shape[2:]))
                       for x in (frames, targets, heatmaps))
            real = ops.mean(ops.square(self.discriminator([i, g], training=True) - g)) * t
            fake = ops.mean(ops.square(self.discriminator([i, h], training=True) - h)) * t
            return real, fake

        def pairs(x, offset):  # frames/maps t (offset 0) or t+1 (offset 1), folded into batch
            return ops.reshape(x[:, offset:offset + t - 1], (-1,) + tuple(x.shape[2:]))

        def summed_mse(a, b):  # mean over each pair's elements, summed over the T-1 pairs
            return ops.mean(ops.square(a - b)) * (t - 1)

        i0, i1 = pairs(frames, 0), pairs(frames, 1)
        g0, g1 = pairs(targets, 0), pairs(targets, 1)
        h0, h1 = pairs(heatmaps, 0), pairs(heatmaps, 1)
        d_real = self.discriminator([i0, g0, i1, g1], training=True)
        d_fake = self.discriminator([i0, h0, i1, h1], training=True)
        return summed_mse(d_real, g1 - g0), summed_mse(d_fake, h1 - h0)

    def train_step(self, data):
        frames, targets, weights = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape(persistent=True) as tape:
            heatmaps = self(frames, training=True)
            pose_loss = self.pose_loss(heatmaps, targets, weights)
            g_loss = pose_loss
            if self.adversarial:
                real_loss, fake_loss = self.adversarial_losses(frames, heatmaps, targets)
                d_loss = self.lam * fake_loss - real_loss  # eq. 4
                g_loss = pose_loss + self.eta * fake_loss  # eq. 5, generator side
            scaled_g = _scale_for_replicas(g_loss)
            if self.adversarial:
                scaled_d = _scale_for_replicas(-d_loss)  # D maximizes L_D
        if self.adversarial:
            d_vars = self.discriminator.trainable_variables
            self.d_optimizer.apply_gradients(zip(tape.gradient(scaled_d, d_vars), d_vars))
        g_vars = self.generator_variables
        self.optimizer.apply_gradients(zip(tape.gradient(scaled_g, g_vars), g_vars))
        del tape
        self._trackers["loss"].update_state(g_loss)
        self._trackers["pose_loss"].update_state(pose_loss)
        if self.adversarial:
            # Eq. 7, after both updates as in Algorithm 1; lambda stays in [0, 1].
            self.lam.assign(ops.clip(self.lam + self.gamma * (real_loss - fake_loss), 0.0, 1.0))
            self._trackers["adv_fake_loss"].update_state(fake_loss)
            self._trackers["adv_real_loss"].update_state(real_loss)
            self._trackers["d_loss"].update_state(d_loss)
        return self._logs()

    def test_step(self, data):
        frames, targets, weights = keras.utils.unpack_x_y_sample_weight(data)
        heatmaps = self(frames, training=False)
        pose_loss = self.pose_loss(heatmaps, targets, weights)
        self._trackers["loss"].update_state(pose_loss)
        self._trackers["pose_loss"].update_state(pose_loss)
        return {n: self._trackers[n].result() for n in ("loss", "pose_loss")}

    def _logs(self):
        names = ["loss", "pose_loss"]
        if self.adversarial:
            names += ["adv_fake_loss", "adv_real_loss", "d_loss"]
        logs = {n: self._trackers[n].result() for n in names}
        logs["g_steps"] = ops.cast(self.optimizer.iterations, "float32")
        if self.adversarial:
            logs["lambda"] = ops.convert_to_tensor(self.lam)
            logs["d_steps"] = ops.cast(self.d_optimizer.iterations, "float32")
        return logs

    # ------------------------------------------------------------------ serialization
    def get_config(self):
        return {
            **super().get_config(),
            "num_joints": self.num_joints, "variant": self.variant,
            "initializer_backbone": self.initializer_backbone,
            "encoder_backbone": self.encoder_backbone,
            "initializer_width": self.initializer_width, "encoder_width": self.encoder_width,
            "deconv_filters": self.deconv_filters,
            "initializer_deconv_filters": self.initializer_deconv_filters,
            "kernel_size": self.kernel_size, "kernel_channels": self.kernel_channels,
            "distillator_pools": self.distillator_pools,
            "distillator_output": self.distillator_output,
            "kernel_residual": self.kernel_residual,
            "eta": self.eta, "gamma": self.gamma,
            "discriminator_scale": self.discriminator_scale,
            "foreground_weight": self.foreground_weight,
            "encoder_input_scale": self.encoder_input_scale,
            "encoder_stride4": self.encoder_stride4,
            "initializer_trainable": self.initializer_trainable,
            "encoder_trainable": self.encoder_trainable,
        }

    @classmethod
    def from_preset(cls, preset: str, member: str = "dkd") -> "DKD":
        """The Keras model of a preset's member (keras-hub's from_preset), through the one
        loader of model directories (dkd_tf.models.model_dir.load_checked, as every command's):
        the preset's files are checked against their checksums first (presets.verify), then the
        model loads in safe mode and must be what its config.json describes. A model file
        replaced or damaged by hand is refused, never run.

        preset: a name of dkd_tf.presets.list(), an alias (its folder name) or a preset folder.
        member: 'dkd' (the DKD) or 'baseline' (its per-frame Baseline) in the shipped presets."""
        directory = presets.member_dir(preset, member)
        if not os.path.isfile(os.path.join(directory, presets.MODEL_FILE)):
            raise presets.PresetError(
                f"{os.path.join(directory, presets.MODEL_FILE)}: member {member!r} of preset "
                f"{preset!r} is no Keras model (an export: PoseTracker.from_preset runs it)")
        return model_dir_lib.load_checked(directory, cls, verified=True)[0]

    def get_compile_config(self):
        # Training state (both optimizers, lambda, epoch) lives in the training checkpoints;
        # a saved .keras model is for inference and loads without compiling.
        return None

    @property
    def stride(self) -> int:
        return STRIDE
