"""Procedural videos of articulated stick figures, written in Penn Action's on-disk format.

Why this exists: the real data sets cannot be downloaded here, and a toy task that a single-frame
model solves perfectly cannot show what DKD's temporal pose kernels buy. So the generator builds
in the ambiguities that only the previous frame resolves:
  - left and right limbs share one colour, and the figure turns (yaw), so left/right is only
    told apart by geometry, a small face cue (two eye dots; with face_cue, also a face-coloured
    front of the head, as a face is told from hair), and continuity over time (side_cue, a
    white stripe down each left limb, makes it locally visible: the ceiling experiment);
  - a distractor figure of identical appearance walks across the subject;
  - opaque occluders pass over the figure; motion blur hits some frames;
  - cluttered textured backgrounds with limb-coloured strokes, under a panning, zooming and
    slightly rolling camera.
Labels are exact: joints are quantized to the 1/16 px grid that cv2 draws on (shift=4), in
0-based pixel-centre coordinates, and those are the very points the limbs are drawn from.

Beside the labels, ROOT/tags/NNNN.json records per frame and joint what the generator did
(distractor overlap, occluders, blur, fast camera, crossing limbs; dkd_tf.data.tags); the Penn
Action reader ignores it.

Written by `python -m dkd_tf.make_synthetic --out DIR --videos N --frames T --seed S`.
"""
from __future__ import annotations

import json
import math
import os

import cv2
import numpy as np

from dkd_tf.data import penn_action, tags as tags_lib

OPTIONS_FILE = "synthetic.json"
DRAW_OPTIONS = ("face_cue", "side_cue")  # recorded in OPTIONS_FILE; absent ones were False
STRIPE = (255, 255, 255)  # side_cue's left-limb stripe
STRIPE_WIDTH = 0.4  # of the limb's width
SHIFT = 4  # cv2 fixed-point fractional bits: drawn points lie on a 1/16 px grid.
_ONE = 1 << SHIFT
K = 13
# Penn Action order: head, l_sho, r_sho, l_elb, r_elb, l_wri, r_wri, l_hip, r_hip, l_knee,
# r_knee, l_ank, r_ank.
HEAD, LSHO, RSHO, LELB, RELB, LWRI, RWRI, LHIP, RHIP, LKNE, RKNE, LANK, RANK = range(K)
MOTIONS = ("walk", "run", "wave", "jumping_jack", "squat", "punch")
FACE = K + 3  # index of the face's centre among a figure's drawn points
FACE_OFFSET, FACE_RADIUS = 0.5, 0.5  # in head radii: the face disc stays inside the head
SKIN, DARK_SKIN = (222, 178, 146), (92, 60, 42)


# ----------------------------------------------------------------------------------------------
# Figure: per-video body proportions and motion, posed in 3D body space, projected orthographically.

def _rand_color(rng, lo=30, hi=235):
    """A saturated random colour (HSV with high S and V), so limbs stand out from grey-ish noise."""
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(140, 256), rng.integers(110, 256)]]])
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(int)
    return tuple(int(np.clip(c, lo, hi)) for c in rgb)


def _color_dist(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a, float) - np.asarray(b, float)))


def _make_palette(rng) -> dict:
    """Head, torso, arm and leg colours; mutually distinct so each part is a distinct region."""
    cols = []
    while len(cols) < 4:
        c = _rand_color(rng)
        if all(_color_dist(c, d) > 70 for d in cols):
            cols.append(c)
    return {"head": cols[0], "torso": cols[1], "arm": cols[2], "leg": cols[3], "eye": (20, 20, 20)}


def face_color(head) -> tuple:
    """The face's colour: a skin tone unlike the head's (hair) colour. Drawn from no random
    numbers, so a seed's other draws, and every set made without face_cue, are unchanged."""
    return SKIN if _color_dist(SKIN, head) > 80 else DARK_SKIN


def _make_body(rng) -> dict:
    """Body proportions (units of standing height) and drawing widths; shared by the distractor."""
    j = lambda v: v * rng.uniform(0.92, 1.08)  # noqa: E731
    return {
        "hip_w": j(0.09), "sho_w": j(0.13), "torso_len": j(0.29), "neck": j(0.04),
        "head_r": j(0.065), "uarm": j(0.17), "farm": j(0.16), "thigh": j(0.24), "shin": j(0.24),
        "arm_w": rng.uniform(0.035, 0.055), "leg_w": rng.uniform(0.045, 0.07),
        "torso_d": rng.uniform(0.10, 0.14),
    }


def _make_motion(rng, motion=None) -> dict:
    """Periodic joint-angle program with per-video phase, speed, amplitude and a wobble."""
    motion = motion or MOTIONS[rng.integers(len(MOTIONS))]
    m = {
        "type": motion,
        "freq": rng.uniform(0.03, 0.08) * (1.6 if motion == "run" else 1.0),  # cycles per frame
        "phase": rng.uniform(0, 2 * np.pi),
        "amp": rng.uniform(0.7, 1.15),
        "side": int(rng.integers(3)),  # wave/punch: 0 left arm, 1 right arm, 2 both
        # Small independent low-frequency wobble on every angle, so no two cycles are identical.
        "wob_amp": rng.uniform(0.0, 0.12, size=16),
        "wob_freq": rng.uniform(0.01, 0.05, size=16),
        "wob_phase": rng.uniform(0, 2 * np.pi, size=16),
    }
    if motion in ("walk", "run"):
        # Mostly profile, facing the walking direction; the figure still turns a little.
        m["yaw0"] = rng.choice([-1.0, 1.0]) * rng.uniform(0.9, 2.25)
    else:
        m["yaw0"] = rng.uniform(-np.pi, np.pi)
    m["yaw_rate"] = rng.uniform(-0.03, 0.03) * (0.3 if motion in ("walk", "run") else 1.0)
    return m


def _limb_dir(flex, abd, side):
    """Unit 3D direction of a limb hanging down, swung forward by `flex` and outward by `abd`.

    Body space: +x = the person's left, +y = up, +z = forward (towards the camera at yaw 0).
    """
    return np.array([side * math.sin(abd), -math.cos(abd) * math.cos(flex),
                     math.cos(abd) * math.sin(flex)])


def _angles(m, t) -> dict:
    """Joint angles at frame t: per side (L=0, R=1) arm (flex, abd, forearm flex, forearm abd),
    leg (flex, abd, knee), torso lean (forward, sideways), bounce, yaw."""
    ph = 2 * np.pi * m["freq"] * t + m["phase"]
    a = m["amp"]
    w = m["wob_amp"] * np.sin(2 * np.pi * m["wob_freq"] * t + m["wob_phase"])
    s, c = math.sin(ph), math.cos(ph)
    u = 0.5 - 0.5 * c  # 0..1..0 over a cycle
    arm = [[0.1 * s, 0.12, 0.25, 0.12], [-0.1 * s, 0.12, 0.25, 0.12]]
    leg = [[0.0, 0.06, 0.05], [0.0, 0.06, 0.05]]
    lean, side_lean, bounce = 0.0, 0.0, 0.0
    typ = m["type"]
    if typ in ("walk", "run"):
        big = 1.5 if typ == "run" else 1.0
        for k, sg in ((0, 1), (1, -1)):
            arm[k][0] = -sg * 0.5 * a * big * s
            arm[k][2] = arm[k][0] + (1.4 if typ == "run" else 0.35) + 0.2 * sg * s
            leg[k][0] = sg * 0.45 * a * big * s
            leg[k][2] = 0.1 + 0.7 * big * max(0.0, math.sin(ph + sg * np.pi / 2 + np.pi / 4))
        lean = 0.25 if typ == "run" else 0.05
        bounce = 0.02 * big * abs(c)
    elif typ == "wave":
        for k in (0, 1):
            if m["side"] in (k, 2):
                arm[k][1] = 2.2 + 0.3 * a * s
                arm[k][3] = arm[k][1] + 0.6 * a * math.sin(2 * ph)
                arm[k][2] = 0.2
    elif typ == "jumping_jack":
        for k in (0, 1):
            arm[k] = [0.05, 0.15 + 2.55 * a * u, 0.1, 0.3 + 2.7 * a * u]
            leg[k] = [0.0, 0.04 + 0.3 * a * u, 0.05]
        bounce = 0.07 * abs(math.sin(ph))
    elif typ == "squat":
        for k in (0, 1):
            leg[k] = [1.2 * a * u, 0.1, 2.0 * a * u]
            arm[k] = [1.45 * a * u, 0.1, 1.5 * a * u, 0.1]
        lean = 0.45 * a * u
    elif typ == "punch":
        for k, sg in ((0, 1), (1, -1)):
            e = max(0.0, sg * s) if m["side"] == 2 else (max(0.0, s) if m["side"] == k else 0.0)
            arm[k] = [0.9 + 0.5 * e, 0.25, 2.1 - 0.8 * e, 0.2]
            leg[k] = [0.15 * sg, 0.12, 0.25]
        lean = 0.1
        side_lean = 0.08 * s
    for k in (0, 1):
        for i in range(4):
            arm[k][i] += w[4 * k + i]
        for i in range(3):
            leg[k][i] += w[8 + 3 * k + i] * 0.6
    leg[0][2] = max(leg[0][2], 0.0)
    leg[1][2] = max(leg[1][2], 0.0)
    yaw = m["yaw0"] + m["yaw_rate"] * t + 0.15 * w[14]
    return {"arm": arm, "leg": leg, "lean": lean + 0.3 * w[15], "side_lean": side_lean,
            "bounce": bounce, "yaw": yaw}


def _pose3d(body, ang):
    """13 joints [K, 3] in body space (units of height, ground at y=0) plus the face-cue points."""
    p = np.zeros((K, 3))
    pelvis = np.zeros(3)
    cl, sl = math.cos(ang["lean"]), math.sin(ang["lean"])
    cs, ss = math.cos(ang["side_lean"]), math.sin(ang["side_lean"])
    rx = np.array([[1, 0, 0], [0, cl, sl], [0, -sl, cl]])  # lean forward: up tilts towards +z
    rz = np.array([[cs, -ss, 0], [ss, cs, 0], [0, 0, 1]])
    r_torso = rz @ rx
    up = r_torso @ np.array([0.0, 1.0, 0.0])
    for k, sg in ((0, 1.0), (1, -1.0)):
        hip = pelvis + np.array([sg * body["hip_w"], 0.0, 0.0])
        sho = pelvis + r_torso @ np.array([sg * body["sho_w"], body["torso_len"], 0.0])
        fl, ab, fa_fl, fa_ab = ang["arm"][k]
        elb = sho + body["uarm"] * (r_torso @ _limb_dir(fl, ab, sg))
        wri = elb + body["farm"] * (r_torso @ _limb_dir(fa_fl, fa_ab, sg))
        lf, lab, knee = ang["leg"][k]
        kne = hip + body["thigh"] * _limb_dir(lf, lab, sg)
        ank = kne + body["shin"] * _limb_dir(lf - knee, lab, sg)
        p[[LSHO, RSHO][k]], p[[LELB, RELB][k]], p[[LWRI, RWRI][k]] = sho, elb, wri
        p[[LHIP, RHIP][k]], p[[LKNE, RKNE][k]], p[[LANK, RANK][k]] = hip, kne, ank
    neck = 0.5 * (p[LSHO] + p[RSHO]) + body["neck"] * up
    p[HEAD] = neck + body["head_r"] * 1.1 * up
    # Eyes: on the face, towards +z; they are the only front/back cue a single frame has.
    r = body["head_r"]
    eyes = np.array([p[HEAD] + r_torso @ np.array([sg * 0.38 * r, 0.3 * r, 0.85 * r])
                     for sg in (1.0, -1.0)])
    face = p[HEAD] + r_torso @ np.array([0.0, 0.1 * r, FACE_OFFSET * r])
    pts = np.concatenate([p, neck[None], eyes, face[None]], axis=0)
    pts[:, 1] += 0.03 + ang["bounce"] - min(p[LANK, 1], p[RANK, 1])  # stand on the ground
    # Yaw about the vertical axis.
    cy, sy = math.cos(ang["yaw"]), math.sin(ang["yaw"])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return pts @ ry.T  # [K + 4, 3]: joints, neck, two eyes, the face's centre


# ----------------------------------------------------------------------------------------------
# Camera and drawing.

def _smooth_curve(rng, t_total, amp, max_cycles=1.0):
    """A smooth random function of the frame index with values in [-amp, amp]."""
    f1, f2 = rng.uniform(0.1, max_cycles, size=2) / max(t_total, 1)
    p1, p2 = rng.uniform(0, 2 * np.pi, size=2)
    wmix = rng.uniform(0.5, 1.0)
    return lambda t: amp * (wmix * math.sin(2 * np.pi * f1 * t + p1)
                            + (1 - wmix) * math.sin(2 * np.pi * f2 * t + p2))


def _fix(pts):
    """Float image points -> cv2 fixed-point int32 (same rounding as the labels)."""
    return np.round(np.asarray(pts) * _ONE).astype(np.int32)


def _quantize(pts):
    return np.round(np.asarray(pts, np.float64) * _ONE) / _ONE


def _draw_segment(img, p, q, w1, w2, color):
    """A tapered limb: a convex quad between round caps; anti-aliased, sub-pixel exact."""
    d = np.asarray(q, float) - np.asarray(p, float)
    n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
    quad = np.array([p + n * w1 / 2, q + n * w2 / 2, q - n * w2 / 2, p - n * w1 / 2])
    cv2.fillConvexPoly(img, _fix(quad), color, cv2.LINE_AA, SHIFT)
    for c, w in ((p, w1), (q, w2)):
        cv2.circle(img, tuple(int(v) for v in _fix(c)), max(int(round(w / 2 * _ONE)), 1),
                   color, -1, cv2.LINE_AA, SHIFT)


def _draw_figure(img, pts2d, depth, body, palette, scale, mask=None, face_cue=False,
                 side_cue=False):
    """Draw a figure far-to-near so nearer limbs cover farther ones (and the torso).

    face_cue: the head's camera-side front is a face-coloured disc (a face against hair), a
    front/back cue a few pixels wide rather than the eyes' one or two.
    side_cue: a white stripe down the middle of each left limb, so that left and right are told
    apart locally in one frame, as a real person's clothing or build often tells them. Mirroring
    such a frame would put the stripe on the right limbs: train on it without flips."""
    aw, lw = body["arm_w"] * scale, body["leg_w"] * scale
    td, hr = body["torso_d"] * scale, body["head_r"] * scale
    neck = pts2d[K]
    pelvis = 0.5 * (pts2d[LHIP] + pts2d[RHIP])
    items = []  # (depth, kind, args)
    for a, b, w, col in ((LSHO, LELB, aw, "arm"), (LELB, LWRI, aw * 0.85, "arm"),
                         (RSHO, RELB, aw, "arm"), (RELB, RWRI, aw * 0.85, "arm"),
                         (LHIP, LKNE, lw, "leg"), (LKNE, LANK, lw * 0.8, "leg"),
                         (RHIP, RKNE, lw, "leg"), (RKNE, RANK, lw * 0.8, "leg")):
        stripe = side_cue and a in (LSHO, LELB, LHIP, LKNE)
        items.append((0.5 * (depth[a] + depth[b]), "seg", (pts2d[a], pts2d[b], w,
                                                           w * 0.85, palette[col], stripe)))
    tz = float(np.mean(depth[[LSHO, RSHO, LHIP, RHIP]]))
    items.append((tz, "torso", None))
    items.append((float(depth[HEAD]), "head", None))
    items.sort(key=lambda it: it[0])
    targets = [(img, None)] + ([(mask, 255)] if mask is not None else [])
    for _, kind, args in items:
        for canvas, fill in targets:
            if kind == "seg":
                p, q, w1, w2, col, stripe = args
                _draw_segment(canvas, p, q, w1, w2, fill if fill is not None else col)
                if stripe and fill is None:
                    _draw_segment(canvas, p, q, STRIPE_WIDTH * w1, STRIPE_WIDTH * w2, STRIPE)
            elif kind == "torso":
                col = fill if fill is not None else palette["torso"]
                quad = np.array([pts2d[LSHO], pts2d[RSHO], pts2d[RHIP], pts2d[LHIP]])
                cv2.fillPoly(canvas, [_fix(quad)], col, cv2.LINE_AA, SHIFT)
                _draw_segment(canvas, neck, pelvis, td, td * 0.9, col)
            else:
                col = fill if fill is not None else palette["head"]
                _draw_segment(canvas, neck, pts2d[HEAD], aw * 0.9, aw * 0.9, col)
                cv2.circle(canvas, tuple(int(v) for v in _fix(pts2d[HEAD])),
                           int(round(hr * _ONE)), col, -1, cv2.LINE_AA, SHIFT)
                if fill is None:
                    if face_cue and depth[FACE] > depth[HEAD]:
                        cv2.circle(canvas, tuple(int(v) for v in _fix(pts2d[FACE])),
                                   int(round(FACE_RADIUS * hr * _ONE)),
                                   face_color(palette["head"]), -1, cv2.LINE_AA, SHIFT)
                    for e in (K + 1, K + 2):
                        if depth[e] > depth[HEAD]:  # eye on the camera side of the head
                            cv2.circle(canvas, tuple(int(v) for v in _fix(pts2d[e])),
                                       max(int(round(0.16 * hr * _ONE)), _ONE // 2),
                                       palette["eye"], -1, cv2.LINE_AA, SHIFT)


def _make_background(rng, h, w, palette):
    """Textured clutter: smooth colour field, shapes, lines, limb-coloured strokes, noise."""
    small = rng.integers(0, 256, size=(rng.integers(3, 7), rng.integers(3, 7), 3)).astype(np.uint8)
    bg = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    bg = (0.6 * bg + 0.4 * rng.uniform(40, 200, size=3)).astype(np.uint8)
    bg = np.ascontiguousarray(bg)
    area = h * w
    n_shapes = int(area / 2500 * rng.uniform(0.6, 1.4))
    for _ in range(n_shapes):
        col = tuple(int(c) for c in rng.integers(0, 256, size=3))
        kind = rng.integers(4)
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        sz = int(rng.uniform(0.01, 0.09) * (h + w))
        if kind == 0:
            cv2.rectangle(bg, (cx, cy), (cx + sz, cy + int(sz * rng.uniform(0.3, 2))), col, -1)
        elif kind == 1:
            cv2.ellipse(bg, (cx, cy), (sz, int(sz * rng.uniform(0.3, 1))),
                        float(rng.uniform(0, 180)), 0, 360, col, -1, cv2.LINE_AA)
        elif kind == 2:
            ang = rng.uniform(0, np.pi)
            q = (int(cx + 2 * sz * math.cos(ang)), int(cy + 2 * sz * math.sin(ang)))
            cv2.line(bg, (cx, cy), q, col, int(rng.integers(1, 4)), cv2.LINE_AA)
        else:
            off = rng.integers(-sz, sz + 1, size=(5, 2))
            pts = np.array([cx, cy]) + off
            cv2.fillPoly(bg, [pts.astype(np.int32)], col, cv2.LINE_AA)
    # Hard negatives: limb-like strokes in the figure's own colours.
    limb_w = max(2, int(0.045 * h))
    for _ in range(int(area / 9000 * rng.uniform(0.5, 1.5)) + 2):
        col = palette[("arm", "leg", "torso", "head")[rng.integers(4)]]
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        ln = rng.uniform(0.05, 0.15) * h
        ang = rng.uniform(0, 2 * np.pi)
        q = (int(cx + ln * math.cos(ang)), int(cy + ln * math.sin(ang)))
        cv2.line(bg, (cx, cy), q, col, int(limb_w * rng.uniform(0.6, 1.3)), cv2.LINE_AA)
    noise = rng.normal(0, rng.uniform(4, 14), size=(h // 2 + 1, w // 2 + 1, 3)).astype(np.float32)
    noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(bg.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _blur_kernel(length, angle):
    ksz = int(length) | 1
    k = np.zeros((ksz, ksz), np.float32)
    c = ksz // 2
    dx, dy = math.cos(angle) * c, math.sin(angle) * c
    cv2.line(k, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))),
             1.0, 1, cv2.LINE_AA)
    return k / k.sum()


# ----------------------------------------------------------------------------------------------
# One video.

def render_video(rng: np.random.Generator, num_frames: int, height: int, width: int,
                 face_cue: bool = False, side_cue: bool = False) -> dict:
    """Render one clip with its exact labels.

    Returns dict(frames=[T x uint8 HxWx3 RGB], joints float32 [T, 13, 2] (x, y, 0-based pixel
    centres), visibility float32 [T, 13], bboxes float32 [T, 4] (x1, y1, x2, y2), action str,
    pose str, meta dict: palette, occluder colours, per-frame blur flags, distractor joints,
    tags: dkd_tf.data.tags.VideoTags (video id '0000'; generate sets the real one)).

    Recording the tags draws no random numbers and draws nothing on the frames: a seed gives the
    same frames and labels as before the tags existed (tests/test_synthetic.py pins them).
    """
    t_total, h, w = int(num_frames), int(height), int(width)
    palette = _make_palette(rng)
    body = _make_body(rng)
    motion = _make_motion(rng)
    d_motion = _make_motion(rng, motion=MOTIONS[rng.integers(len(MOTIONS))])

    # World = pixels of the t=0 reference view, origin at the image centre. The figure's size is
    # in world pixels; the camera zoom then changes its apparent size by up to ~+-25%.
    height_px = h * rng.uniform(0.5, 0.72)
    ground = 0.5 * height_px
    forward = math.copysign(1.0, math.sin(motion["yaw0"]))
    if motion["type"] in ("walk", "run"):
        speed = forward * rng.uniform(0.006, 0.016) * height_px * (1.6 if motion["type"] == "run"
                                                                   else 1.0)
    else:
        speed = rng.uniform(-0.004, 0.004) * height_px
    x0 = rng.uniform(-0.1, 0.1) * w
    sway = _smooth_curve(rng, t_total, 0.03 * height_px, 2.0)

    def root(t):  # subject's ground point in world coordinates
        return np.array([x0 + speed * t + sway(t), ground])

    zoom = _smooth_curve(rng, t_total, rng.uniform(0.05, 0.25))
    roll = _smooth_curve(rng, t_total, rng.uniform(0.0, 0.1))
    pan_x = _smooth_curve(rng, t_total, rng.uniform(0.02, 0.18) * w, 1.5)
    pan_y = _smooth_curve(rng, t_total, rng.uniform(0.02, 0.1) * h, 1.5)

    def camera(t):
        """2x3 world->image similarity; the camera loosely follows the subject."""
        s = 1.0 + zoom(t)
        th = roll(t)
        a = s * np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
        c = root(t) + np.array([pan_x(t), -0.5 * height_px + pan_y(t)])
        b = np.array([(w - 1) / 2.0, (h - 1) / 2.0]) - a @ c
        return np.concatenate([a, b[:, None]], axis=1), s

    # Background in world space, larger than the view; reflected at the borders if exceeded.
    bh, bw = int(h * 2.0), int(w * 2.5)
    bg = _make_background(rng, bh, bw, palette)
    bg_origin = np.array([bw / 2.0, bh / 2.0])

    # Distractor: same body and palette, own motion, crosses the subject at t_cross.
    t_cross = rng.uniform(0.25, 0.75) * max(t_total - 1, 1)
    rel_speed = rng.choice([-1.0, 1.0]) * max(rng.uniform(0.9, 1.5) * w / max(t_total, 1), 1.5)
    d_dy = rng.uniform(-0.06, 0.06) * height_px
    d_front = bool(rng.random() < 0.5)
    if d_motion["type"] in ("walk", "run"):  # a walker faces where it goes
        d_motion["yaw0"] = math.copysign(abs(d_motion["yaw0"]), speed + rel_speed)

    def d_root(t):
        return root(t) + np.array([rel_speed * (t - t_cross), d_dy])

    # Occluders: opaque solid shapes that pass over the subject's body at some time.
    occluders = []
    for _ in range(int(rng.integers(1, 3))):
        while True:
            col = _rand_color(rng, 10, 245)
            if all(_color_dist(col, c) > 80 for c in palette.values()):
                break
        size = rng.uniform(0.18, 0.42) * height_px
        ang = rng.uniform(0, 2 * np.pi)
        occluders.append({
            "kind": int(rng.integers(3)), "color": col, "size": size,
            "aspect": rng.uniform(0.4, 1.0), "rot0": rng.uniform(0, np.pi),
            "rot_rate": rng.uniform(-0.05, 0.05),
            "t_occ": rng.uniform(0.1, 0.9) * max(t_total - 1, 1),
            "vel": rng.uniform(0.8, 2.0) * height_px / max(t_total, 1) * np.array(
                [math.cos(ang), math.sin(ang)]),
            "offset": np.array([rng.uniform(-0.2, 0.2), -rng.uniform(0.15, 0.85)]) * height_px,
            "poly": rng.uniform(0.5, 1.0, size=6),
        })

    def occluder_poly(o, t, cam):
        centre = root(o["t_occ"]) + o["offset"] + o["vel"] * (t - o["t_occ"])
        rot = o["rot0"] + o["rot_rate"] * t
        if o["kind"] == 0:  # rotated rectangle
            local = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [0.5, 0.5 * o["aspect"]]
        elif o["kind"] == 1:  # ellipse as a polygon
            a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            local = 0.5 * np.stack([np.cos(a), o["aspect"] * np.sin(a)], 1)
        else:  # irregular convex-ish hexagon
            a = np.linspace(0, 2 * np.pi, 6, endpoint=False)
            local = 0.5 * o["poly"][:, None] * np.stack([np.cos(a), np.sin(a)], 1)
        cr, sr = math.cos(rot), math.sin(rot)
        world = centre + o["size"] * local @ np.array([[cr, sr], [-sr, cr]])
        return world @ cam[:, :2].T + cam[:, 2]

    p_blur = rng.uniform(0.1, 0.35)
    noise_sigma = rng.uniform(1.5, 5.0)

    def figure_image_points(m, rt, t, cam, s):
        pts = _pose3d(body, _angles(m, t))
        world = rt + height_px * np.stack([pts[:, 0], -pts[:, 1]], 1)
        img_pts = _quantize(world @ cam[:, :2].T + cam[:, 2])
        return img_pts, pts[:, 2], height_px * s

    frames, joints, vis, boxes, blurred, d_joints = [], [], [], [], [], []
    occluded, d_overlap, cam_change = [], [], []  # situation tags: no random draws, no drawing
    prev_centre = None
    for t in range(t_total):
        cam, s = camera(t)
        cam_change.append(abs((1.0 + zoom(t)) / (1.0 + zoom(t - 1)) - 1.0)
                          + abs(roll(t) - roll(t - 1)))
        m_bg = cam.copy()
        m_bg[:, 2] = cam[:, 2] - cam[:, :2] @ bg_origin
        img = cv2.warpAffine(bg, m_bg, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT_101)
        occ_mask = np.zeros((h, w), np.uint8)
        occ_only = np.zeros((h, w), np.uint8)  # the occluder shapes alone, for the tags
        subj, subj_z, scale = figure_image_points(motion, root(t), t, cam, s)
        dist, dist_z, _ = figure_image_points(d_motion, d_root(t), t, cam, s)
        if not d_front:
            _draw_figure(img, dist, dist_z, body, palette, scale, face_cue=face_cue,
                         side_cue=side_cue)
        _draw_figure(img, subj, subj_z, body, palette, scale, face_cue=face_cue,
                     side_cue=side_cue)
        if d_front:
            _draw_figure(img, dist, dist_z, body, palette, scale, mask=occ_mask,
                         face_cue=face_cue, side_cue=side_cue)
        for o in occluders:
            poly = _fix(occluder_poly(o, t, cam))
            cv2.fillPoly(img, [poly], o["color"], cv2.LINE_AA, SHIFT)
            cv2.fillPoly(occ_mask, [poly], 255, cv2.LINE_AA, SHIFT)
            cv2.fillPoly(occ_only, [poly], 255, cv2.LINE_AA, SHIFT)

        j = subj[:K]
        centre = j.mean(0)
        blur = bool(rng.random() < p_blur)
        if blur:
            if prev_centre is not None and np.linalg.norm(centre - prev_centre) > 0.5:
                ang = math.atan2(*(centre - prev_centre)[::-1])
            else:
                ang = rng.uniform(0, np.pi)
            img = cv2.filter2D(img, -1, _blur_kernel(rng.uniform(0.03, 0.07) * h, ang),
                               borderType=cv2.BORDER_REFLECT_101)
        prev_centre = centre
        noisy = img.astype(np.float32) + rng.normal(0, noise_sigma, size=img.shape).astype(
            np.float32)
        frames.append(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))

        inside = (j[:, 0] >= 0) & (j[:, 0] <= w - 1) & (j[:, 1] >= 0) & (j[:, 1] <= h - 1)
        v = np.zeros(K, np.float32)
        under_occluder = np.zeros(K, bool)
        for k in np.flatnonzero(inside):
            # The mask is drawn anti-aliased exactly like the image: a joint is hidden when its
            # pixel is mostly covered by something in front of the subject.
            pix = int(round(j[k, 1])), int(round(j[k, 0]))
            v[k] = 0.0 if occ_mask[pix] > 127 else 1.0
            under_occluder[k] = occ_only[pix] > 127
        x1, y1 = j.min(0)
        x2, y2 = j.max(0)
        mx, my = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
        box = np.array([np.clip(x1 - mx, 0, w - 1), np.clip(y1 - my, 0, h - 1),
                        np.clip(x2 + mx, 0, w - 1), np.clip(y2 + my, 0, h - 1)])
        joints.append(j)
        vis.append(v)
        boxes.append(box)
        blurred.append(blur)
        d_joints.append(dist[:K])
        occluded.append(under_occluder)
        dj = dist[:K]
        (dx1, dy1), (dx2, dy2) = dj.min(0), dj.max(0)
        dmx, dmy = 0.1 * (dx2 - dx1), 0.1 * (dy2 - dy1)
        d_box = np.clip([dx1 - dmx, dy1 - dmy, dx2 + dmx, dy2 + dmy], 0, [w - 1, h - 1] * 2)
        d_overlap.append(tags_lib.boxes_overlap(box, d_box))

    yaw = motion["yaw0"]
    cy, sy = math.cos(yaw), math.sin(yaw)
    pose = "front" if cy > 0.7 else "back" if cy < -0.7 else ("left" if sy > 0 else "right")
    return {
        "frames": frames,
        "joints": np.asarray(joints, np.float32),
        "visibility": np.asarray(vis, np.float32),
        "bboxes": np.asarray(boxes, np.float32),
        "action": motion["type"],
        "pose": pose,
        "meta": {
            "palette": palette,
            "occluder_colors": [o["color"] for o in occluders],
            "blurred": np.asarray(blurred, bool),
            "distractor_joints": np.asarray(d_joints, np.float32),
            "distractor_in_front": d_front,
        },
        "tags": tags_lib.make_tags(0, np.asarray(joints), d_overlap, d_front, blurred,
                                   cam_change, np.asarray(occluded).reshape(t_total, K)),
    }


def video_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of video `index` (0-based): independent of how many videos are made."""
    return np.random.default_rng([int(seed), int(index)])


def num_train(num_videos: int, test_fraction: float) -> int:
    return min(num_videos, int(math.ceil((1.0 - test_fraction) * num_videos - 1e-9)))


def options_path(out_dir) -> str:
    return os.path.abspath(os.path.join(os.fspath(out_dir), OPTIONS_FILE))


def read_options(out_dir) -> dict:
    """How the set in out_dir was drawn: ROOT/synthetic.json, {option: bool} for DRAW_OPTIONS;
    a set written before that file (or before an option) existed was drawn without it."""
    from dkd_tf.data.records import DatasetError
    path = options_path(out_dir)
    if not os.path.exists(path):
        return {k: False for k in DRAW_OPTIONS}
    try:
        with open(path) as f:
            raw = json.load(f)
        if not isinstance(raw, dict):
            raise TypeError(f"a JSON object expected, found {type(raw).__name__}")
        return {k: bool(raw.get(k, False)) for k in DRAW_OPTIONS}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(path, f"unreadable synthetic-set options ({e})") from None


def generate(out_dir, num_videos: int, num_frames: int, seed: int, height: int = 160,
             width: int = 208, test_fraction: float = 0.25, face_cue: bool = False,
             side_cue: bool = False) -> list[str]:
    """Write `num_videos` clips to `out_dir` in Penn Action format; returns the video ids.

    The first ceil((1 - test_fraction) * N) videos are train, the rest test. Video i is rendered
    from video_rng(seed, i), so render_video reproduces any one of them. synthetic.json records
    the drawing options, so add_tags and training can tell which set is on disk.
    """
    if num_videos < 1 or num_frames < 1:
        raise ValueError("need at least one video and one frame")
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    n_train = num_train(num_videos, test_fraction)
    os.makedirs(out_dir, exist_ok=True)
    with open(options_path(out_dir), "w") as f:
        options = {"face_cue": bool(face_cue), "side_cue": bool(side_cue)}
        json.dump(options, f)
    ids = []
    for i in range(num_videos):
        vid = f"{i + 1:04d}"
        v = render_video(video_rng(seed, i), num_frames, height, width, **options)
        penn_action.write_video(out_dir, vid, v["frames"], v["joints"], v["visibility"],
                                v["bboxes"], train=i < n_train, action=v["action"],
                                pose=v["pose"])
        v["tags"].video_id = vid
        tags_lib.write_tags(out_dir, v["tags"])
        ids.append(vid)
    return ids


def add_tags(out_dir, seed: int, progress=None) -> tuple[list[str], int]:
    """Write tags/NNNN.json for a synthetic set already on disk, without touching its frames.

    Video NNNN is re-rendered in memory from video_rng(seed, NNNN - 1) at the size and length
    its labels and first frame give; its joints, visibility and boxes must equal the labels on
    disk exactly (else DatasetError naming the label file: another seed, or not this generator).
    Returns (video ids, how many of them have a last frame whose JPEG encoding is byte-identical
    to the file on disk; the same OpenCV build gives all of them).
    """
    from dkd_tf.data.records import DatasetError
    ids = penn_action.list_videos(out_dir)
    if not ids:
        raise DatasetError(os.path.join(os.fspath(out_dir), "labels"), "no label files")
    same_jpeg = 0
    options = read_options(out_dir)
    for n, vid in enumerate(ids):
        rec = penn_action.read_video(out_dir, vid)
        h, w = rec.image_size
        v = render_video(video_rng(seed, int(vid) - 1), rec.num_frames, h, w, **options)
        for field in ("joints", "visibility", "bboxes"):
            if not np.array_equal(np.asarray(getattr(rec, field), np.float32), v[field]):
                raise DatasetError(penn_action.label_path(out_dir, vid),
                                   f"{field} differ from video {vid} of seed {seed} at "
                                   f"{h}x{w}, {rec.num_frames} frames: not made by "
                                   f"`python -m dkd_tf.make_synthetic --seed {seed}`?")
        last = rec.frame_paths[-1]
        with open(last, "rb") as f:
            on_disk = f.read()
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(v["frames"][-1], cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, 90])
        same_jpeg += bool(ok) and bytes(data) == on_disk
        v["tags"].video_id = vid
        tags_lib.write_tags(out_dir, v["tags"])
        if progress:
            progress(n + 1, len(ids))
    return ids, same_jpeg


def describe_options(**options) -> str:
    """', face cue, side cue' for the DRAW_OPTIONS that are on: the tail of a 'seed N' message."""
    return "".join(f", {k.replace('_', ' ')}" for k in DRAW_OPTIONS if options.get(k))
