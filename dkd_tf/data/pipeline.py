"""Training clips as a tf.data pipeline (paper sec. 4.1).

Every start position of every video is a candidate clip of T consecutive frames. A clip gets one
augmentation draw (scale, rotation, flip, shift, light) shared by all its frames, and each frame
is cropped around its own person centre, as the paper crops "based on the person center".

Frames: when every decoded frame of the selected videos fits in `cache_bytes` (the synthetic set,
Sub-JHMDB) and all share one size, they are decoded once, up front, into one uint8 array that the
graph indexes, so no epoch decodes a JPEG again and the pipeline never takes Python's lock;
otherwise (Penn Action, MPII) each clip's frames are decoded with OpenCV inside tf.py_function.
Either way a corrupt or missing file fails with its name.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from dkd_tf.core import codec, joints as joints_lib
from dkd_tf.data import transforms
from dkd_tf.data.frames import load_frame
from dkd_tf.data.records import VideoRecord


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Clip-consistent augmentation; the defaults are the paper's (sec. 4.1) and SimpleBaseline's
    rotation probability. max_translation (not in the paper, 0 by default) shifts the crop centre
    by up to that fraction of the person size, so that a model streamed with crops that follow its
    own keypoints does not depend on the person being exactly centred. photometric (not in the
    paper, 0 by default) draws brightness, contrast and saturation gains in 1 +- that."""

    scale_range: tuple = (0.8, 1.4)
    max_rotation: float = 40.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5
    max_translation: float = 0.0
    photometric: float = 0.0


def augmentation_of(cfg) -> Augmentation:
    """The Augmentation a TrainConfig asks for."""
    return Augmentation((cfg.scale_min, cfg.scale_max), cfg.max_rotation, cfg.rotation_prob,
                        cfg.flip_prob, cfg.max_translation, cfg.photometric)


def photometric(frames, gains):
    """Frames [T, S, S, 3] in 0..255 with one clip's brightness, contrast and saturation gains
    `gains` [3] applied in that order: contrast about each frame's mean grey, saturation about
    each pixel's grey (ITU-R 601 weights); clipped to 0..255. The same gains for every frame, so
    the clip's motion and its temporal cues stay real."""
    x = frames * gains[0]
    grey = tf.reduce_sum(x * tf.constant([0.299, 0.587, 0.114]), -1, keepdims=True)
    mean = tf.reduce_mean(grey, axis=[1, 2, 3], keepdims=True)
    x = mean + (x - mean) * gains[1]
    grey = mean + (grey - mean) * gains[1]
    x = grey + (x - grey) * gains[2]
    return tf.clip_by_value(x, 0.0, 255.0)


NO_AUGMENTATION = Augmentation((1.0, 1.0), 0.0, 0.0, 0.0)


DEFAULT_CACHE_BYTES = 1 << 30  # decoded frames held in memory up to this size


def clip_table(records: list[VideoRecord], clip_length: int) -> dict:
    """All clips of `clip_length` consecutive frames, as flat arrays for tf.data.

    'frame_index' [N, T] numbers the frames of all records in order (the row of a frame cache).
    """
    if not records:
        raise ValueError("no videos to sample clips from")
    paths, index, joints, vis, boxes = [], [], [], [], []
    first = 0
    for rec in records:
        for start in range(rec.num_frames - clip_length + 1):
            sl = slice(start, start + clip_length)
            paths.append([str(p) for p in rec.frame_paths[sl]])
            index.append(np.arange(first + start, first + start + clip_length))
            joints.append(rec.joints[sl])
            vis.append(rec.visibility[sl])
            boxes.append(rec.bboxes[sl])
        first += rec.num_frames
    if not paths:
        raise ValueError(f"every video is shorter than the clip length {clip_length}")
    return {"paths": np.array(paths), "frame_index": np.array(index, np.int32),
            "joints": np.array(joints, np.float32),
            "visibility": np.array(vis, np.float32), "bboxes": np.array(boxes, np.float32)}


def _load_clip(paths):
    frames = [load_frame(p.decode()) for p in paths.numpy()]
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"frames of one clip differ in size {shapes}: {paths.numpy()[0]!r}")
    return np.stack(frames)


def decode_all_frames(records: list[VideoRecord], cache_bytes: int = DEFAULT_CACHE_BYTES):
    """uint8 [N, H, W, 3] of every frame of `records` in clip_table's order, or None when they
    would exceed cache_bytes or differ in size (then clips are decoded on the fly)."""
    sizes = {tuple(r.image_size) for r in records if r.image_size}
    if len(sizes) != 1 or any(not r.image_size for r in records):
        return None
    (h, w), = sizes
    n = sum(r.num_frames for r in records)
    if n * h * w * 3 > cache_bytes:
        return None
    out = np.empty((n, h, w, 3), np.uint8)
    i = 0
    for rec in records:
        for path in rec.frame_paths:
            frame = load_frame(path)
            if frame.shape != (h, w, 3):
                return None  # a frame disagrees with its video's size: decode per clip instead
            out[i] = frame
            i += 1
    return out


def make_clip_fn(joint_set: joints_lib.JointSet, input_size: int, stride: int, sigma: float,
                 augmentation: Augmentation, frame_cache: np.ndarray | None = None):
    """Returns (clip dict, seed [2]) -> (frames [T, S, S, 3] 0..255, heatmaps [T, S/8, S/8, K], weights [T, K])."""
    perm = tf.constant(joint_set.flip_permutation(), tf.int32)
    hm_size = input_size // stride
    cache = None if frame_cache is None else tf.constant(frame_cache)

    def fn(clip, seed):
        t = clip["paths"].shape[0]
        if cache is not None:
            frames = tf.gather(cache, clip["frame_index"])
        else:
            frames = tf.py_function(_load_clip, [clip["paths"]], tf.uint8)
            frames.set_shape([t, None, None, 3])
        aug = augmentation
        u = tf.random.stateless_uniform([6], seed=seed)  # one draw per clip, shared by frames
        scale = aug.scale_range[0] + u[0] * (aug.scale_range[1] - aug.scale_range[0])
        rotation = tf.where(u[1] < aug.rotation_prob, (2.0 * u[2] - 1.0) * aug.max_rotation, 0.0)
        flip = u[3] < aug.flip_prob
        centers, sizes = transforms.box_center_size(clip["bboxes"])
        shift = (2.0 * u[4:6] - 1.0) * aug.max_translation  # in person sizes
        centers = centers + shift[None, :] * sizes[:, None]
        out_frames, out_maps, out_weights = [], [], []
        for i in range(t):
            m = transforms.crop_matrix(centers[i], sizes[i], input_size, scale, rotation, flip)
            out_frames.append(transforms.warp_image(frames[i], m, input_size))
            pts = transforms.transform_points(m, clip["joints"][i])
            vis = clip["visibility"][i]
            pts = tf.where(flip, tf.gather(pts, perm), pts)
            vis = tf.where(flip, tf.gather(vis, perm), vis)
            inside = tf.reduce_all((pts >= 0.0) & (pts <= input_size - 1.0), axis=-1)
            weights = vis * tf.cast(inside, tf.float32)
            out_maps.append(codec.encode_heatmaps(pts, weights, hm_size, hm_size, stride, sigma))
            out_weights.append(weights)
        out_frames = tf.stack(out_frames)
        if aug.photometric:  # its own stream, so the geometric draws stay those of runs before
            v = tf.random.stateless_uniform(
                [3], seed=tf.random.experimental.stateless_fold_in(seed, 1))
            out_frames = photometric(out_frames, 1.0 + (2.0 * v - 1.0) * aug.photometric)
        return out_frames, tf.stack(out_maps), tf.stack(out_weights)

    return fn


def epoch_order(n: int, per_epoch: int, seed: int, first_epoch: int = 0,
                epochs: int = 1) -> tf.data.Dataset:
    """(clip index, augmentation seed [2]) for `epochs` epochs from `first_epoch`, each epoch
    `per_epoch` clips: whole seeded permutations of the n clips, concatenated.

    Epoch e's order and draws depend on (seed, e) alone (stateless ops), not on how many epochs
    this process has iterated, so a run resumed at epoch e sees exactly what an uninterrupted
    run sees there."""
    reps = -(-per_epoch // n)  # permutations per epoch
    seed = tf.constant(int(seed), tf.int64)

    def one_epoch(e):
        def permutation(r):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(n, dtype=tf.int64), seed=tf.stack([seed, 2 * (e * reps + r)]))
            return tf.data.Dataset.from_tensor_slices(order)
        index = tf.data.Dataset.range(reps).flat_map(permutation).take(per_epoch)
        draws = tf.data.Dataset.range(per_epoch).map(
            lambda p: tf.stack([seed, 2 * (e * per_epoch + p) + 1]))
        return tf.data.Dataset.zip(index, draws)

    return tf.data.Dataset.range(first_epoch, first_epoch + epochs).flat_map(one_epoch)


def make_dataset(records: list[VideoRecord], joint_set: joints_lib.JointSet, input_size: int,
                 clip_length: int, batch_size: int, training: bool, stride: int = 8,
                 sigma: float = 1.0, augmentation: Augmentation = Augmentation(),
                 clips_per_epoch: int | None = None, seed: int | None = None,
                 cache_bytes: int = DEFAULT_CACHE_BYTES, first_epoch: int = 0,
                 epochs: int = 1) -> tf.data.Dataset:
    """Batches of (frames [B, T, S, S, 3], heatmaps [B, T, S/8, S/8, K], weights [B, T, K]).

    Training takes `clips_per_epoch` clips per epoch (all, once, when None; epoch_order), so an
    epoch means the same amount of work whatever the video lengths, for `epochs` epochs from
    `first_epoch` (a resumed run passes the epoch it resumes at). Evaluation: every clip once,
    in order. cache_bytes: see the module docstring (0 decodes every clip on the fly).
    """
    table = clip_table(records, clip_length)
    frame_cache = decode_all_frames(records, cache_bytes) if cache_bytes else None
    n = len(table["paths"])
    if training:
        columns = {k: tf.constant(v) for k, v in table.items()}
        per_epoch = clips_per_epoch or n
        ds = epoch_order(n, per_epoch, seed or 0, first_epoch, epochs).map(
            lambda i, draw: ({k: tf.gather(v, i) for k, v in columns.items()}, draw))
        # flat_map hides the length; Keras needs it to run the epochs on one iterator quietly
        ds = ds.apply(tf.data.experimental.assert_cardinality(per_epoch * epochs))
    else:
        augmentation = NO_AUGMENTATION  # the draws are unused
        ds = tf.data.Dataset.zip(tf.data.Dataset.from_tensor_slices(table),
                                 tf.data.Dataset.from_tensors(tf.zeros([2], tf.int64)).repeat())
    fn = make_clip_fn(joint_set, input_size, stride, sigma, augmentation, frame_cache)
    # deterministic=True: the clip order never depends on thread timing, so a seed fixes a run.
    ds = ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)
