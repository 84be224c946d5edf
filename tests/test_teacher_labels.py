"""Teacher labelling: on a tiny MJPG fixture video with stub teachers (deterministic keypoints),
labels land where the person is, only agreeing confident joints are kept, the crop follows the
person and starts over when it is lost, and the clips go through the Penn Action reader; then
one real run of MoveNet Lightning + Thunder on 10 frames of real footage, when it can be had."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import scipy.io
import tensorflow as tf

from dkd_tf.core import joints
from dkd_tf.data import footage, penn_action, teacher_labels
from dkd_tf.pretrained import peers
from dkd_tf.data.frame_crops import full_frame_box

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
H, W, T = 48, 64, 10
BLANK = 8  # the person is out of the picture in this frame
# Where the stub teachers put COCO's 17 keypoints inside the bright box (fractions of it).
TEMPLATE = np.random.default_rng(0).uniform(0.1, 0.9, (17, 2))
COCO = peers.COCO_NAMES


def person_rect(t):
    """(x1, y1, x2, y2) pixel centres of the bright person box in frame t, None when absent."""
    if t == BLANK:
        return None
    x1 = 6 + 3 * t
    return np.array([x1, 6, x1 + 20, 42], np.float64)


def write_fixture(path):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
    assert writer.isOpened()
    for t in range(T):
        frame = np.full((H, W, 3), 30, np.uint8)
        r = person_rect(t)
        if r is not None:
            cv2.rectangle(frame, (int(r[0]), int(r[1])), (int(r[2]), int(r[3])),
                          (220, 220, 220), -1)
        writer.write(frame)
    writer.release()
    return path


def write_gone_fixture(path):
    """Six frames, the person (a still bright box) in frames 0 and 4 only."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
    for t in range(6):
        frame = np.full((H, W, 3), 30, np.uint8)
        if t in (0, 4):
            cv2.rectangle(frame, (6, 6), (26, 42), (220, 220, 220), -1)
        writer.write(frame)
    writer.release()
    return path


def expected_keypoints(t) -> np.ndarray:
    """Penn Action joints [13, 2] the stubs should agree on in frame t (frame pixels)."""
    r = person_rect(t)
    kps = np.concatenate([r[:2] + TEMPLATE * (r[2:] - r[:2]), np.ones((17, 1))], -1)
    return peers.to_joint_set(kps, COCO, joints.PENN_ACTION)[0]


class StubTeacher:
    """Finds the bright box in its crop and puts the template's keypoints in it; `moved` joints
    are pushed aside by half the box's width, `unsure` ones get a low score."""

    names = COCO

    def __init__(self, input_size, moved=(), unsure=()):
        self.input_size = input_size
        self.moved = [COCO.index(n) for n in moved]
        self.unsure = [COCO.index(n) for n in unsure]
        self.crops = []

    def predict(self, crop):
        self.crops.append(crop)
        assert crop.shape == (self.input_size, self.input_size, 3) and crop.dtype == np.uint8
        ys, xs = np.nonzero(crop[..., 0] > 125)
        if len(xs) < 4:
            return np.concatenate([np.zeros((17, 2)), np.full((17, 1), 0.05)], -1)
        lo, hi = np.array([xs.min(), ys.min()]), np.array([xs.max(), ys.max()])
        xy = lo + TEMPLATE * (hi - lo)
        xy[self.moved, 0] += 0.5 * (hi - lo)[0]
        score = np.full(17, 0.9)
        score[self.unsure] = 0.1
        return np.concatenate([xy, score[:, None]], -1)


HEAD_AT = np.array([0.5, 0.02])  # where HeadTeacher marks the head top in the bright box


class HeadTeacher(StubTeacher):
    """A teacher with a head-top keypoint of its own (a user's model may have one)."""

    names = COCO + ("head",)

    def predict(self, crop):
        kps = super().predict(crop)
        ys, xs = np.nonzero(crop[..., 0] > 125)
        if len(xs) < 4:
            return np.concatenate([kps, [[0, 0, 0.05]]])
        lo, hi = np.array([xs.min(), ys.min()]), np.array([xs.max(), ys.max()])
        return np.concatenate([kps, [[*(lo + HEAD_AT * (hi - lo)), 0.9]]])


def penn(name):
    return joints.PENN_ACTION.index(name)


class TeacherLabelsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.video = write_fixture(os.path.join(self.tmp, "walk.avi"))
        self.options = teacher_labels.Options(agree=0.15, min_score=0.3)

    def teachers(self):
        return [StubTeacher(64, moved=["l_wrist"]), StubTeacher(80, unsure=["l_ankle"])]

    def test_labels_are_kept_where_teachers_agree_and_are_sure(self):
        out = os.path.join(self.tmp, "out")
        s = teacher_labels.label_video(self.video, self.teachers(), out, 1, self.options)
        self.assertEqual((s.video_ids, s.frames, s.joints), (["0001"], T, T * 13))
        rec = penn_action.read_video(out, "0001")
        self.assertEqual(rec.image_size, (H, W))
        self.assertEqual(rec.action, "teacher_labels")
        # Disputed, unsure, and the head, which COCO teachers only have a nose for.
        dropped = {penn("l_wrist"), penn("l_ankle"), penn("head")}
        errors = []
        for t in range(T):
            vis = rec.visibility[t]
            if t == BLANK:
                self.assertAllEqual(vis, np.zeros(13))  # nobody there: nothing kept
                continue
            self.assertEqual({k for k in range(13) if vis[k] == 0}, dropped, f"frame {t}")
            keep = vis > 0
            err = np.linalg.norm(rec.joints[t][keep] - expected_keypoints(t)[keep], axis=-1)
            errors.append(err)
            r = person_rect(t)  # the person box bounds the confident joints, inside the person
            self.assertTrue(np.all(rec.bboxes[t][:2] >= r[:2] - 2) and
                            np.all(rec.bboxes[t][2:] <= r[2:] + 2), (t, rec.bboxes[t], r))
        errors = np.concatenate(errors)
        self.assertLess(errors.max(), 2.0)   # crop <-> frame mapping is right
        self.assertLess(errors.mean(), 1.0)
        self.assertEqual(s.kept, int(rec.visibility.sum()))
        self.assertEqual(s.kept, (T - 1) * 10)
        # The evidence is stored beside the labels.
        conf = penn_action.read_field(out, "1", "confidence")
        dis = penn_action.read_field(out, "1", "disagreement")
        self.assertEqual(conf.shape, (T, 13))
        self.assertAllClose(conf[0, penn("l_ankle")], 0.1)
        self.assertAllClose(conf[0, penn("r_ankle")], 0.9)
        self.assertAllClose(conf[BLANK], np.full(13, 0.05))
        self.assertGreater(dis[0, penn("l_wrist")], 0.25)  # half a box width apart
        self.assertLess(dis[0, penn("r_wrist")], 0.15)
        self.assertAllEqual(penn_action.read_field(out, "1", "frame_index").ravel(), range(T))
        self.assertEqual(str(penn_action.read_field(out, "1", "source")[0]), "walk.avi")
        self.assertEqual(str(penn_action.read_field(out, "1", "teachers")[0]),
                         "StubTeacher,StubTeacher")

    def test_the_crop_follows_the_person_and_starts_over_when_lost(self):
        out = os.path.join(self.tmp, "out")
        teachers = self.teachers()
        options = teacher_labels.Options(agree=0.15, min_score=0.3, hold_frames=0)
        s = teacher_labels.label_video(self.video, teachers, out, 1, options)
        # Lost at once (hold 0): the clip ends before the blank frame, which is not written,
        # and the next one starts where the whole frame shows the person again.
        self.assertEqual((s.video_ids, s.frames), (["0001", "0002"], T - 1))
        self.assertAllEqual(penn_action.read_field(out, "1", "frame_index").ravel(),
                            range(BLANK))
        self.assertAllEqual(penn_action.read_field(out, "2", "frame_index").ravel(),
                            range(BLANK + 1, T))
        crop = penn_action.read_field(out, "1", "crop")
        whole = full_frame_box(H, W)
        self.assertAllClose(crop[0], whole)  # first frame: the whole frame
        self.assertAllClose(penn_action.read_field(out, "2", "crop")[0], whole)  # after it
        for t in range(1, BLANK):
            # The box around frame t-1's confident keypoints, grown by the margin.
            prev = person_rect(t - 1)
            side = np.max(crop[t][2:] - crop[t][:2])
            self.assertLess(side, 0.8 * np.max(whole[2:] - whole[:2]))
            centre = (crop[t][:2] + crop[t][2:]) / 2
            self.assertAllClose(centre, (prev[:2] + prev[2:]) / 2, atol=6.0)
        # Each teacher saw its own input size, the person big in its crop after frame 0.
        self.assertEqual({c.shape for c in teachers[1].crops}, {(80, 80, 3)})
        fill = [np.mean(c[..., 0] > 125) for c in teachers[0].crops]
        self.assertGreater(fill[1], 1.5 * fill[0])

    def test_a_lost_person_is_looked_for_in_the_last_box_first(self):
        # The default hold: the frame after the blank one is cropped with the box that frame
        # used, not the whole frame, the person is found in it again, and it is one clip.
        out = os.path.join(self.tmp, "out")
        s = teacher_labels.label_video(self.video, self.teachers(), out, 1, self.options)
        self.assertEqual(s.video_ids, ["0001"])
        crop = penn_action.read_field(out, "1", "crop")
        self.assertGreaterEqual(self.options.hold_frames, 1)
        self.assertAllClose(crop[BLANK + 1], crop[BLANK])
        whole = full_frame_box(H, W)
        self.assertLess(np.max(crop[BLANK + 1][2:] - crop[BLANK + 1][:2]),
                        0.8 * np.max(whole[2:] - whole[:2]))
        self.assertEqual(penn_action.read_video(out, "0001").visibility[BLANK + 1].sum(), 10)
        # A clip cut due on the blank frame waits for the person: one clip, not one ending
        # unlabelled and the next starting with a held box.
        out = os.path.join(self.tmp, "cut")
        s = teacher_labels.label_video(self.video, self.teachers(), out, 1, teacher_labels.Options(
            agree=0.15, min_score=0.3, clip_frames=BLANK + 1))
        self.assertEqual((s.video_ids, s.frames), (["0001"], T))

    def test_a_person_gone_longer_than_the_hold_ends_the_clip(self):
        # Person in frames 0 and 4, nobody in 1-3 and 5.
        video = write_gone_fixture(os.path.join(self.tmp, "gone.avi"))
        whole = full_frame_box(H, W)
        # hold 1: lost in frames 1 and 2 ends the clip after frame 0; frame 3 (nobody on the
        # whole frame) is not written; frame 4 starts a clip from the whole frame; frame 5,
        # held when the video ends, is written unlabelled.
        out = os.path.join(self.tmp, "hold1")
        s = teacher_labels.label_video(video, self.teachers(), out, 1, teacher_labels.Options(
            agree=0.15, min_score=0.3, hold_frames=1))
        self.assertEqual((s.video_ids, s.frames, s.kept), (["0001", "0002"], 3, 2 * 10))
        self.assertAllEqual(penn_action.read_field(out, "1", "frame_index").ravel(), [0])
        self.assertAllEqual(penn_action.read_field(out, "2", "frame_index").ravel(), [4, 5])
        self.assertAllClose(penn_action.read_field(out, "2", "crop")[0], whole)
        self.assertEqual(penn_action.read_video(out, "0002").visibility[1].sum(), 0)
        # hold 3: frames 1-3 are looked at through frame 0's box, where frame 4 finds the
        # person again: one clip of all six frames.
        out = os.path.join(self.tmp, "hold3")
        s = teacher_labels.label_video(video, self.teachers(), out, 1, teacher_labels.Options(
            agree=0.15, min_score=0.3, hold_frames=3))
        self.assertEqual((s.video_ids, s.frames, s.kept), (["0001"], 6, 2 * 10))
        crop = penn_action.read_field(out, "1", "crop")
        for t in (2, 3, 4):
            self.assertAllClose(crop[t], crop[1])
        self.assertNotAllClose(crop[1], whole)

    def test_a_start_box_labels_that_person_and_stops_when_they_are_gone(self):
        # Person in frames 0 and 4 only. From a box around them, with hold 1: frame 0 is
        # labelled through that box, and once they are gone labelling stops; the whole-frame
        # look would have started a second clip at frame 4 (as above).
        video = write_gone_fixture(os.path.join(self.tmp, "gone.avi"))
        box = (4.0, 4.0, 28.0, 44.0)
        opts = teacher_labels.Options(agree=0.15, min_score=0.3, hold_frames=1, start_box=box)
        out = os.path.join(self.tmp, "boxed")
        s = teacher_labels.label_video(video, self.teachers(), out, 1, opts)
        self.assertEqual((s.video_ids, s.frames), (["0001"], 1))
        self.assertAllClose(penn_action.read_field(out, "1", "crop")[0], box)
        self.assertAllClose(penn_action.read_field(out, "1", "start_box").ravel(), box)
        self.assertEqual(penn_action.read_video(out, "0001").visibility[0].sum(), 10)
        # A box where nobody is yet: labelling starts at the first frame that finds someone
        # in it (the walker comes in from the left), with labels on that person.
        out = os.path.join(self.tmp, "later")
        opts = teacher_labels.Options(agree=0.15, min_score=0.3, start_box=(44, 6, 62, 42))
        teacher_labels.label_or_resume(self.video, self.teachers(), out, opts,
                                       log=lambda *_: None)
        first = int(penn_action.read_field(out, "1", "frame_index").ravel()[0])
        self.assertGreater(first, 0)
        rec = penn_action.read_video(out, "0001")
        seen = rec.joints[0][rec.visibility[0] > 0]
        self.assertNotEmpty(seen)
        r = person_rect(first)
        self.assertTrue(np.all((seen >= r[:2] - 1.5) & (seen <= r[2:] + 1.5)), seen)
        # Recorded and resumable like any labelling; a bad box is refused before any work.
        again = []
        self.assertIsNone(teacher_labels.label_or_resume(self.video, self.teachers(), out, opts,
                                                         log=again.append))
        self.assertIn("already labelled", again[0])
        with self.assertRaisesRegex(ValueError, "start_box must be x1,y1,x2,y2"):
            teacher_labels.Options(start_box=(10, 10, 5, 20))

    def test_a_start_frame_skips_the_frames_before_it(self):
        # Person in frames 0 and 4 only. The same box from frame 2 on: frames 0 and 1 are not
        # looked at, 2 and 3 find nobody in the box, 4 starts the clip (and 5, held when the
        # video ends, is written unlabelled); from frame 0 the box labelled frame 0 alone.
        video = write_gone_fixture(os.path.join(self.tmp, "gone.avi"))
        opts = teacher_labels.Options(agree=0.15, min_score=0.3, hold_frames=1,
                                      start_box=(4.0, 4.0, 28.0, 44.0), start_frame=2)
        out = os.path.join(self.tmp, "from2")
        s = teacher_labels.label_or_resume(video, self.teachers(), out, opts,
                                           log=lambda *_: None)
        self.assertEqual(s.video_ids, ["0001"])
        self.assertAllEqual(penn_action.read_field(out, "1", "frame_index").ravel(), [4, 5])
        self.assertEqual(penn_action.read_video(out, "0001").visibility[0].sum(), 10)
        recorded = teacher_labels.finished_sources(out)
        self.assertEqual([v["settings"]["start_frame"] for v in recorded.values()], [2])
        # Settings without one are recorded as before it existed, so older labels still resume.
        self.assertNotIn("start_frame", teacher_labels.settings_of(
            self.teachers(), teacher_labels.Options(), True))
        with self.assertRaisesRegex(ValueError, "start_frame >= 0"):
            teacher_labels.Options(start_frame=-1)

    def test_a_joint_no_teacher_marks_itself_is_never_a_label(self):
        # COCO teachers have a nose, not Penn Action's head (the head top): never kept, and the
        # clip says so; teachers that mark a head themselves have it kept.
        out = os.path.join(self.tmp, "coco")
        teacher_labels.label_video(self.video, self.teachers(), out, 1, self.options)
        self.assertEqual(str(penn_action.read_field(out, "1", "unmarked_joints")[0]), "head")
        self.assertAllEqual(penn_action.read_video(out, "1").visibility[:, penn("head")],
                            np.zeros(T))
        out = os.path.join(self.tmp, "heads")
        teacher_labels.label_video(self.video, [HeadTeacher(64), HeadTeacher(80)], out, 1,
                                   self.options)
        self.assertEqual(str(penn_action.read_field(out, "1", "unmarked_joints")[0]), "none")
        rec = penn_action.read_video(out, "1")
        self.assertAllEqual(rec.visibility[:, penn("head")] > 0, np.arange(T) != BLANK)
        want = person_rect(0)[:2] + HEAD_AT * (person_rect(0)[2:] - person_rect(0)[:2])
        self.assertAllClose(rec.joints[0, penn("head")], want, atol=2.0)
        # A clip from before the field existed (its head was the nose) is refused by the
        # reader, so it can neither train nor score; resuming into its folder is refused too.
        mat_path = penn_action.label_path(os.path.join(self.tmp, "coco"), "1")
        mat = {k: v for k, v in scipy.io.loadmat(mat_path).items()
               if not k.startswith("__") and k != "unmarked_joints"}
        scipy.io.savemat(mat_path, mat)
        with self.assertRaisesRegex(penn_action.DatasetError,
                                    "0001.mat.*older dkd_tf.label_video.*nose"):
            penn_action.read_video(os.path.join(self.tmp, "coco"), "1")
        with self.assertRaisesRegex(ValueError, "0001.mat: a clip of .*walk.avi labelled with "
                                                "other settings"):
            teacher_labels.label_or_resume(self.video, self.teachers(),
                                           os.path.join(self.tmp, "coco"), self.options,
                                           log=lambda *_: None)

    def test_a_looser_agreement_keeps_the_disputed_joint(self):
        out = os.path.join(self.tmp, "out")
        loose = teacher_labels.Options(agree=1.0, min_score=0.3)
        teacher_labels.label_video(self.video, self.teachers(), out, 1, loose)
        rec = penn_action.read_video(out, "1")
        self.assertAllEqual(rec.visibility[0] == 0,
                            np.isin(np.arange(13), [penn("l_ankle"), penn("head")]))

    def test_clips_every_and_shrunk_frames(self):
        out = os.path.join(self.tmp, "out")
        opts = teacher_labels.Options(agree=0.15, clip_frames=2, every=2, max_side=32)
        s = teacher_labels.label_video(self.video, self.teachers(), out, 5, opts, train=False)
        # The third clip would hold frame 8 alone, where the person is out of the picture (held,
        # unlabelled): not written.
        self.assertEqual(s.video_ids, ["0005", "0006"])
        self.assertEqual((s.unlabelled_clips, s.unlabelled_frames), (1, 1))
        recs = penn_action.read_split(out, "test")
        self.assertEqual([r.num_frames for r in recs], [2, 2])
        self.assertEqual([list(penn_action.read_field(out, r.video_id, "frame_index").ravel())
                          for r in recs], [[0, 2], [4, 6]])
        self.assertEqual(recs[0].image_size, (24, 32))
        keep = recs[1].visibility[0] > 0
        self.assertEqual(keep.sum(), 10)
        want = 0.5 * expected_keypoints(4) - 0.25  # pixel centres: x' = f x + (f - 1) / 2
        self.assertAllClose(recs[1].joints[0][keep], want[keep], atol=1.5)
        self.assertEqual(teacher_labels.next_video_id(out), 7)
        self.assertEqual(teacher_labels.next_video_id(os.path.join(self.tmp, "none")), 1)

    def test_a_rerun_adds_only_what_is_missing(self):
        """Rerunning an interrupted labelling never puts a video in the set twice: a video
        labelled to its end is skipped, the clips of one cut off are replaced, and the same
        video with other settings is refused."""
        out = os.path.join(self.tmp, "out")
        opts = teacher_labels.Options(agree=0.15, clip_frames=4)
        first = teacher_labels.label_or_resume(self.video, self.teachers(), out, opts,
                                               log=lambda *_: None)
        self.assertEqual(first.video_ids, ["0001", "0002", "0003"])
        said = []
        self.assertIsNone(teacher_labels.label_or_resume(self.video, self.teachers(), out, opts,
                                                         log=said.append))
        self.assertIn("already labelled", said[0])
        self.assertEqual(penn_action.list_videos(out), ["0001", "0002", "0003"])
        # A second video whose labelling stopped after two of its three clips.
        other = shutil.copy(self.video, os.path.join(self.tmp, "run.avi"))
        cut = teacher_labels.label_video(other, self.teachers(), out, 4, opts)
        teacher_labels.remove_videos(out, cut.video_ids[2:])
        def fields(vid):  # every field of the .mat, but its header's creation time
            mat = scipy.io.loadmat(penn_action.label_path(out, vid))
            return {k: v for k, v in mat.items() if not k.startswith("__")}

        before = fields("0005")
        said = []
        again = teacher_labels.label_or_resume(other, self.teachers(), out, opts, log=said.append)
        self.assertIn("cut off; removing its 2 clip(s) (videos 0004, 0005)", said[0])
        self.assertEqual(again.video_ids, ["0004", "0005", "0006"])
        self.assertEqual(penn_action.list_videos(out), [f"{i:04d}" for i in range(1, 7)])
        after = fields("0005")  # the same labels, written once
        self.assertEqual(sorted(after), sorted(before))
        for key, value in before.items():
            self.assertAllEqual(after[key], value, msg=key)
        done = teacher_labels.finished_sources(out)
        self.assertEqual(sorted(e["videos"] for e in done.values()),
                         [["0001", "0002", "0003"], ["0004", "0005", "0006"]])
        # A finished video whose clip was deleted since is labelled again, not skipped.
        teacher_labels.remove_videos(out, ["0002"])
        said = []
        redone = teacher_labels.label_or_resume(self.video, self.teachers(), out, opts,
                                                log=said.append)
        self.assertIn("removing its 2 clip(s) (videos 0001, 0003)", said[0])
        self.assertEqual(redone.video_ids, ["0007", "0008", "0009"])  # after the last one
        self.assertEqual(penn_action.list_videos(out), [f"{i:04d}" for i in range(4, 10)])
        loose = teacher_labels.Options(agree=0.5, clip_frames=4)
        with self.assertRaisesRegex(ValueError, r"other settings \(agree differ"):
            teacher_labels.label_or_resume(self.video, self.teachers(), out, loose)
        unrecorded = os.path.join(self.tmp, "unrecorded")
        teacher_labels.label_video(self.video, self.teachers(), unrecorded, 1, loose)
        with self.assertRaisesRegex(ValueError, "0001.mat: a clip of .* other settings"):
            teacher_labels.label_or_resume(self.video, self.teachers(), unrecorded, opts)
        with open(os.path.join(out, teacher_labels.SOURCES_FILE), "w") as f:
            f.write("{not json")
        with self.assertRaisesRegex(ValueError, "label_video_sources.json: cannot be read"):
            teacher_labels.label_or_resume(self.video, self.teachers(), out, opts)

    def test_a_video_without_anybody_writes_no_clip_and_is_recorded(self):
        video = os.path.join(self.tmp, "empty.avi")
        writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
        for _ in range(3):
            writer.write(np.full((H, W, 3), 30, np.uint8))
        writer.release()
        out = os.path.join(self.tmp, "new_folder")
        s = teacher_labels.label_or_resume(video, self.teachers(), out, self.options,
                                           log=lambda *_: None)
        self.assertEqual((s.video_ids, s.frames, s.kept), ([], 0, 0))
        said = []
        self.assertIsNone(teacher_labels.label_or_resume(video, self.teachers(), out,
                                                         self.options, log=said.append))
        self.assertIn("already labelled", said[0])

    def test_clips_without_an_agreed_joint_are_not_written(self):
        # Teachers that never agree: every clip is counted, none written, and the source is
        # recorded as done (a rerun skips it).
        quarrel = [StubTeacher(64, moved=COCO), StubTeacher(80)]
        opts = teacher_labels.Options(agree=0.15, min_score=0.3, clip_frames=3)
        out = os.path.join(self.tmp, "quarrel")
        s = teacher_labels.label_or_resume(self.video, quarrel, out, opts, log=lambda *_: None)
        self.assertEqual((s.video_ids, s.frames, s.kept), ([], 0, 0))
        self.assertEqual((s.unlabelled_clips, s.unlabelled_frames), (3, T))  # 3, 3, 4 frames
        self.assertEqual(penn_action.read_split(out, "all") if os.path.isdir(
            os.path.join(out, "labels")) else [], [])
        said = []
        self.assertIsNone(teacher_labels.label_or_resume(self.video, quarrel, out, opts,
                                                         log=said.append))
        self.assertIn("already labelled", said[0])
        # Agreeing teachers, same clips: all written, none counted as unlabelled.
        s = teacher_labels.label_video(self.video, self.teachers(), os.path.join(
            self.tmp, "agree"), 1, opts)
        self.assertEqual((len(s.video_ids), s.frames, s.unlabelled_clips), (3, T, 0))

    def test_sources(self):
        folder = os.path.join(self.tmp, "videos")
        os.makedirs(folder)
        for name in ("b.mp4", "a.avi", "notes.txt"):
            open(os.path.join(folder, name), "w").close()
        self.assertEqual(teacher_labels.list_sources(folder),
                         [os.path.join(folder, "a.avi"), os.path.join(folder, "b.mp4")])
        self.assertEqual(teacher_labels.list_sources(f"{self.video},{folder}")[0], self.video)
        with self.assertRaisesRegex(ValueError, "no such video"):
            teacher_labels.list_sources(os.path.join(self.tmp, "missing.mp4"))

    def test_command_errors_are_one_line(self):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        missing = os.path.join(self.tmp, "missing.mp4")
        for args, pattern in (
                (["--video", missing], rf"^error: {missing}: no such video"),
                (["--video", self.video, "--teachers", "movenet_thunder"],
                 r"^error: --teachers: agreement needs at least two teachers"),
                (["--video", self.video, "--start_box", "1,2,x,4"],
                 r"^error: --start_box: 1,2,x,4 is not four numbers x1,y1,x2,y2$"),
                (["--video", self.video, "--start_box", "10,2,5,4"],
                 r"^error: start_box must be x1,y1,x2,y2 with x2 > x1"),
                (["--video", self.video, "--start_frame", str(T)],
                 rf"^error: {self.video}: --start_frame {T} is past its last frame "
                 rf"\(frames 0-{T - 1} are read\)$")):
            proc = subprocess.run([sys.executable, "-m", "dkd_tf.label_video", "--out_dir",
                                   self.tmp] + args, capture_output=True, text=True,
                                  timeout=300, cwd=ROOT, env=env)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertRegex(proc.stderr.strip().splitlines()[-1], pattern)  # after TF's notices


class RealFootageTest(tf.test.TestCase):
    """MoveNet Lightning + Thunder on the first 10 frames of a real lab video (pose2sim)."""

    def test_real_clip(self):
        try:
            video = footage.pose2sim_video()
            teachers = [peers.load(k) for k in ("movenet_thunder", "movenet_lightning")]
        except Exception as e:  # noqa: BLE001 - no network, no pip, no npm: nothing to test on
            self.skipTest(f"real footage or teachers cannot be had here ({e})")
        out = tempfile.mkdtemp()
        start = time.time()
        s = teacher_labels.label_video(video, teachers, out, 1,
                                       teacher_labels.Options(max_frames=10))
        rec = penn_action.read_video(out, "1")
        print(f"\nreal run: {s.frames} frames of {os.path.basename(video)}, kept {s.kept}/"
              f"{s.joints} joints in {time.time() - start:.1f} s")
        self.assertEqual(rec.num_frames, 10)
        self.assertEqual(rec.image_size, (640, 360))  # 1920 x 1080 portrait, shrunk
        # One person fills the lab scene: the teachers agree on most of her joints.
        self.assertGreater(s.kept_fraction, 0.6)
        h = rec.bboxes[:, 3] - rec.bboxes[:, 1]
        self.assertGreater(h.min(), 0.25 * 640)
        conf = penn_action.read_field(out, "1", "confidence")
        self.assertGreater(np.median(conf[rec.visibility > 0]), 0.3)


if __name__ == "__main__":
    tf.test.main()
