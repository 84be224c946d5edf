"""Synthetic videos: labels that match the pixels, determinism, Penn Action format, the CLI."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf

from dkd_tf.data import frames as frames_lib
from dkd_tf.data import penn_action
from dkd_tf.data import synthetic

H, W = 96, 128
PARTS = ("head", "torso", "arm", "leg")


def _near_color(img, x, y, colors, tol=30, radius=1):
    """Whether any pixel within `radius` of (x, y) is within `tol` of one of `colors`."""
    win = img[max(y - radius, 0):y + radius + 1, max(x - radius, 0):x + radius + 1]
    win = win.reshape(-1, 1, 3).astype(int)
    return bool((np.abs(win - np.asarray(colors)[None]).max(-1) <= tol).any())


def _videos(seed, n=6, t=8):
    return [synthetic.render_video(synthetic.video_rng(seed, i), t, H, W) for i in range(n)]


class GenerateTest(tf.test.TestCase):

    def test_written_data_reads_back_exactly(self):
        root = tempfile.mkdtemp(dir=self.get_temp_dir())
        ids = synthetic.generate(root, num_videos=3, num_frames=6, seed=5, height=H, width=W,
                                 test_fraction=0.34)
        self.assertEqual(ids, ["0001", "0002", "0003"])
        records = penn_action.read_split(root, "all")
        self.assertEqual([r.split for r in records], ["train", "train", "test"])
        for i, rec in enumerate(records):
            ref = synthetic.render_video(synthetic.video_rng(5, i), 6, H, W)
            self.assertEqual(rec.image_size, (H, W))
            self.assertEqual(rec.num_frames, 6)
            self.assertEqual(rec.action, ref["action"])
            np.testing.assert_array_equal(rec.joints, ref["joints"])
            np.testing.assert_array_equal(rec.visibility, ref["visibility"])
            np.testing.assert_array_equal(rec.bboxes, ref["bboxes"])
            # The JPEG on disk is the rendered frame (up to compression).
            disk = frames_lib.load_frame(rec.frame_paths[3]).astype(float)
            self.assertLess(np.abs(disk - ref["frames"][3]).mean(), 8.0)

    def test_deterministic(self):
        a = synthetic.render_video(synthetic.video_rng(7, 2), 5, H, W)
        b = synthetic.render_video(synthetic.video_rng(7, 2), 5, H, W)
        c = synthetic.render_video(synthetic.video_rng(8, 2), 5, H, W)
        np.testing.assert_array_equal(a["joints"], b["joints"])
        for fa, fb in zip(a["frames"], b["frames"]):
            np.testing.assert_array_equal(fa, fb)
        self.assertFalse(np.array_equal(a["joints"], c["joints"]))

    def test_shapes_and_ranges(self):
        for v in _videos(11, n=4, t=5):
            self.assertLen(v["frames"], 5)
            self.assertEqual(v["frames"][0].shape, (H, W, 3))
            self.assertEqual(v["frames"][0].dtype, np.uint8)
            self.assertEqual(v["joints"].shape, (5, 13, 2))
            self.assertEqual(v["joints"].dtype, np.float32)
            self.assertEqual(v["visibility"].shape, (5, 13))
            self.assertEqual(v["bboxes"].shape, (5, 4))
            # Labels lie on cv2's 1/16 px drawing grid: the drawn points themselves.
            np.testing.assert_array_equal(v["joints"] * 16, np.round(v["joints"] * 16))
            box = v["bboxes"]
            self.assertTrue(np.all(box[:, 2] >= box[:, 0]) and np.all(box[:, 3] >= box[:, 1]))
            self.assertTrue(np.all(box >= 0) and np.all(box[:, [2]] <= W - 1)
                            and np.all(box[:, [3]] <= H - 1))
            # Left and right limbs share one colour: only geometry and time tell them apart.
            pal = v["meta"]["palette"]
            self.assertLen({pal[p] for p in PARTS}, 4)


class FaceCueTest(tf.test.TestCase):

    def test_face_cue_changes_pixels_on_faces_only_and_no_label(self):
        seen_face = 0
        for plain, t, a, b, changed in _changed_pixels(3, 4, 6, face_cue=True):
            skin = synthetic.face_color(plain["meta"]["palette"]["head"])
            seen_face += 1
            # Every changed pixel lies around a head: the subject's or the distractor's.
            heads = np.stack([plain["joints"][t, synthetic.HEAD],
                              plain["meta"]["distractor_joints"][t, synthetic.HEAD]])
            d = np.linalg.norm(changed[:, None, ::-1] - heads[None], axis=-1).min(1)
            self.assertLess(d.max(), 0.2 * H)
            # ... and moved towards the face colour (anti-aliased, blurred, eyes on top).
            dist = lambda img: np.linalg.norm(  # noqa: E731
                img[changed[:, 0], changed[:, 1]].astype(float) - skin, axis=-1).mean()
            self.assertLess(dist(b), dist(a))
        self.assertGreater(seen_face, 0)  # some frames face the camera

    def test_the_option_is_recorded_and_training_refuses_a_set_drawn_otherwise(self):
        from dkd_tf.data import datasets
        from dkd_tf.data.records import DatasetError
        root, cfg = _tiny_set(self, face_cue=True)
        self.assertEqual(synthetic.read_options(root), {"face_cue": True, "side_cue": False})
        with self.assertRaisesRegex(DatasetError, "synthetic.json.*face_cue=True"):
            datasets.ensure_synthetic(cfg)
        import dataclasses
        self.assertFalse(datasets.ensure_synthetic(
            dataclasses.replace(cfg, synthetic_face_cue=True)))
        # add_tags re-renders the set as it was drawn: its labels check passes.
        ids, _ = synthetic.add_tags(root, seed=1)
        self.assertEqual(ids, ["0001", "0002"])
        old = tempfile.mkdtemp(dir=self.get_temp_dir())  # a set from before synthetic.json
        self.assertEqual(synthetic.read_options(old), {"face_cue": False, "side_cue": False})
        with open(os.path.join(root, synthetic.OPTIONS_FILE), "w") as f:
            f.write('{"face_cue": true}')  # written before side_cue existed
        self.assertEqual(synthetic.read_options(root), {"face_cue": True, "side_cue": False})
        with open(os.path.join(root, synthetic.OPTIONS_FILE), "w") as f:
            f.write("{not json")
        with self.assertRaisesRegex(DatasetError, "synthetic.json: unreadable"):
            synthetic.read_options(root)


class SideCueTest(tf.test.TestCase):

    def test_side_cue_whitens_left_limbs_only_and_changes_no_label(self):
        striped = 0
        for plain, t, a, b, changed in _changed_pixels(5, 3, 4, side_cue=True):
            striped += 1
            # Changed pixels turned whiter and lie along a left limb (subject or distractor):
            # nearer a left joint than the figure's size allows for any other part.
            self.assertGreater(b[changed[:, 0], changed[:, 1]].astype(int).sum(),
                               a[changed[:, 0], changed[:, 1]].astype(int).sum())
            segs = []
            for joints in (plain["joints"][t], plain["meta"]["distractor_joints"][t]):
                for p, q in ((synthetic.LSHO, synthetic.LELB), (synthetic.LELB, synthetic.LWRI),
                             (synthetic.LHIP, synthetic.LKNE), (synthetic.LKNE, synthetic.LANK)):
                    segs.append((joints[p], joints[q]))
            pts = changed[:, ::-1].astype(float)
            d = np.min([_segment_distance(pts, p, q) for p, q in segs], axis=0)
            self.assertLess(np.median(d), 2.0)  # on the limbs' centre lines (blur, JPEG aside)
            right_d = np.min([_segment_distance(pts, plain["joints"][t][p],
                                                plain["joints"][t][q])
                              for p, q in ((synthetic.RSHO, synthetic.RELB),
                                           (synthetic.RHIP, synthetic.RKNE))], axis=0)
            self.assertGreater(np.mean(right_d > d), 0.5)
        self.assertGreater(striped, 0)

    def test_recorded_refused_when_drawn_otherwise_and_flips_refused(self):
        import dataclasses
        from dkd_tf.data import datasets
        from dkd_tf.data.records import DatasetError
        root, cfg = _tiny_set(self, side_cue=True)
        cfg = dataclasses.replace(cfg, flip_prob=0.0)
        self.assertEqual(synthetic.read_options(root), {"face_cue": False, "side_cue": True})
        with self.assertRaisesRegex(DatasetError, "synthetic.json.*side_cue=True"):
            datasets.ensure_synthetic(cfg)
        side = dataclasses.replace(cfg, synthetic_side_cue=True)
        self.assertFalse(datasets.ensure_synthetic(side))
        ids, _ = synthetic.add_tags(root, seed=1)  # re-rendered with the stripes: labels match
        self.assertEqual(ids, ["0001", "0002"])


def _changed_pixels(seed, videos, frames, **options):
    """Yields (plain video, t, plain frame, frame drawn with `options`, [N, 2] (y, x) of the
    pixels that differ by more than 40) per frame with a change, after checking that the
    options change no label."""
    for i in range(videos):
        plain = synthetic.render_video(synthetic.video_rng(seed, i), frames, H, W)
        drawn = synthetic.render_video(synthetic.video_rng(seed, i), frames, H, W, **options)
        for key in ("joints", "visibility", "bboxes"):
            np.testing.assert_array_equal(plain[key], drawn[key])
        for t, (a, b) in enumerate(zip(plain["frames"], drawn["frames"])):
            changed = np.argwhere(np.abs(a.astype(int) - b).max(-1) > 40)
            if len(changed):
                yield plain, t, a, b, changed


def _tiny_set(test, **options):
    """(root, a TrainConfig naming it): two 3-frame videos drawn with `options`."""
    from dkd_tf.training import trainer
    root = tempfile.mkdtemp(dir=test.get_temp_dir())
    synthetic.generate(root, num_videos=2, num_frames=3, seed=1, height=H, width=W, **options)
    return root, trainer.TrainConfig(dataset="synthetic", data_dir=root, synthetic_videos=2,
                                      synthetic_frames=3, seed=1)


def _segment_distance(points, p, q):
    """Distance of points [N, 2] to the segment p-q."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    d = q - p
    t = np.clip(((points - p) @ d) / max(float(d @ d), 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (p + t[:, None] * d), axis=-1)


class LabelsMatchPixelsTest(tf.test.TestCase):

    def test_visible_joints_lie_on_the_figure(self):
        """Every visible joint of an unblurred frame sits on a figure-coloured pixel.

        The same check with labels moved by 8 px must fail often, so the test can catch
        misplaced, swapped or 1-based coordinates.
        """
        hits = shifted = total = 0
        for v in _videos(3):
            colors = [v["meta"]["palette"][p] for p in PARTS]
            for t, img in enumerate(v["frames"]):
                if v["meta"]["blurred"][t]:
                    continue
                for k in np.flatnonzero(v["visibility"][t]):
                    x, y = np.round(v["joints"][t, k]).astype(int)
                    total += 1
                    hits += _near_color(img, x, y, colors)
                    shifted += x + 8 < W and _near_color(img, x + 8, y, colors)
        self.assertGreater(total, 100)
        self.assertGreaterEqual(hits / total, 0.97)
        self.assertLess(shifted / total, 0.75)

    def test_occluded_and_outside_joints_are_invisible(self):
        occluded_inside = 0
        for v in _videos(4, n=8):
            palette = [v["meta"]["palette"][p] for p in PARTS]
            occ = v["meta"]["occluder_colors"]
            for t, img in enumerate(v["frames"]):
                j, vis = v["joints"][t], v["visibility"][t]
                inside = (j[:, 0] >= 0) & (j[:, 0] <= W - 1) & (j[:, 1] >= 0) & (j[:, 1] <= H - 1)
                self.assertTrue(np.all(vis[~inside] == 0))
                if v["meta"]["blurred"][t]:
                    continue
                for k in np.flatnonzero(inside):
                    x, y = np.round(j[k]).astype(int)
                    on_occluder = _near_color(img, x, y, occ, radius=0)
                    on_figure = _near_color(img, x, y, palette, radius=0)
                    if on_occluder and not on_figure:
                        self.assertEqual(vis[k], 0, f"joint {k} frame {t} under an occluder")
                    if vis[k] == 0:
                        occluded_inside += 1
                        # Hidden by an occluder or by the distractor (same colours) in front.
                        self.assertTrue(_near_color(img, x, y, occ) or _near_color(img, x, y,
                                                                                   palette))
        self.assertGreater(occluded_inside, 0)

    def test_distractor_crosses_the_subject(self):
        for v in _videos(5, n=4, t=20):
            gap = np.abs(v["meta"]["distractor_joints"].mean(1)[:, 0] - v["joints"].mean(1)[:, 0])
            width = v["joints"][..., 0].max(1) - v["joints"][..., 0].min(1)
            self.assertLess(gap.min(), width.max(), "distractor never reaches the subject")


class CliTest(tf.test.TestCase):

    def test_cli_writes_a_data_set(self):
        root = os.path.join(tempfile.mkdtemp(dir=self.get_temp_dir()), "syn")
        out = subprocess.run(
            [sys.executable, "-m", "dkd_tf.make_synthetic", "--out", root, "--videos", "2",
             "--frames", "3", "--seed", "1", "--height", "64", "--width", "80",
             "--test_fraction", "0.5"],
            capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.strip().splitlines()
        self.assertLen(lines, 1)
        self.assertIn("2 videos", lines[0])
        recs = penn_action.read_split(root, "all")
        self.assertEqual([r.split for r in recs], ["train", "test"])
        self.assertEqual(recs[0].image_size, (64, 80))
        ref = synthetic.render_video(synthetic.video_rng(1, 1), 3, 64, 80)
        np.testing.assert_array_equal(recs[1].joints, ref["joints"])


if __name__ == "__main__":
    tf.test.main()
