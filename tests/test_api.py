"""The public Python API (dkd_tf.presets.list, PoseTracker.from_preset / track, DKD.from_preset)
on the shipped presets, and the presets' names, model cards and paths."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

import dkd_tf
from dkd_tf import presets
from dkd_tf.serving import manifest as manifest_lib
from dkd_tf.data import synthetic
from tests.helpers import write_video

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE, MOBILE = "dkd-resnet18-synthetic-128", "dkd-mobilenetv3small-synthetic-128"
REAL = "singleframe-movenetthunder-lsp-256"
REAL_VIDEO = "dkd-movenetlightning-realvideo-256"
FRAMES, HEIGHT, WIDTH = 8, 160, 208


def _clip(seed=0, index=200):
    """A held-out synthetic clip (video 200 of seed 0: the presets trained on videos 0..191)."""
    return synthetic.render_video(synthetic.video_rng(seed, index), FRAMES, HEIGHT, WIDTH)


class PresetNamesTest(tf.test.TestCase):

    def test_list_gives_descriptive_names_and_the_folder_names_stay_aliases(self):
        self.assertEqual(presets.list(), sorted([REFERENCE, MOBILE, REAL, REAL_VIDEO]))
        self.assertEqual(presets.available(),  # folders
                         ["dkd_movenet_video", "mobile", "movenet_lsp", "reference"])
        self.assertEqual(presets.aliases(), {"reference": REFERENCE, "mobile": MOBILE,
                                             "movenet_lsp": REAL,
                                             "dkd_movenet_video": REAL_VIDEO})
        for alias, name in presets.aliases().items():
            self.assertEqual(presets.preset_dir(alias), presets.preset_dir(name))
            self.assertEqual(presets.verify(alias)["files"], presets.verify(name)["files"])
        with self.assertRaisesRegex(presets.PresetError, "no preset named 'dkd-nope'.*shipped: "):
            presets.preset_dir("dkd-nope")

    def test_names_say_architecture_data_and_input_size(self):
        for name in presets.list():
            meta = presets.verify(name)
            kind, arch, data, size = name.split("-")
            # a DKD pair is named by its frame encoder F; a single-frame pair by its P
            member = "dkd" if kind == "dkd" else "initializer"
            self.assertIn(kind, ("dkd", "singleframe"))
            with open(os.path.join(presets.member_dir(name, member, meta), "config.json")) as f:
                cfg = json.load(f)
            self.assertEqual(arch, cfg["encoder_backbone"].replace("_", ""))
            # clips in Penn Action's format are named by what they hold: the real-world clips
            # (photos set in motion, with or without passers, + teacher-labelled footage) are
            # "realvideo"
            held = {"real_clips": "realvideo", "real_clips_passers": "realvideo"}.get(
                os.path.basename(cfg["data_dir"]), cfg["dataset"].split("_")[0])
            self.assertEqual(data, held)
            self.assertEqual(int(size), cfg["input_size"])

    def test_model_cards_carry_the_presets_numbers_and_command(self):
        for name, folder in ((REFERENCE, "reference"), (MOBILE, "mobile")):
            meta = presets.verify(name)
            path = os.path.join(presets.preset_dir(name), presets.CARD_FILE)
            with open(path) as f:
                card = f.read()
            for text in (name, f"`{folder}`", meta["produced_by"], meta["names"]["dkd"]):
                self.assertIn(text, card, f"{path} lacks {text!r}")
            results = meta["results"]
            for member in ("dkd", "baseline"):
                for norm in ("person", "torso"):
                    value = f"{results[member][norm]['mean']:.1f}"
                    self.assertIn(value, card, f"{path} lacks {member} {norm} PCK {value}")
            for key in ("dkd_follow_crop_pck", "dkd_tflite_gt_crop_pck"):
                self.assertIn(f"{results[key]:.1f}", card, f"{path} lacks {key}")

    def test_no_preset_file_names_a_machines_folder(self):
        absolute = re.compile(r"(?<![\w.~-])/(?:work|home|tmp|root|Users|mnt|opt)/")
        for root, _, files in os.walk(presets.PRESETS_DIR):
            for fn in files:
                if fn.endswith((".json", ".md")):
                    with open(os.path.join(root, fn)) as f:
                        text = f.read()
                    self.assertNotIn(REPO, text, os.path.join(root, fn))
                    self.assertIsNone(absolute.search(text), os.path.join(root, fn))

    def test_written_presets_record_their_exports_model_dir_relative(self):
        from dkd_tf.serving import manifest as manifest_lib
        root = self.get_temp_dir()
        path = os.path.join(root, "p")
        os.makedirs(os.path.join(path, "dkd"))
        os.makedirs(os.path.join(path, "dkd_tflite"))
        manifest = {"model": {"model_dir": os.path.join(path, "dkd")}}
        with open(os.path.join(path, "dkd_tflite", "manifest.json"), "w") as f:
            json.dump(manifest, f)
        presets.write("p", {"dkd": "model", "dkd_tflite": "export"}, {}, root=root)
        with open(os.path.join(path, "dkd_tflite", "manifest.json")) as f:
            written = json.load(f)
        self.assertEqual(written["model"]["model_dir"], "../dkd")
        self.assertEqual(manifest_lib.source_model_dir(written, os.path.join(path, "dkd_tflite")),
                         os.path.join(path, "dkd"))
        with mock.patch.object(presets, "PRESETS_DIR", root):
            presets.verify("p")  # hashed after the rewrite

    def test_android_tooling_defaults_to_the_stream_default_export(self):
        import importlib.util
        tool = os.path.join(REPO, "android_demo", "tools", "copy_export.py")
        spec = importlib.util.spec_from_file_location("android_copy_export", tool)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.assertEqual(module.default_export_dir(),
                         presets.member_dir(presets.DEFAULT, "dkd_tflite"))

    def test_import_is_light(self):
        code = ("import sys, dkd_tf; names = dkd_tf.presets.list(); "
                "assert names and 'tensorflow' not in sys.modules, sorted(sys.modules); "
                "assert 'PoseTracker' in dir(dkd_tf)")
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


class PoseTrackerApiTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clip = _clip()
        cls.tmp = tempfile.mkdtemp()
        cls.video = write_video(os.path.join(cls.tmp, "clip.avi"), cls.clip["frames"])
        cls.tracker = dkd_tf.PoseTracker.from_preset(REFERENCE)  # tflite

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def _check_poses(self, poses, tracker, count=FRAMES):
        self.assertLen(poses, count)  # one per frame
        self.assertEqual([p.frame_index for p in poses], list(range(count)))
        self.assertEqual([p.result.graph for p in poses],
                         ["initializer"] + ["stepper"] * (count - 1))
        for pose in poses:
            self.assertEqual(pose.status, "ok")
            self.assertEqual(pose.keypoints.shape, (len(tracker.names), 3))
            self.assertEqual(pose.names, tuple(tracker.names))
            self.assertTrue(np.all(np.isfinite(pose.keypoints)))
            x, y, conf = pose.keypoints.T
            self.assertAllInRange(x, -0.25 * WIDTH, 1.25 * WIDTH)
            self.assertAllInRange(y, -0.25 * HEIGHT, 1.25 * HEIGHT)
            self.assertAllInRange(conf, 0.0, 1.5)

    def test_track_a_video_file_yields_a_pose_per_frame_near_the_person(self):
        poses = list(self.tracker.track(self.video))  # box=None: the whole frame, square
        self._check_poses(poses, self.tracker)
        kp = np.stack([p.keypoints[:, :2] for p in poses])
        error = np.median(np.linalg.norm(kp - self.clip["joints"], axis=-1))
        heights = self.clip["bboxes"][:, 3] - self.clip["bboxes"][:, 1]
        centre = np.array([(WIDTH - 1) / 2, (HEIGHT - 1) / 2])
        guess = np.median(np.linalg.norm(self.clip["joints"] - centre, axis=-1))
        self.assertLess(error, 0.35 * float(np.median(heights)))  # about 0.15 measured
        self.assertLess(error, 0.6 * guess)  # far better than the frame centre for every joint

    def test_frames_given_as_arrays_and_aliases_give_the_same_poses(self):
        poses = list(self.tracker.track(self.clip["frames"]))
        self._check_poses(poses, self.tracker)
        again = list(dkd_tf.PoseTracker.from_preset("reference").track(iter(self.clip["frames"])))
        self.assertAllEqual(np.stack([p.keypoints for p in poses]),
                            np.stack([p.keypoints for p in again]))
        box = self.clip["bboxes"][0]
        first = list(self.tracker.track(self.clip["frames"], box=box, max_frames=3))
        self.assertLen(first, 3)
        self.assertAllClose(first[0].result.box, box)
        with self.assertRaisesRegex(ValueError, "RGB image"):
            list(self.tracker.track([np.zeros((4, 4), np.uint8)]))
        with self.assertRaisesRegex(ValueError, "lies outside"):
            list(self.tracker.track(self.clip["frames"], box=[500, 500, 600, 600]))

    def test_a_finder_is_named_by_its_key(self):
        from dkd_tf.data.video_frames import StreamError
        from dkd_tf.serving import runtimes
        finder = mock.Mock(name="multipose")
        with mock.patch.object(runtimes, "peer_like", return_value=finder) as opened:
            tracker = dkd_tf.PoseTracker.from_preset(REFERENCE, finder="movenet_multipose")
        self.assertIs(tracker.finder, finder)
        self.assertEqual(opened.call_args.args[:2], ("movenet_multipose", tracker.runner))
        # Without one, the export's: the real-world preset's manifests name MultiPose, the
        # synthetic presets' none; '' or 'none' asks for none.
        with mock.patch.object(runtimes, "peer_like", return_value=finder) as opened:
            self.assertIs(dkd_tf.PoseTracker.from_preset(REAL_VIDEO).finder, finder)
            self.assertEqual(opened.call_args.args[0], "movenet_multipose")
            opened.reset_mock()
            self.assertIsNone(dkd_tf.PoseTracker.from_preset(REAL_VIDEO, finder="").finder)
            self.assertIsNone(dkd_tf.PoseTracker.from_preset(REAL_VIDEO,
                                                             finder="none").finder)
            self.assertIsNone(dkd_tf.PoseTracker.from_preset(REFERENCE).finder)
            opened.assert_not_called()
        with mock.patch.object(presets, "verify", side_effect=AssertionError("loaded")):
            with self.assertRaisesRegex(StreamError, "--finder nope: unknown; choose one of "
                                                     ".*movenet_multipose"):
                dkd_tf.PoseTracker.from_preset(REFERENCE, finder="nope")

    def test_keras_backend_agrees_with_the_int8_export_and_onnx_is_refused_plainly(self):
        frames = self.clip["frames"][:3]
        lite = list(dkd_tf.PoseTracker.from_preset(MOBILE).track(frames))
        keras_tracker = dkd_tf.PoseTracker.from_preset("mobile", backend="keras")
        keras_poses = list(keras_tracker.track(frames))
        self._check_poses(keras_poses, self.tracker, count=3)
        # The Keras model streams with its shipped export's tracker settings (the ones its card
        # was scored with), not the current defaults.
        shipped = manifest_lib.read(presets.member_dir(MOBILE, "dkd_tflite"))["tracker"]
        self.assertEqual(keras_tracker.manifest["tracker"], shipped)
        self.assertEqual(keras_tracker.reinit_threshold, shipped["reinit_threshold"])
        for a, b in zip(lite, keras_poses):
            self.assertEqual(a.keypoints.shape, b.keypoints.shape)
            self.assertLess(np.median(np.abs(a.keypoints[:, :2] - b.keypoints[:, :2])), 4.0)
        with self.assertRaisesRegex(presets.PresetError, "ships no onnx model.*export.onnx"):
            dkd_tf.PoseTracker.from_preset(MOBILE, backend="onnx")


class DKDFromPresetTest(tf.test.TestCase):

    def test_loads_the_members_keras_models(self):
        model = dkd_tf.DKD.from_preset(MOBILE)
        self.assertIsInstance(model, keras.Model)
        self.assertIsInstance(model, dkd_tf.DKD)
        self.assertEqual(model.encoder_backbone, "mobilenetv3_small")
        self.assertTrue(model.temporal)
        baseline = dkd_tf.DKD.from_preset("mobile", member="baseline")
        self.assertFalse(baseline.temporal)
        with self.assertRaisesRegex(presets.PresetError, "no Keras model"):
            dkd_tf.DKD.from_preset(MOBILE, member="dkd_tflite")

    def test_a_config_that_does_not_describe_its_model_is_refused(self):
        """Checksums written over a config.json edited to another input size: the preset
        verifies, and the loader every command uses still refuses it (DKD.from_preset once
        loaded model.keras without reading config.json)."""
        from dkd_tf.models import model_dir
        from tests.helpers import make_model_dir
        root = self.get_temp_dir()
        member = make_model_dir(os.path.join(root, "p", "dkd"))  # built for 64 px
        config_path = os.path.join(member, "config.json")
        with open(config_path) as f:
            config = json.load(f)
        config["input_size"] = 96
        with open(config_path, "w") as f:
            json.dump(config, f)
        presets.write("p", {"dkd": "keras model dir"}, {"produced_by": "a test"}, root=root)
        with self.assertRaisesRegex(model_dir.ModelDirError,
                                    r'p/dkd/config.json: "input_size" is 96 in config.json, but '
                                    r"model.keras was built for 64"):
            dkd_tf.DKD.from_preset(os.path.join(root, "p"))


class TamperedPresetTest(tf.test.TestCase):
    """A copy of a preset with one byte changed is refused by every entry point, by name (the
    presets folder pointed at the copy) and by path."""

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "presets")
        self.copy = os.path.join(self.root, "mobile")
        shutil.copytree(presets.preset_dir("mobile"), self.copy)

    def test_a_changed_file_is_refused(self):
        with mock.patch.object(presets, "PRESETS_DIR", self.root):
            self.assertEqual(presets.list(), [MOBILE])
            dkd_tf.PoseTracker.from_preset(MOBILE)  # the intact copy opens
        for rel, entry in (("dkd_tflite/stepper.tflite", dkd_tf.PoseTracker.from_preset),
                           ("dkd/model.keras", dkd_tf.DKD.from_preset)):
            path = os.path.join(self.copy, rel)
            with open(path, "rb") as f:
                original = f.read()
            with open(path, "wb") as f:
                f.write(original[:-1] + bytes([original[-1] ^ 1]))
            with mock.patch.object(presets, "PRESETS_DIR", self.root):
                with self.assertRaisesRegex(presets.PresetError, f"{rel}: sha256 differs"):
                    entry(MOBILE)
            with self.assertRaisesRegex(presets.PresetError, f"{rel}: sha256 differs"):
                entry(self.copy)  # a preset folder given by path
            with open(path, "wb") as f:
                f.write(original)
        os.remove(os.path.join(self.copy, "baseline", "config.json"))
        with self.assertRaisesRegex(presets.PresetError, "config.json: listed .* but missing"):
            dkd_tf.PoseTracker.from_preset(self.copy, backend="keras")


if __name__ == "__main__":
    tf.test.main()
