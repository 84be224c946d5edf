"""Labelled photos set in motion: a smooth random camera path over one photo makes a labelled clip.

No labelled real video can be downloaded, but labelled real photos can (LSP, LSPET). Moving a
virtual camera over a photo gives DKD's temporal parts (Phi, the kernel matching, D) real
appearance with known motion: every frame is the photo warped by an affine matrix M(t), and the
frame's joints are the photo's joints mapped by the very same M(t), so labels and pixels cannot
disagree. What it cannot give is articulation: the person is rigid; the teacher-labelled real
video (dkd_tf.data.teacher_labels) brings that.

The camera path, about the person's centre c (photo pixels, after an optional downscale f):

    M(t) = T(c + d(t)) . R(theta(t)) . S(exp(z(t))) . T(-c) . F

d (shift, a fraction of the person size), z (log zoom) and theta (rotation) are each a sum of
a few sinusoids with random periods between min_period and max_period frames and random phases,
weighted to sum to the amplitude: so |d| <= shift * size, and the speed is at most
amplitude * 2 pi / min_period per frame (smooth, bounded motion at any clip length). M(t) is a
function of continuous time, so motion blur is physical: a frame with exposure e (a fraction
of the frame interval) is the mean of warps at times spread over [t - e/2, t + e/2], and its
label is M(t), the centre of the exposure.

Pixel convention (one for pixels and joints): integer coordinates are pixel centres, the
convention of cv2.warpAffine (which warps the frames here), of dkd_tf.data.transforms and of
dkd_tf.core.codec. The rotation turns content counter-clockwise on screen, as transforms.crop_matrix.
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from dkd_tf.core import joints as joints_lib
from dkd_tf.core.crop_geometry import transform_points
from dkd_tf.data import penn_action
from dkd_tf.data.frames import load_frame
from dkd_tf.data.records import VideoRecord

ACTION = "photo_motion"  # the `action` of every clip written here
MAX_BLUR_SAMPLES = 9  # warps averaged for a blurred frame, at most


@dataclasses.dataclass(frozen=True)
class Motion:
    """How far and how fast the virtual camera moves.

    shift: largest translation, a fraction of the person size (max side of the person box).
    zoom: largest scale change: the scale stays within [1 / (1 + zoom), 1 + zoom].
    rotation_deg: largest rotation.
    min_period, max_period: periods of the sinusoids, in frames (smaller: faster motion).
    components: sinusoids per parameter (more: less regular paths).
    exposure: motion blur, the shutter open for this fraction of a frame interval (0: sharp).
    """

    shift: float = 0.2
    zoom: float = 0.15
    rotation_deg: float = 8.0
    min_period: float = 20.0
    max_period: float = 90.0
    components: int = 3
    exposure: float = 0.5

    def __post_init__(self):
        if min(self.shift, self.zoom, self.rotation_deg, self.exposure) < 0:
            raise ValueError(f"motion amplitudes and exposure must be >= 0: {self}")
        if not 0 < self.min_period <= self.max_period:
            raise ValueError(f"need 0 < min_period <= max_period: {self}")
        if self.components < 1:
            raise ValueError(f"need at least one sinusoid per parameter: {self}")


class SmoothSignal:
    """amplitude * sum_k w_k sin(2 pi t / P_k + phi_k), sum w_k = 1: |value| <= amplitude and
    |derivative| <= amplitude * 2 pi / min(P_k), at any continuous time t (frames)."""

    def __init__(self, rng: np.random.Generator, amplitude: float, motion: Motion):
        k = motion.components
        self.amplitude = float(amplitude)
        # Log-uniform periods: slow drifts and quicker sways are equally likely.
        self.periods = np.exp(rng.uniform(math.log(motion.min_period),
                                          math.log(motion.max_period), k))
        self.phases = rng.uniform(0.0, 2.0 * math.pi, k)
        w = rng.uniform(0.5, 1.0, k)
        self.weights = w / w.sum()

    def __call__(self, t) -> np.ndarray:
        t = np.asarray(t, np.float64)[..., None]
        return self.amplitude * np.sum(
            self.weights * np.sin(2.0 * math.pi * t / self.periods + self.phases), axis=-1)


def downscale_matrix(image_size, max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """(F [3, 3], (H', W')): shrinks a photo whose longer side exceeds max_side (0: never), in
    the pixel-centre convention (the photo's edges map to the new edges)."""
    h, w = image_size
    f = 1.0 if not max_side or max(h, w) <= max_side else max_side / max(h, w)
    size = (max(1, round(h * f)), max(1, round(w * f)))
    fy, fx = size[0] / h, size[1] / w
    return np.array([[fx, 0.0, 0.5 * (fx - 1)], [0.0, fy, 0.5 * (fy - 1)], [0.0, 0.0, 1.0]]), size


class CameraPath:
    """M(t) [3, 3], photo pixels -> frame pixels, for continuous time t (frames)."""

    def __init__(self, rng: np.random.Generator, center, person_size: float,
                 motion: Motion = Motion(), base=None):
        self.center = np.asarray(center, np.float64)  # in frame pixels (after `base`)
        self.base = np.eye(3) if base is None else np.asarray(base, np.float64)
        self.motion = motion
        amp = motion.shift * float(person_size)
        self.dx = SmoothSignal(rng, amp, motion)
        self.dy = SmoothSignal(rng, amp, motion)
        self.log_zoom = SmoothSignal(rng, math.log1p(motion.zoom), motion)
        self.angle = SmoothSignal(rng, math.radians(motion.rotation_deg), motion)

    def matrix(self, t: float) -> np.ndarray:
        s = math.exp(float(self.log_zoom(t)))
        a = float(self.angle(t))
        cos, sin = math.cos(a) * s, math.sin(a) * s
        lin = np.array([[cos, sin], [-sin, cos]])  # R(-a) with y down: content turns CCW
        shift = self.center + np.array([float(self.dx(t)), float(self.dy(t))])
        m = np.eye(3)
        m[:2, :2] = lin
        m[:2, 2] = shift - lin @ self.center
        return m @ self.base

    def matrices(self, num_frames: int) -> np.ndarray:
        return np.stack([self.matrix(t) for t in range(num_frames)])


def warp(photo: np.ndarray, matrix, out_size, border=cv2.BORDER_REFLECT_101) -> np.ndarray:
    """float32 frame [H', W', C]: frame(p) = photo(M^-1 p), bilinear. Reflected borders by
    default: a constant fill would move with the camera, a motion cue no real video has."""
    h, w = out_size
    return cv2.warpAffine(np.asarray(photo, np.float32), np.asarray(matrix, np.float64)[:2],
                          (int(w), int(h)), flags=cv2.INTER_LINEAR, borderMode=border)


def render_frame(photo, path: CameraPath, t: float, out_size, points=None,
                 border=cv2.BORDER_REFLECT_101) -> np.ndarray:
    """Frame t (float32). With exposure > 0, the mean of warps over [t - e/2, t + e/2]; as many
    as the farthest of `points` (photo pixels, e.g. the joints) travels in pixels during the
    exposure, from 1 to MAX_BLUR_SAMPLES."""
    e = path.motion.exposure
    n = 1
    if e > 0:
        pts = np.asarray(points if points is not None else [path.center], np.float64)
        a = transform_points(path.matrix(t - e / 2), pts)
        b = transform_points(path.matrix(t + e / 2), pts)
        n = int(np.clip(math.ceil(np.max(np.linalg.norm(b - a, axis=-1))), 1, MAX_BLUR_SAMPLES))
    if n == 1:
        return warp(photo, path.matrix(t), out_size, border)
    times = t + e * (np.arange(n) + 0.5 - n / 2.0) / n  # centred on t
    return np.mean([warp(photo, path.matrix(u), out_size, border) for u in times], axis=0)


@dataclasses.dataclass
class Clip:
    frames: list          # uint8 RGB [H', W', 3] each
    joints: np.ndarray    # float32 [T, K, 2], the record's joint set
    visibility: np.ndarray  # float32 [T, K]: labelled and inside the frame
    bboxes: np.ndarray    # float32 [T, 4], bounding the labelled joints
    matrices: np.ndarray  # float64 [T, 3, 3], photo pixels -> frame pixels


def person_box(joints, labelled) -> np.ndarray:
    """(x1, y1, x2, y2) bounding the labelled joints (as the LSP reader's boxes)."""
    pts = np.asarray(joints)[np.asarray(labelled) > 0]
    if len(pts) == 0:
        pts = np.asarray(joints)
    return np.concatenate([pts.min(0), pts.max(0)]).astype(np.float32)


def animate(photo: np.ndarray, joints, labelled, num_frames: int, rng: np.random.Generator,
            motion: Motion = Motion(), max_side: int = 0,
            border=cv2.BORDER_REFLECT_101) -> Clip:
    """One clip of `num_frames` from a photo [H, W, 3] and its joints [K, 2] (photo pixels) with
    `labelled` [K] (1: labelled). The path turns about the person box's centre."""
    joints = np.asarray(joints, np.float64)
    labelled = np.asarray(labelled, np.float32)
    base, out_size = downscale_matrix(photo.shape[:2], max_side)
    box = person_box(transform_points(base, joints), labelled)
    center = (box[:2] + box[2:]) / 2.0
    size = max(float(np.max(box[2:] - box[:2])), 1.0)
    path = CameraPath(rng, center, size, motion, base)
    frames, kps, vis, boxes = [], [], [], []
    h, w = out_size
    for t in range(num_frames):
        frame = render_frame(photo, path, t, out_size, joints[labelled > 0], border)
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
        xy = transform_points(path.matrix(t), joints)
        inside = ((xy[:, 0] >= -0.5) & (xy[:, 0] <= w - 0.5) &
                  (xy[:, 1] >= -0.5) & (xy[:, 1] <= h - 0.5))
        kps.append(xy)
        vis.append(labelled * inside)
        boxes.append(person_box(xy, labelled))
    return Clip(frames, np.asarray(kps, np.float32), np.asarray(vis, np.float32),
                np.asarray(boxes, np.float32), path.matrices(num_frames))


def to_joint_set(joints, visibility, source: joints_lib.JointSet,
                 target: joints_lib.JointSet):
    """[..., K_src, 2], [..., K_src] -> the target set's joints; a joint the source lacks is
    unlabelled (visibility 0, at the origin)."""
    idx = np.asarray(joints_lib.mapping(source, target))
    have = idx >= 0
    j = np.where(have[:, None], np.take(joints, np.maximum(idx, 0), axis=-2), 0.0)
    v = np.where(have, np.take(visibility, np.maximum(idx, 0), axis=-1), 0.0)
    return j.astype(np.float32), v.astype(np.float32)


def write_clips(records: list[VideoRecord], out_dir, num_clips: int, num_frames: int,
                seed: int, motion: Motion = Motion(), max_side: int = 0, first_id: int = 1,
                progress=None) -> list[str]:
    """Writes `num_clips` clips of `num_frames` into out_dir in Penn Action's format (ids
    first_id, first_id + 1, ...), joints mapped to Penn Action's 13; returns the .mat paths.

    Photos are taken in a seeded random order (cycling when num_clips exceeds them) and clip i
    draws its path from its own generator (seed, i): the same seed and records give the same
    files, and clip i does not depend on num_clips. Each .mat also holds `source` (the photo's
    record id) and `camera` [T, 3, 3] (photo pixels -> frame pixels)."""
    if not records:
        raise ValueError("no labelled photos to set in motion")
    if num_clips < 1 or num_frames < 1:
        raise ValueError(f"need at least one clip of one frame, got {num_clips} x {num_frames}")
    order = np.random.default_rng(seed).permutation(len(records))
    paths = []
    for i in range(num_clips):
        rec = records[int(order[i % len(records)])]
        source = joints_lib.get(rec.joint_set)
        clip = animate(load_frame(rec.frame_paths[0]), rec.joints[0], rec.visibility[0],
                       num_frames, np.random.default_rng([seed, i]), motion, max_side)
        kps, vis = to_joint_set(clip.joints, clip.visibility, source,
                                 joints_lib.PENN_ACTION)
        paths.append(penn_action.write_video(
            out_dir, first_id + i, clip.frames, kps, vis, clip.bboxes, rec.split == "train",
            action=ACTION, extra={"source": rec.video_id, "camera": clip.matrices}))
        if progress:
            progress(i + 1, num_clips)
    return paths

