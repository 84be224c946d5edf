"""Clip sampling, clip-consistent augmentation and targets of the tf.data pipeline."""
import os

import cv2
import numpy as np
import tensorflow as tf

from dkd_tf.core import codec, joints
from dkd_tf.data import penn_action, pipeline, transforms
from dkd_tf.data.records import VideoRecord


def marked_video(root, t=3, size=(90, 120)):
    """Frames with one bright dot at the labelled l_wrist, moving over time; every other joint is
    labelled far from it, so a heatmap peak near the dot names one joint."""
    h, w = size
    frames, pts = [], np.zeros((t, 13, 2), np.float32)
    rng = np.random.default_rng(0)
    for i in range(t):
        img = np.zeros((h, w, 3), np.uint8)
        pts[i] = rng.uniform(62, 72, size=(13, 2))
        wx, wy = 40 + 5 * i, 50 - 3 * i
        pts[i, joints.PENN_ACTION.index("l_wrist")] = (wx, wy)
        cv2.circle(img, (wx, wy), 2, (255, 255, 255), -1)
        frames.append(img)
    boxes = np.tile(np.array([[20, 20, 80, 75]], np.float32), (t, 1))
    penn_action.write_video(root, "0001", frames, pts, np.ones((t, 13)), boxes, train=True)
    return penn_action.read_video(root, "0001")


class PipelineTest(tf.test.TestCase):

    def test_clip_table_enumerates_every_start(self):
        rec = VideoRecord("v", [f"{i}.jpg" for i in range(7)], np.zeros((7, 13, 2), np.float32),
                          np.ones((7, 13), np.float32), np.zeros((7, 4), np.float32),
                          "penn_action", "train")
        table = pipeline.clip_table([rec, rec], 5)
        self.assertEqual(table["paths"].shape, (6, 5))
        self.assertEqual(list(table["paths"][2]), [f"{i}.jpg" for i in range(2, 7)])

    def test_augmented_joint_lands_on_its_pixel(self):
        rec = marked_video(self.get_temp_dir())
        aug = pipeline.Augmentation((0.8, 1.4), 40.0, 1.0, 0.5, max_translation=0.2)
        fn = pipeline.make_clip_fn(joints.PENN_ACTION, 64, 8, 1.0, aug)
        clip = {k: v[0] for k, v in pipeline.clip_table([rec], 3).items()}
        flips = set()
        for seed in range(12):
            frames, maps, weights = fn(clip, tf.constant([seed, 7], tf.int64))
            self.assertEqual(frames.shape, (3, 64, 64, 3))
            for t in range(3):
                img = frames[t, ..., 0].numpy()
                dot = np.array(np.unravel_index(img.argmax(), img.shape)[::-1], np.float32)
                # After a flip the dot is labelled r_wrist: joints swap with the image.
                xy, _ = codec.decode_heatmaps(maps[t].numpy(), 8)
                hit = [k for k in range(13) if np.linalg.norm(xy[k] - dot) <= 6.0
                       and weights[t, k] > 0]
                self.assertEqual(len(hit), 1, f"peaks near the marked pixel {dot}: {hit}")
                flips.add(joints.PENN_ACTION.names[hit[0]])
        self.assertIn("l_wrist", flips)
        self.assertIn("r_wrist", flips)

    def test_translation_shifts_the_crop_by_the_drawn_fraction_of_the_person(self):
        rec = marked_video(self.get_temp_dir())
        clip = {k: v[0] for k, v in pipeline.clip_table([rec], 3).items()}
        seed = tf.constant([3, 1], tf.int64)

        def dot(max_translation):
            aug = pipeline.Augmentation((1.0, 1.0), 0.0, 0.0, 0.0, max_translation)
            frames, _, _ = pipeline.make_clip_fn(joints.PENN_ACTION, 64, 8, 1.0, aug)(clip, seed)
            img = frames[0, ..., 0].numpy()
            return np.array(np.unravel_index(img.argmax(), img.shape)[::-1], np.float32)

        u = tf.random.stateless_uniform([6], seed=seed).numpy()
        size = 60.0  # box 20..80 x 20..75: the person size is its longer side
        zoom = 64 / (size * transforms.CROP_MARGIN)
        expected = -(2 * u[4:6] - 1) * 0.25 * size * zoom  # the centre moves, the content opposite
        self.assertGreater(np.abs(expected).max(), 2.0)
        self.assertAllClose(dot(0.25) - dot(0.0), expected, atol=1.0)

    def test_photometric_gains_are_one_draw_per_clip_and_leave_geometry_and_targets(self):
        rec = marked_video(self.get_temp_dir())
        clip = {k: v[0] for k, v in pipeline.clip_table([rec], 3).items()}
        geometric = pipeline.Augmentation((0.8, 1.4), 40.0, 1.0, 0.5, max_translation=0.2)
        lit = pipeline.Augmentation((0.8, 1.4), 40.0, 1.0, 0.5, 0.2, photometric=0.4)
        means = []
        for seed in range(6):
            seed = tf.constant([seed, 5], tf.int64)
            plain = pipeline.make_clip_fn(joints.PENN_ACTION, 64, 8, 1.0, geometric)(clip, seed)
            out = pipeline.make_clip_fn(joints.PENN_ACTION, 64, 8, 1.0, lit)(clip, seed)
            self.assertAllEqual(out[1], plain[1])  # the same crop, heatmaps and weights
            self.assertAllEqual(out[2], plain[2])
            # the same crop, then one draw of gains for all the clip's frames
            v = tf.random.stateless_uniform(
                [3], seed=tf.random.experimental.stateless_fold_in(seed, 1)).numpy()
            gains = 1.0 + (2.0 * v - 1.0) * 0.4
            self.assertAllClose(out[0], pipeline.photometric(plain[0], tf.constant(gains)),
                                atol=1e-3)
            self.assertNotAllClose(out[0], plain[0])
            means.append(gains[0])
        self.assertGreater(max(means) - min(means), 0.1)  # the draws differ between clips

    def test_photometric_is_brightness_contrast_then_saturation(self):
        frames = tf.constant([[[[100.0, 50.0, 0.0], [200.0, 250.0, 150.0]]]])  # [1, 1, 2, 3]
        self.assertAllClose(pipeline.photometric(frames, tf.constant([1.0, 1.0, 1.0])), frames)
        self.assertAllClose(pipeline.photometric(frames, tf.constant([0.5, 1.0, 1.0])),
                            frames * 0.5)
        grey = np.sum(frames.numpy() * [0.299, 0.587, 0.114], -1, keepdims=True)
        flat = pipeline.photometric(frames, tf.constant([1.0, 0.0, 1.0])).numpy()
        self.assertAllClose(flat, np.full(flat.shape, grey.mean()), atol=1e-3)  # the mean grey
        grey_out = pipeline.photometric(frames, tf.constant([1.0, 1.0, 0.0])).numpy()
        self.assertAllClose(grey_out, np.repeat(grey, 3, -1), atol=1e-4)
        self.assertAllClose(pipeline.photometric(frames, tf.constant([3.0, 1.0, 1.0])),
                            np.minimum(frames.numpy() * 3, 255.0))

    def test_transform_marks_exact_pixel(self):
        img = np.zeros((50, 60, 1), np.float32)
        img[13, 41] = 1.0
        for rot, flip, scale in [(0.0, False, 1.0), (25.0, True, 1.3), (-40.0, False, 0.8)]:
            m = transforms.crop_matrix([30.0, 25.0], 40.0, 64, scale, rot, flip)
            out = transforms.warp_image(img, m, 64).numpy()[..., 0]
            p = transforms.transform_points(m, [[41.0, 13.0]]).numpy()[0]
            peak = np.unravel_index(out.argmax(), out.shape)[::-1]
            self.assertLessEqual(np.abs(np.array(peak) - p).max(), 1.0)
            self.assertAllClose(transforms.invert_points(m.numpy(), p[None])[0], [41, 13],
                                atol=1e-3)

    def test_an_epochs_order_depends_on_the_seed_and_epoch_alone(self):
        """What a resumed run sees at epoch 2 is what an uninterrupted one sees there."""
        def epochs(first, count, per_epoch=7, seed=5):
            items = [(int(i), tuple(d.numpy())) for i, d in
                     pipeline.epoch_order(5, per_epoch, seed, first, count)]
            return [items[k:k + per_epoch] for k in range(0, len(items), per_epoch)]
        straight = epochs(0, 3)
        self.assertLen(straight, 3)
        self.assertEqual(epochs(2, 1), straight[2:])
        self.assertEqual(epochs(1, 2), straight[1:])
        for epoch in straight:  # 7 clips of 5: one whole permutation, then 2 of the next
            self.assertCountEqual([i for i, _ in epoch[:5]], range(5))
        self.assertNotEqual([i for i, _ in straight[0]], [i for i, _ in straight[1]])
        draws = [d for epoch in straight for _, d in epoch]
        self.assertLen(set(draws), len(draws))  # every clip gets its own augmentation draw
        self.assertNotEqual(epochs(0, 1, seed=6), straight[:1])

    def test_dataset_batches_and_corrupt_frame_names_file(self):
        rec = marked_video(self.get_temp_dir())
        ds = pipeline.make_dataset([rec], joints.PENN_ACTION, 64, 2, 2, training=True,
                                   clips_per_epoch=4, seed=0)
        frames, maps, weights = next(iter(ds))
        self.assertEqual(frames.shape, (2, 2, 64, 64, 3))
        self.assertEqual(maps.shape, (2, 2, 8, 8, 13))
        self.assertEqual(weights.shape, (2, 2, 13))
        with open(rec.frame_paths[1], "wb") as f:
            f.write(b"not a jpeg")
        # The frame cache decodes up front, clip-wise decoding on iteration: both name the file.
        with self.assertRaisesRegex(Exception, os.path.basename(rec.frame_paths[1])):
            next(iter(pipeline.make_dataset([rec], joints.PENN_ACTION, 64, 3, 1,
                                            training=False)))
        with self.assertRaisesRegex(Exception, os.path.basename(rec.frame_paths[1])):
            next(iter(pipeline.make_dataset([rec], joints.PENN_ACTION, 64, 3, 1,
                                            training=False, cache_bytes=0)))

    def test_frame_cache_gives_the_batches_of_clip_wise_decoding(self):
        rec = marked_video(self.get_temp_dir())
        self.assertIsNotNone(pipeline.decode_all_frames([rec]))
        self.assertIsNone(pipeline.decode_all_frames([rec], cache_bytes=1000))  # too small
        batches = []
        for cache_bytes in (pipeline.DEFAULT_CACHE_BYTES, 0):
            ds = pipeline.make_dataset([rec], joints.PENN_ACTION, 64, 2, 2, training=True,
                                       clips_per_epoch=4, seed=3, cache_bytes=cache_bytes)
            batches.append([b.numpy() for b in next(iter(ds))])
        for cached, decoded in zip(*batches):
            self.assertAllEqual(cached, decoded)
