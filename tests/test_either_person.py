"""'One of them': a no-box tracker on a clip of two people is scored against the labelled person
it picked on the clip's first frame (dkd_tf.evaluation.either_person)."""
import tempfile

import numpy as np
import tensorflow as tf

from dkd_tf.core import joints as joints_lib
from dkd_tf.data import penn_action
from dkd_tf.evaluation import either_person, metrics

K = joints_lib.PENN_ACTION.num_joints
SOURCE = "scene/cam04.mp4"


def _person(cx, frames):
    """[T, K, 2] joints of a 40 px-wide person centred at x = cx (drifting 1 px a frame)."""
    rng = np.random.default_rng(int(cx))
    base = np.stack([cx + rng.uniform(-20, 20, K), rng.uniform(10, 90, K)], -1)
    return np.stack([base + [t, 0] for t in range(frames)]).astype(np.float32)


def _write(root, vid, joints, first_frame, visible=None):
    t = len(joints)
    vis = np.ones((t, K), np.float32) if visible is None else visible
    boxes = np.concatenate([joints.min(1) - 5, joints.max(1) + 5], -1)
    frames = [np.zeros((100, 200, 3), np.uint8)] * t
    penn_action.write_video(root, vid, frames, joints, vis, boxes, train=False, extra={
        "source": SOURCE, "frame_index": np.arange(first_frame, first_frame + t)[None]})


def _rescore(main, records, predictions, other_dirs):
    return either_person.rescored_records(either_person.load_people(main, records, other_dirs),
                                          records, predictions)


class EitherPersonTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        # Frames 0-9 of one scene: person A at x = 50, person B at x = 150. The clip under test
        # (main) is labelled on A; B's own labelling run covers frames 0-5 and 6-9 (two clips,
        # as label_video cuts them), not labelled at frame 8.
        self.a, self.b = _person(50, 10), _person(150, 10)
        self.main = tempfile.mkdtemp()
        _write(self.main, "0001", self.a, 0)
        self.other = tempfile.mkdtemp()
        _write(self.other, "0001", self.b[:6], 0)
        hidden = np.ones((4, K), np.float32)
        hidden[2] = 0
        _write(self.other, "0002", self.b[6:], 6, hidden)
        self.records = penn_action.read_split(self.main, "all")

    def _score(self, pred):
        recs, picked = _rescore(self.main, self.records, {"0001": pred}, [self.other])
        acc = metrics.score_records(joints_lib.PENN_ACTION, recs, {"0001": pred})
        return acc.result(0.2, "person")["mean"], picked["0001"], recs[0]

    def test_a_tracker_on_the_other_person_is_scored_against_their_labels(self):
        pck, picked, rec = self._score(self.b)
        self.assertEqual(picked, f"{self.other}:0001")
        self.assertAllClose(rec.joints[:6], self.b[:6])
        # B's first clip ends at frame 5: the rest of the clip is not labelled for this pick
        self.assertEqual(float(rec.visibility[6:].sum()), 0.0)
        self.assertEqual(pck, 100.0)
        plain = metrics.score_records(joints_lib.PENN_ACTION, self.records, {"0001": self.b})
        self.assertLess(plain.result(0.2, "person")["mean"], 10.0)  # against A's labels

    def test_the_person_in_the_labels_keeps_them(self):
        pck, picked, rec = self._score(self.a + 1.0)
        self.assertEqual(picked, f"{self.main}:0001")
        self.assertAllEqual(rec.joints, self.records[0].joints)
        self.assertEqual(pck, 100.0)

    def test_drifting_to_the_other_person_later_still_misses(self):
        drift = np.concatenate([self.a[:5], self.b[5:]])
        pck, picked, _ = self._score(drift)
        self.assertEqual(picked, f"{self.main}:0001")
        self.assertAllClose(pck, 50.0)

    def test_a_skeleton_over_both_people_scores_against_the_nearer(self):
        both = self.a.copy()
        both[:, K // 2:] = self.b[:, K // 2:]
        pck, _, _ = self._score(both)
        self.assertLess(pck, 60.0)

    def test_a_second_labelling_of_the_same_person_does_not_replace_the_clip_s_labels(self):
        again = tempfile.mkdtemp()
        _write(again, "0001", self.a[:3] + 2.0, 0)  # A labelled again, close, on 3 frames only
        recs, picked = _rescore(self.main, self.records, {"0001": self.a + 2.0},
                                [again, self.other])
        self.assertEqual(picked["0001"], f"{self.main}:0001")
        self.assertEqual(float(recs[0].visibility.sum()), 10.0 * K)

    def test_the_same_person_is_told_by_the_joints_both_label(self):
        # The clip's own labels miss 8 joints on its first frame (stored as 0, 0): the second
        # labelling of A is still A, so the clip keeps its labels.
        main = tempfile.mkdtemp()
        hidden = np.ones((10, K), np.float32)
        hidden[0, :8] = 0
        a = self.a.copy()
        a[0, :8] = 0.0
        _write(main, "0001", a, 0, hidden)
        again = tempfile.mkdtemp()
        _write(again, "0001", self.a[:3] + 1.0, 0)
        records = penn_action.read_split(main, "all")
        _, picked = _rescore(main, records, {"0001": self.a + 1.0}, [again])
        self.assertEqual(picked["0001"], f"{main}:0001")

    def test_labels_of_another_source_or_frame_size_are_no_candidates(self):
        elsewhere = tempfile.mkdtemp()
        t = 10
        penn_action.write_video(elsewhere, "0001", [np.zeros((100, 200, 3), np.uint8)] * t,
                                self.b, np.ones((t, K)), np.tile([[0, 0, 200, 100]], (t, 1)),
                                train=False, extra={"source": "other.mp4",
                                                    "frame_index": np.arange(t)[None]})
        recs, picked = _rescore(self.main, self.records, {"0001": self.b}, [elsewhere])
        self.assertEqual(picked["0001"], f"{self.main}:0001")

    def test_a_comparison_reports_it_beside_the_plain_score(self):
        from dkd_tf.evaluation import stream_eval
        from dkd_tf.experiments import video_preset
        people = either_person.load_people(self.main, self.records, [self.other])
        one = stream_eval.one_of_them(joints_lib.PENN_ACTION, people, self.records,
                                      {"0001": self.b}, "stub")
        self.assertEqual((one["pck_0.2"], one["pck_0.1"]), (100.0, 100.0))
        self.assertEqual(one["picked"], {"0001": f"{self.other}:0001"})
        row = {"pck_0.2": 4.0, "pck_0.1": 1.0, "torso_0.2": 2.0, "limbs_0.2": 3.0,
               "limbs_0.1": 0.5,
               "jitter": {"median": 0.5}, "initializer_ms": 1.0, "stepper_ms": 1.0}
        comparison = {"rows": {"DKD": {**row, "one_of_them": one}, "peer": row},
                      "labels_jitter": {"median": 0.1}, "pairs": {}, "num_videos": 1,
                      "num_frames": 10, "crop": "find", "split": "all", "data_dir": "d"}
        self.assertIn("picked on its first frame): DKD 100.0 / 100.0",
                      stream_eval.format_comparison(comparison))
        table = video_preset.format_rows(comparison).splitlines()
        self.assertIn("one of them, PCK@0.2 / @0.1", table[0])
        self.assertEqual(table[2],
                         "| DKD | 4.0 | 1.0 | 3.0 / 0.5 | 100.0 / 100.0 | 0.50 | 1.0 | 1.0 |")
        self.assertEqual(table[3], "| peer | 4.0 | 1.0 | 3.0 / 0.5 | - / - | 0.50 | 1.0 | 1.0 |")
        self.assertEqual(len(table[0].split("|")), len(table[1].split("|")))
        del comparison["rows"]["DKD"]["one_of_them"]
        self.assertNotIn("one of them", video_preset.format_rows(comparison))

    def test_the_command_takes_people_dirs_only_with_no_first_box(self):
        import os
        import subprocess
        import sys
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        base = [sys.executable, "-m", "export.evaluate_stream", "--export_dir", self.main,
                "--data_dir", self.main]
        for extra, message in ((["--people_dirs", self.other], "it needs --crop find"),
                               (["--crop", "find", "--people_dirs", "/nonexistent/people"],
                                "/nonexistent/people")):
            proc = subprocess.run(base + extra, cwd=repo, capture_output=True, text=True,
                                  timeout=120, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
            self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
            first = proc.stderr.strip().splitlines()[0]
            self.assertTrue(first.startswith("error: "), first)
            self.assertIn(message, first)

    def test_people_of_other_videos_are_refused_before_any_streaming(self):
        either_person.check_people_dirs(self.main, [self.other])
        either_person.check_people_dirs(self.main, [])
        elsewhere = tempfile.mkdtemp()
        penn_action.write_video(elsewhere, "0001", [np.zeros((100, 200, 3), np.uint8)] * 2,
                                self.b[:2], np.ones((2, K)), np.tile([[0, 0, 200, 100]], (2, 1)),
                                train=False, extra={"source": "other.mp4",
                                                    "frame_index": np.arange(2)[None]})
        with self.assertRaisesRegex(ValueError, f"{elsewhere}: none of its clips comes from a "
                                                "video of"):
            either_person.check_people_dirs(self.main, [self.other, elsewhere])
        # With several data dirs (the card's find dirs), each people dir needs one of them.
        either_person.check_people_dirs([self.main, elsewhere], [self.other, elsewhere])
        with self.assertRaisesRegex(ValueError, f"{self.other}: none of its clips comes from "
                                                f"a video of {elsewhere}'s"):
            either_person.check_people_dirs([elsewhere], [self.other])

    def test_which_people_dirs_belong_to_a_dir_and_how_many_clips_show_another(self):
        elsewhere = tempfile.mkdtemp()
        penn_action.write_video(elsewhere, "0001", [np.zeros((100, 200, 3), np.uint8)] * 2,
                                self.b[:2], np.ones((2, K)), np.tile([[0, 0, 200, 100]], (2, 1)),
                                train=False, extra={"source": "other.mp4",
                                                    "frame_index": np.arange(2)[None]})
        self.assertEqual(either_person.people_dirs_of(self.main, [elsewhere, self.other]),
                         [self.other])
        self.assertEqual(either_person.clips_with_others(self.main, [self.other]), 1)
        self.assertEqual(either_person.clips_with_others(self.main, [elsewhere]), 0)
        # A second main clip that starts where B is not labelled (frame 8) shows nobody else,
        # and a people dir that labels A again is no other person.
        _write(self.main, "0002", self.a[8:], 8)
        self.assertEqual(either_person.clips_with_others(self.main, [self.other]), 1)
        again = tempfile.mkdtemp()
        _write(again, "0001", self.a[:3] + 0.5, 0)
        self.assertEqual(either_person.clips_with_others(self.main, [again]), 0)

    def test_a_dir_without_frame_index_is_named(self):
        plain = tempfile.mkdtemp()
        penn_action.write_video(plain, "0001", [np.zeros((100, 200, 3), np.uint8)] * 2,
                                self.b[:2], np.ones((2, K)), np.tile([[0, 0, 200, 100]], (2, 1)),
                                train=False)
        with self.assertRaisesRegex(ValueError, r"0001.mat: no source / frame_index"):
            either_person.load_people(self.main, self.records, [plain])


if __name__ == "__main__":
    tf.test.main()
