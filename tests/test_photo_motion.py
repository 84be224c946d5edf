"""Photos set in motion: the camera path is smooth and bounded, pixels and joints move together
(a bright dot drawn at a joint lands where the moved joint says, blurred or not), and the clips
go through the Penn Action reader deterministically."""
import math
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import scipy.io
import tensorflow as tf

from dkd_tf.core import joints
from dkd_tf.data import lsp, penn_action, photo_motion
from dkd_tf.data.frames import load_frame

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGMA = 1.2


def blobs(size, points, sigma=SIGMA, value=250.0):
    """A dark [H, W, 3] float photo with a Gaussian dot at each (x, y) (pixel centres)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w))
    for x, y in points:
        img += value * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma ** 2))
    return np.repeat(np.clip(img, 0, 255)[..., None], 3, axis=-1)


def centroid(frame, xy, radius=5):
    """Intensity centroid (x, y) of channel 0 in a window around xy."""
    x0, y0 = int(round(xy[0])), int(round(xy[1]))
    win = np.asarray(frame, np.float64)[y0 - radius:y0 + radius + 1,
                                        x0 - radius:x0 + radius + 1, 0]
    yy, xx = np.mgrid[y0 - radius:y0 + radius + 1, x0 - radius:x0 + radius + 1]
    return np.array([(win * xx).sum(), (win * yy).sum()]) / win.sum(), win


def _write_lsp(root, n=3, size=(72, 56)):
    """lsp/ in its published layout, each photo a dot at every joint (joints.mat is 1-based);
    the dots sit on a jittered grid, 8 px apart at least, so none blurs into another."""
    rng = np.random.default_rng(3)
    h, w = size
    grid = np.stack(np.meshgrid(np.arange(4) * 10.0 + 12, np.arange(5) * 12.0 + 12), -1)
    grid = grid.reshape(-1, 2)
    xy = np.stack([grid[rng.permutation(len(grid))[:14]] + rng.uniform(-1, 1, (14, 2))
                   for _ in range(n)], -1).transpose(1, 0, 2)  # [2, 14, n]
    j = np.concatenate([xy + 1.0, np.zeros((1, 14, n))])
    os.makedirs(os.path.join(root, "lsp", "images"))
    for i in range(n):
        img = blobs(size, xy[:, :, i].T)
        cv2.imwrite(os.path.join(root, "lsp", "images", f"im{i + 1:04d}.jpg"),
                    np.round(img).astype(np.uint8))
    scipy.io.savemat(os.path.join(root, "lsp", "joints.mat"), {"joints": j})
    return xy.transpose(2, 1, 0)  # [n, 14, 2], 0-based


class CameraPathTest(tf.test.TestCase):

    def test_signal_stays_within_its_amplitude_and_speed(self):
        motion = photo_motion.Motion(min_period=10.0, max_period=40.0, components=4)
        for seed in range(5):
            sig = photo_motion.SmoothSignal(np.random.default_rng(seed), 3.0, motion)
            t = np.linspace(0, 200, 20001)
            v = sig(t)
            self.assertLessEqual(np.max(np.abs(v)), 3.0 + 1e-9)
            self.assertGreater(np.max(np.abs(v)), 0.5)  # it does move
            speed = np.abs(np.diff(v)) / (t[1] - t[0])
            self.assertLessEqual(speed.max(), 3.0 * 2 * math.pi / 10.0 + 1e-6)
            self.assertTrue(np.all(sig.periods >= 10.0) and np.all(sig.periods <= 40.0))

    def test_no_motion_gives_the_photo_itself(self):
        rng = np.random.default_rng(0)
        photo = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
        kp = rng.uniform(0, 30, (5, 2))
        still = photo_motion.Motion(shift=0, zoom=0, rotation_deg=0, exposure=0.5)
        clip = photo_motion.animate(photo, kp, np.ones(5), 4, rng, still)
        for f in clip.frames:
            self.assertAllEqual(f, photo)
        self.assertAllClose(clip.joints, np.repeat(kp[None], 4, 0).astype(np.float32))
        self.assertAllClose(clip.matrices, np.repeat(np.eye(3)[None], 4, 0))

    def test_same_seed_same_clip_other_seed_another(self):
        photo = np.random.default_rng(1).integers(0, 256, (40, 50, 3)).astype(np.uint8)
        kp = np.array([[10.0, 10.0], [30.0, 25.0], [20.0, 35.0]])

        def make(seed):
            return photo_motion.animate(photo, kp, np.ones(3), 5, np.random.default_rng(seed))
        a, b, c = make(7), make(7), make(8)
        self.assertAllEqual(np.stack(a.frames), np.stack(b.frames))
        self.assertAllEqual(a.joints, b.joints)
        self.assertGreater(np.abs(a.joints - c.joints).max(), 0.1)
        # Frame to frame the joints move, but smoothly: no frame jumps more than the bound.
        step = np.linalg.norm(np.diff(a.joints, axis=0), axis=-1)
        self.assertGreater(step.max(), 0.01)
        self.assertLess(step.max(), 10.0)


class PixelsAndJointsAgreeTest(tf.test.TestCase):
    """The same matrix moves pixels and joints: a dot at a joint lands on the moved joint."""

    def _check_dots(self, motion, max_side, tol, seed=0):
        size = (96, 128)
        pts = np.array([[40.3, 30.7], [64.0, 48.0], [88.6, 60.2], [55.5, 70.4]])
        photo = blobs(size, pts)
        clip = photo_motion.animate(photo, pts, np.ones(len(pts)), 12,
                                    np.random.default_rng(seed), motion, max_side,
                                    border=cv2.BORDER_CONSTANT)
        h, w = clip.frames[0].shape[:2]
        if max_side:
            self.assertEqual(max(h, w), max_side)
        errors = []
        for t, frame in enumerate(clip.frames):
            for k, xy in enumerate(clip.joints[t]):
                if not (8 <= xy[0] < w - 8 and 8 <= xy[1] < h - 8):
                    continue
                c, win = centroid(frame.astype(np.float64), xy, radius=7)
                errors.append(np.linalg.norm(c - xy))
                if motion.exposure == 0:  # sharp: the brightest pixel is the one at the joint
                    py, px = np.unravel_index(np.argmax(win), win.shape)
                    self.assertLessEqual(abs(px - 7 - (xy[0] - round(xy[0]))), 1.0)
                    self.assertLessEqual(abs(py - 7 - (xy[1] - round(xy[1]))), 1.0)
        self.assertGreater(len(errors), 20)
        self.assertLess(max(errors), tol)
        return clip

    def test_sharp_frames(self):
        # A half-pixel slip of convention (corners vs centres) would show as ~0.5 px here.
        motion = photo_motion.Motion(shift=0.3, zoom=0.2, rotation_deg=15, min_period=8,
                                     exposure=0)
        self._check_dots(motion, 0, 0.12)

    def test_downscaled_photo(self):
        motion = photo_motion.Motion(shift=0.3, zoom=0.2, rotation_deg=15, min_period=8,
                                     exposure=0)
        self._check_dots(motion, 100, 0.15)

    def test_motion_blur_smears_along_the_motion_and_keeps_the_centre(self):
        fast = photo_motion.Motion(shift=0.1, zoom=0, rotation_deg=0, min_period=6,
                                   max_period=8, exposure=1.0)
        clip = self._check_dots(fast, 0, 0.35)
        sharp = self._check_dots(photo_motion.Motion(**{**fast.__dict__, "exposure": 0.0}),
                                 0, 0.12)
        self.assertAllClose(clip.joints, sharp.joints)  # the label is the exposure's centre
        # Where the camera moves fastest, the blurred dot is longer along the motion.
        t = int(np.argmax(np.linalg.norm(np.diff(sharp.joints[:, 1], axis=0), axis=-1))) + 1
        xy = sharp.joints[t, 1]
        v = sharp.joints[t + 1, 1] - sharp.joints[t - 1, 1] if t + 1 < 12 else \
            sharp.joints[t, 1] - sharp.joints[t - 1, 1]
        u = v / np.linalg.norm(v)
        spread = []
        for c in (clip, sharp):
            (cx, cy), win = centroid(c.frames[t].astype(np.float64), xy, radius=8)
            yy, xx = np.mgrid[-8:9, -8:9] + np.array([round(xy[1]), round(xy[0])])[:, None, None]
            d = np.stack([xx - cx, yy - cy], -1)
            along = (win * (d @ u) ** 2).sum() / win.sum()
            across = (win * (d @ np.array([-u[1], u[0]])) ** 2).sum() / win.sum()
            spread.append((along, across))
        (b_along, b_across), (s_along, s_across) = spread
        self.assertGreater(b_along, s_along + 0.5)
        self.assertLess(abs(b_across - s_across), 0.3)

    def test_joints_leaving_the_frame_are_not_visible(self):
        photo = np.zeros((40, 40, 3), np.uint8)
        kp = np.array([[10.0, 10.0], [30.0, 30.0], [-3.0, 20.0]])
        still = photo_motion.Motion(shift=0, zoom=0, rotation_deg=0, exposure=0)
        clip = photo_motion.animate(photo, kp, np.array([1, 1, 1]), 2,
                                    np.random.default_rng(0), still)
        self.assertAllEqual(clip.visibility, [[1, 1, 0], [1, 1, 0]])
        self.assertAllClose(clip.bboxes[0], [-3, 10, 30, 30])  # it still bounds every labelled


class PasserTest(tf.test.TestCase):
    """A second person crosses in front: cut out along its skeleton, moved at constant speed
    across the labelled person's centre, pasted before the camera renders the frame."""

    def test_body_mask_covers_the_limbs_and_torso_not_the_background(self):
        lsp_set = joints.LSP
        pts = np.zeros((14, 2))
        named = {"r_ankle": (18, 90), "r_knee": (20, 70), "r_hip": (22, 50), "l_hip": (38, 50),
                 "l_knee": (40, 70), "l_ankle": (42, 90), "r_wrist": (5, 45), "r_elbow": (10, 35),
                 "r_shoulder": (20, 25), "l_shoulder": (40, 25), "l_elbow": (50, 35),
                 "l_wrist": (55, 45), "neck": (30, 22), "head_top": (30, 8)}
        for name, xy in named.items():
            pts[lsp_set.index(name)] = xy
        mask = photo_motion.body_mask((100, 60), pts, np.ones(14), lsp_set, width=6.0)
        self.assertEqual(mask.shape, (100, 60))
        self.assertGreater(mask[80, 19], 0.9)   # on the right shin
        self.assertGreater(mask[38, 30], 0.9)   # inside the torso
        self.assertLess(mask[80, 30], 0.05)     # between the legs
        self.assertLess(mask[5, 5], 0.05)       # background
        self.assertLessEqual(mask.max(), 1.0)
        # An unlabelled joint draws nothing: without the left arm's wrist, no forearm.
        labelled = np.ones(14)
        labelled[lsp_set.index("l_wrist")] = 0
        part = photo_motion.body_mask((100, 60), pts, labelled, lsp_set, width=6.0)
        self.assertGreater(mask[40, 53], 0.9)
        self.assertLess(part[42, 54], 0.05)

    def test_the_passer_crosses_the_centre_at_constant_speed(self):
        rng = np.random.default_rng(4)
        photo = np.full((50, 40, 3), 200, np.uint8)
        pts = rng.uniform(10, 30, (14, 2))
        walker = photo_motion.PasserPath(rng, photo, pts, np.ones(14), joints.LSP,
                                         center=(60.0, 40.0), size=30.0, num_frames=9)
        q = np.stack([walker.position(t) for t in range(9)])
        self.assertAllClose(np.diff(q[:, 1]), np.zeros(8))  # horizontal
        self.assertAllClose(np.diff(q[:, 0]), np.full(8, q[1, 0] - q[0, 0]))  # constant speed
        self.assertAllClose(abs(q[-1, 0] - q[0, 0]), 2.0 * 30.0)  # travel 2 person sizes
        self.assertAllClose(walker.position(walker.cross)[0], 60.0)  # crosses the centre
        self.assertBetween(walker.cross, 0.25 * 8, 0.75 * 8)
        # A(t) puts the cut-out's box centre at q(t), scaled to the person's size.
        m = walker.matrix(3.0)
        self.assertAllClose(photo_motion.transform_points(m, walker.box_center[None])[0],
                            walker.position(3.0))
        self.assertBetween(walker.scale * (np.ptp(pts, axis=0).max()), 0.8 * 30 - 1e-6,
                           1.25 * 30 + 1e-6)

    def test_pasted_only_where_the_mask_is_and_covered_joints_reported(self):
        rng = np.random.default_rng(2)
        bright = np.full((80, 120, 3), 250, np.uint8)
        dark = np.zeros((60, 40, 3), np.uint8)
        pts = np.stack([rng.uniform(8, 32, 14), rng.uniform(8, 52, 14)], -1)
        walker = photo_motion.PasserPath(rng, dark, pts, np.ones(14), joints.LSP,
                                         center=(60.0, 40.0), size=40.0, num_frames=5)
        shown, alpha = walker.composite(bright, walker.cross)
        self.assertAllClose(shown[..., 0], 250.0 * (1.0 - alpha), atol=1e-3)
        self.assertGreater(alpha.max(), 0.9)
        self.assertEqual(alpha[0, 0], 0.0)
        joints_xy = np.array([[60.0, 40.0], [0.0, 0.0], [500.0, 40.0]])
        want = [float(alpha[40, 60] >= 0.5), 0.0, 0.0]
        self.assertAllEqual(photo_motion.covered(alpha, joints_xy), want)
        with self.assertRaisesRegex(ValueError, "prob"):
            photo_motion.Passer(prob=1.5)
        with self.assertRaisesRegex(ValueError, "size_range"):
            photo_motion.Passer(size_range=(1.2, 0.9))


class WriteClipsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.data = tempfile.mkdtemp()
        self.xy = _write_lsp(self.data)
        self.records = lsp.read_lsp(os.path.join(self.data, "lsp"), "train")

    def test_clips_read_back_through_the_penn_action_reader(self):
        out = tempfile.mkdtemp()
        motion = photo_motion.Motion(exposure=0)
        paths = photo_motion.write_clips(self.records, out, 4, 5, seed=3, motion=motion)
        self.assertLen(paths, 4)
        recs = penn_action.read_split(out, "all")
        self.assertEqual([r.video_id for r in recs], ["0001", "0002", "0003", "0004"])
        order = np.random.default_rng(3).permutation(3)
        mapping = joints.mapping(joints.LSP, joints.PENN_ACTION)
        for i, rec in enumerate(recs):
            self.assertEqual(rec.joint_set, "penn_action")
            self.assertEqual(rec.split, "train")
            self.assertEqual(rec.num_frames, 5)
            self.assertEqual(rec.image_size, (72, 56))
            src = int(order[i % 3])
            self.assertEqual(str(penn_action.read_field(out, rec.video_id, "source")[0]),
                             self.records[src].video_id)
            cam = penn_action.read_field(out, rec.video_id, "camera")
            self.assertEqual(cam.shape, (5, 3, 3))
            # The labels are the photo's joints, in Penn Action's order, moved by `camera`.
            want = np.stack([photo_motion.transform_points(m, self.xy[src]) for m in cam])
            want = want[:, mapping]
            self.assertAllClose(rec.joints, want, atol=1e-4)
            # ... and the JPEG frames show each dot where its label is (inside the frame).
            for t in (0, 4):
                frame = load_frame(rec.frame_paths[t]).astype(np.float64)
                for xy in rec.joints[t][rec.visibility[t] > 0]:
                    if 7 <= xy[0] < 56 - 7 and 7 <= xy[1] < 72 - 7:
                        c, win = centroid(frame, xy, radius=3)
                        if win.max() > 150:  # not merged with a neighbouring dot
                            self.assertLess(np.linalg.norm(c - xy), 0.6)

    def test_deterministic_and_independent_of_the_clip_count(self):
        a, b, c = tempfile.mkdtemp(), tempfile.mkdtemp(), tempfile.mkdtemp()
        photo_motion.write_clips(self.records, a, 3, 4, seed=5)
        photo_motion.write_clips(self.records, b, 3, 4, seed=5)
        photo_motion.write_clips(self.records, c, 2, 4, seed=5)
        for vid in ("0001", "0002"):
            for root in (b, c):
                ra, rb = penn_action.read_video(a, vid), penn_action.read_video(root, vid)
                self.assertAllEqual(ra.joints, rb.joints)
                for pa, pb in zip(ra.frame_paths, rb.frame_paths):
                    with open(pa, "rb") as fa, open(pb, "rb") as fb:
                        self.assertEqual(fa.read(), fb.read())
        d = tempfile.mkdtemp()
        photo_motion.write_clips(self.records, d, 1, 4, seed=6)
        self.assertNotAllClose(penn_action.read_video(a, "0001").joints,
                               penn_action.read_video(d, "0001").joints)

    def test_passers_keep_the_labels_and_camera_and_record_what_they_cover(self):
        plain, passed = tempfile.mkdtemp(), tempfile.mkdtemp()
        photo_motion.write_clips(self.records, plain, 3, 6, seed=4)
        photo_motion.write_clips(self.records, passed, 3, 6, seed=4,
                                 passer=photo_motion.Passer(prob=1.0))
        covered = 0
        for vid in ("0001", "0002", "0003"):
            a, b = penn_action.read_video(plain, vid), penn_action.read_video(passed, vid)
            self.assertAllEqual(a.joints, b.joints)  # the same camera path, the same labels
            self.assertAllEqual(a.visibility, b.visibility)
            self.assertIsNone(penn_action.read_field(plain, vid, "passer"))
            source = str(penn_action.read_field(passed, vid, "source")[0])
            other = str(penn_action.read_field(passed, vid, "passer")[0])
            self.assertNotEqual(other, source)  # never the clip's own photo
            occluded = penn_action.read_field(passed, vid, "occluded")
            self.assertEqual(occluded.shape, (6, 13))
            self.assertTrue(set(np.unique(occluded)) <= {0.0, 1.0})
            covered += int(occluded.sum())
            differs = [np.abs(load_frame(p).astype(int) - load_frame(q).astype(int)).max()
                       for p, q in zip(a.frame_paths, b.frame_paths)]
            self.assertGreater(max(differs), 100)  # the passer is in the frames
        self.assertGreater(covered, 0)

    def test_command(self):
        out = tempfile.mkdtemp()
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.make_photo_clips", "--data_dir",
                               self.data, "--out_dir", out, "--clips", "2", "--frames", "3",
                               "--seed", "1", "--passer_prob", "1", "--passer_travel", "1.5"],
                              capture_output=True,
                              text=True, timeout=300, cwd=ROOT, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("wrote 2 clips", proc.stdout)
        recs = penn_action.read_split(out, "train")
        self.assertLen(recs, 2)
        self.assertEqual({r.num_frames for r in recs}, {3})
        self.assertIsNotNone(penn_action.read_field(out, recs[0].video_id, "passer"))
        # A missing data set: one line naming the file, status 1.
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.make_photo_clips", "--data_dir",
                               out, "--out_dir", out], capture_output=True, text=True,
                              timeout=300, cwd=ROOT, env=env)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr.strip(), r"^error: .*lsp/joints.mat: joints.mat is missing$")


class RealPhotosTest(tf.test.TestCase):

    def test_a_real_lsp_photo_in_motion(self):
        root = os.path.join(SHARED, "lsp")
        if not os.path.isfile(os.path.join(root, "joints.mat")):
            self.skipTest(f"no LSP at {os.path.abspath(root)} (../shared/data is not part of a "
                          "fresh clone)")
        records = lsp.read_lsp(root, "train")[:2]
        out = tempfile.mkdtemp()
        photo_motion.write_clips(records, out, 2, 4, seed=0)
        recs = penn_action.read_split(out, "train")
        self.assertLen(recs, 2)
        for rec in recs:
            self.assertEqual(rec.joints.shape, (4, 13, 2))
            self.assertGreater(rec.visibility.mean(), 0.8)  # LSP labels every joint
            self.assertAllEqual(np.isfinite(rec.joints), np.ones_like(rec.joints, bool))


if __name__ == "__main__":
    tf.test.main()
