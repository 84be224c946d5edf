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

A passer (Passer, optional) is a second person walking past in front: in real footage the
tracker's worst moment is another person crossing its person (vtest: the joints move to whoever
walks in front). It is cut out of another photo with a soft body-shaped mask drawn from that
photo's skeleton (body_mask), scaled to about the labelled person's size and pasted into the
photo at a point that moves along a straight line across the person's centre, before the camera
path renders the frame (so the camera moves both alike; the passer's own motion is not blurred).
The labelled person's joints keep their labels where the passer covers them (the target stays
on the person: where the hidden joint is, not where the passer's joint is); which ones are
covered is written as `occluded`.

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


@dataclasses.dataclass(frozen=True)
class Passer:
    """A second person crossing in front of the labelled one.

    prob: the share of clips that get a passer (0: none, the clips of earlier versions).
    size_range: the passer's size (max side of its joint box) over the labelled person's.
    travel: the passer's path, in person sizes, from -travel/2 to +travel/2 about the person's
        centre, horizontal (people walk past), crossing the centre at a random frame of the
        middle half of the clip, from a random side.
    height: largest vertical offset of that path, in person sizes.
    """

    prob: float = 0.0
    size_range: tuple[float, float] = (0.8, 1.25)
    travel: float = 2.0
    height: float = 0.15

    def __post_init__(self):
        if not 0.0 <= self.prob <= 1.0:
            raise ValueError(f"passer prob must be within [0, 1]: {self}")
        if not 0.0 < self.size_range[0] <= self.size_range[1]:
            raise ValueError(f"need 0 < size_range[0] <= size_range[1]: {self}")
        if min(self.travel, self.height) < 0:
            raise ValueError(f"passer travel and height must be >= 0: {self}")


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


def body_mask(shape, joints, labelled, joint_set: joints_lib.JointSet,
              width: float) -> np.ndarray:
    """float32 [H, W] in [0, 1]: a person-shaped mask from a skeleton. Each skeleton edge
    between labelled joints is a stroke `width` px thick, the torso (shoulders and hips, where
    labelled) is filled, and the edge is feathered by a Gaussian of width / 4 px."""
    h, w = shape
    mask = np.zeros((h, w), np.float32)
    pts = np.asarray(joints, np.float64)
    ok = np.asarray(labelled) > 0
    thick = max(1, int(round(width)))
    for i, j in joint_set.edges:
        if ok[i] and ok[j]:
            cv2.line(mask, tuple(int(round(v)) for v in pts[i]),
                     tuple(int(round(v)) for v in pts[j]), 1.0, thick, cv2.LINE_AA)
    for k in np.flatnonzero(ok):
        cv2.circle(mask, tuple(int(round(v)) for v in pts[k]), thick // 2, 1.0, -1, cv2.LINE_AA)
    torso = [joint_set.index(n) for n in ("l_shoulder", "r_shoulder", "r_hip", "l_hip")
             if n in joint_set.names]
    torso = [k for k in torso if ok[k]]
    if len(torso) >= 3:
        hull = cv2.convexHull(np.round(pts[torso]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0, cv2.LINE_AA)
    sigma = max(width / 4.0, 0.5)
    return np.clip(cv2.GaussianBlur(mask, (0, 0), sigma), 0.0, 1.0)


class PasserPath:
    """A passer's cut-out and its place at time t, in the labelled photo's pixels:

        A(t) = T(q(t)) . S(s) . T(-b),   q(t) = c + size * (d * (t - t0) * v, y0)

    b: the cut-out's box centre; s: its scale to size_ratio x the person's size; c, size: the
    labelled person's box centre and size (photo pixels); d = +-1 the side it comes from; v the
    speed (travel / (T - 1) person sizes per frame); t0 the frame it crosses c; y0 its height."""

    def __init__(self, rng: np.random.Generator, photo: np.ndarray, joints, labelled,
                 joint_set: joints_lib.JointSet, center, size: float, num_frames: int,
                 passer: Passer = Passer(prob=1.0), source: str = ""):
        self.source = source  # the passer photo's record id
        pts = np.asarray(joints, np.float64)
        box = person_box(pts, labelled)
        own_size = max(float(np.max(box[2:] - box[:2])), 1.0)
        width = 0.12 * own_size  # a limb's thickness, about, at the passer's own size
        pad = int(math.ceil(width))
        x0, y0 = (np.floor(box[:2]).astype(int) - pad).clip(0)
        x1, y1 = np.minimum(np.ceil(box[2:]).astype(int) + pad + 1,
                            [photo.shape[1], photo.shape[0]])
        self.cutout = np.asarray(photo, np.float32)[y0:y1, x0:x1]
        self.mask = body_mask(self.cutout.shape[:2], pts - [x0, y0], labelled, joint_set, width)
        ratio = float(rng.uniform(*passer.size_range))
        self.scale = ratio * float(size) / own_size
        self.box_center = (box[:2] + box[2:]) / 2.0 - [x0, y0]
        self.center = np.asarray(center, np.float64)
        self.size = float(size)
        last = max(num_frames - 1, 1)
        self.side = float(rng.choice([-1.0, 1.0]))
        self.speed = passer.travel / last
        self.cross = float(rng.uniform(0.25, 0.75)) * (num_frames - 1)
        self.height = float(rng.uniform(-passer.height, passer.height))

    def position(self, t: float) -> np.ndarray:
        """q(t): the cut-out's centre in photo pixels."""
        return self.center + self.size * np.array(
            [self.side * (t - self.cross) * self.speed, self.height])

    def matrix(self, t: float) -> np.ndarray:
        """A(t) [3, 3]: cut-out pixels -> photo pixels."""
        m = np.diag([self.scale, self.scale, 1.0])
        m[:2, 2] = self.position(t) - self.scale * self.box_center
        return m

    def composite(self, photo: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(photo with the passer pasted over it, float32 [H, W, C]; its alpha [H, W])."""
        h, w = photo.shape[:2]
        a = self.matrix(t)[:2]
        layer = cv2.warpAffine(self.cutout, a, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT)
        alpha = cv2.warpAffine(self.mask, a, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT)
        base = np.asarray(photo, np.float32)
        layer = layer.reshape(base.shape)
        return base + alpha.reshape(h, w, *([1] * (base.ndim - 2))) * (layer - base), alpha


def covered(alpha: np.ndarray, joints, threshold: float = 0.5) -> np.ndarray:
    """float32 [K]: 1 where the joint's pixel (nearest, photo pixels) is covered by the passer
    (alpha >= threshold); joints outside the photo are not."""
    h, w = alpha.shape
    xy = np.round(np.asarray(joints, np.float64)).astype(int)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    out = np.zeros(len(xy), np.float32)
    out[inside] = alpha[xy[inside, 1], xy[inside, 0]] >= threshold
    return out


@dataclasses.dataclass
class Clip:
    frames: list          # uint8 RGB [H', W', 3] each
    joints: np.ndarray    # float32 [T, K, 2], the record's joint set
    visibility: np.ndarray  # float32 [T, K]: labelled and inside the frame
    bboxes: np.ndarray    # float32 [T, 4], bounding the labelled joints
    matrices: np.ndarray  # float64 [T, 3, 3], photo pixels -> frame pixels
    occluded: np.ndarray | None = None  # float32 [T, K]: covered by the passer (None: no passer)
    passer: PasserPath | None = None


def person_box(joints, labelled) -> np.ndarray:
    """(x1, y1, x2, y2) bounding the labelled joints (as the LSP reader's boxes)."""
    pts = np.asarray(joints)[np.asarray(labelled) > 0]
    if len(pts) == 0:
        pts = np.asarray(joints)
    return np.concatenate([pts.min(0), pts.max(0)]).astype(np.float32)


def animate(photo: np.ndarray, joints, labelled, num_frames: int, rng: np.random.Generator,
            motion: Motion = Motion(), max_side: int = 0,
            border=cv2.BORDER_REFLECT_101, passer=None) -> Clip:
    """One clip of `num_frames` from a photo [H, W, 3] and its joints [K, 2] (photo pixels) with
    `labelled` [K] (1: labelled). The path turns about the person box's centre. passer: None, or
    a function (center, size) -> PasserPath in the photo's pixels, pasted before each frame is
    rendered."""
    joints = np.asarray(joints, np.float64)
    labelled = np.asarray(labelled, np.float32)
    base, out_size = downscale_matrix(photo.shape[:2], max_side)
    box = person_box(transform_points(base, joints), labelled)
    center = (box[:2] + box[2:]) / 2.0
    size = max(float(np.max(box[2:] - box[:2])), 1.0)
    path = CameraPath(rng, center, size, motion, base)
    walker = None
    if passer is not None:
        own = person_box(joints, labelled)
        walker = passer((own[:2] + own[2:]) / 2.0, max(float(np.max(own[2:] - own[:2])), 1.0))
    frames, kps, vis, boxes, occluded = [], [], [], [], []
    h, w = out_size
    for t in range(num_frames):
        shown = photo
        if walker is not None:
            shown, alpha = walker.composite(photo, t)
            occluded.append(covered(alpha, joints) * (labelled > 0))
        frame = render_frame(shown, path, t, out_size, joints[labelled > 0], border)
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
        xy = transform_points(path.matrix(t), joints)
        inside = ((xy[:, 0] >= -0.5) & (xy[:, 0] <= w - 0.5) &
                  (xy[:, 1] >= -0.5) & (xy[:, 1] <= h - 0.5))
        kps.append(xy)
        vis.append(labelled * inside)
        boxes.append(person_box(xy, labelled))
    return Clip(frames, np.asarray(kps, np.float32), np.asarray(vis, np.float32),
                np.asarray(boxes, np.float32), path.matrices(num_frames),
                np.asarray(occluded, np.float32) if walker is not None else None, walker)


def to_joint_set(joints, visibility, source: joints_lib.JointSet,
                 target: joints_lib.JointSet):
    """[..., K_src, 2], [..., K_src] -> the target set's joints; a joint the source lacks is
    unlabelled (visibility 0, at the origin)."""
    idx = np.asarray(joints_lib.mapping(source, target))
    have = idx >= 0
    j = np.where(have[:, None], np.take(joints, np.maximum(idx, 0), axis=-2), 0.0)
    v = np.where(have, np.take(visibility, np.maximum(idx, 0), axis=-1), 0.0)
    return j.astype(np.float32), v.astype(np.float32)


def passer_for(records: list[VideoRecord], index: int, rng: np.random.Generator,
               num_frames: int, passer: Passer):
    """None, or the `passer` argument of animate for the clip of records[index]: another
    record's person (drawn by rng, never the clip's own photo), with probability passer.prob."""
    if passer.prob <= 0 or len(records) < 2 or rng.uniform() >= passer.prob:
        return None
    other = int(rng.integers(len(records) - 1))
    rec = records[other + (other >= index)]
    photo = load_frame(rec.frame_paths[0])

    def make(center, size):
        return PasserPath(rng, photo, rec.joints[0], rec.visibility[0],
                          joints_lib.get(rec.joint_set), center, size, num_frames, passer,
                          rec.video_id)
    return make


def write_clips(records: list[VideoRecord], out_dir, num_clips: int, num_frames: int,
                seed: int, motion: Motion = Motion(), max_side: int = 0, first_id: int = 1,
                progress=None, passer: Passer = Passer()) -> list[str]:
    """Writes `num_clips` clips of `num_frames` into out_dir in Penn Action's format (ids
    first_id, first_id + 1, ...), joints mapped to Penn Action's 13; returns the .mat paths.

    Photos are taken in a seeded random order (cycling when num_clips exceeds them) and clip i
    draws its path from its own generator (seed, i): the same seed and records give the same
    files, and clip i does not depend on num_clips. Each .mat also holds `source` (the photo's
    record id) and `camera` [T, 3, 3] (photo pixels -> frame pixels). With passer.prob > 0, clip
    i draws its passer from a generator of its own (seed, i, 1), so the camera paths are those
    of the same seed without passers; a clip with one also holds `passer` (that photo's record
    id) and `occluded` [T, 13] (the labelled joints it covers)."""
    if not records:
        raise ValueError("no labelled photos to set in motion")
    if num_clips < 1 or num_frames < 1:
        raise ValueError(f"need at least one clip of one frame, got {num_clips} x {num_frames}")
    order = np.random.default_rng(seed).permutation(len(records))
    paths = []
    for i in range(num_clips):
        index = int(order[i % len(records)])
        rec = records[index]
        source = joints_lib.get(rec.joint_set)
        clip = animate(load_frame(rec.frame_paths[0]), rec.joints[0], rec.visibility[0],
                       num_frames, np.random.default_rng([seed, i]), motion, max_side,
                       passer=passer_for(records, index, np.random.default_rng([seed, i, 1]),
                                         num_frames, passer))
        kps, vis = to_joint_set(clip.joints, clip.visibility, source,
                                 joints_lib.PENN_ACTION)
        extra = {"source": rec.video_id, "camera": clip.matrices}
        if clip.passer is not None:
            _, occluded = to_joint_set(clip.joints, clip.occluded, source, joints_lib.PENN_ACTION)
            extra.update(passer=clip.passer.source, occluded=occluded)
        paths.append(penn_action.write_video(
            out_dir, first_id + i, clip.frames, kps, vis, clip.bboxes, rec.split == "train",
            action=ACTION, extra=extra))
        if progress:
            progress(i + 1, num_clips)
    return paths

