"""The presets room: a preset is used only when its files are exactly the checksummed ones."""
import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from dkd_tf import presets


def _make_preset(root, name="p"):
    path = os.path.join(root, name)
    os.makedirs(os.path.join(path, "dkd"))
    with open(os.path.join(path, "dkd", "model.keras"), "wb") as f:
        f.write(b"weights")
    with open(os.path.join(path, "dkd", "config.json"), "w") as f:
        f.write("{}")
    presets.write(name, {"dkd": "keras model dir"}, {"produced_by": "a test"}, root=root)
    return path


class PresetsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.get_temp_dir()
        self._orig = presets.PRESETS_DIR
        presets.PRESETS_DIR = self.root
        self.path = _make_preset(self.root)

    def tearDown(self):
        presets.PRESETS_DIR = self._orig
        super().tearDown()

    def test_written_preset_verifies_and_lists_checksums(self):
        self.assertEqual(presets.available(), ["p"])
        meta = presets.verify("p")
        self.assertEqual(sorted(meta["files"]), ["dkd/config.json", "dkd/model.keras"])
        self.assertEqual(meta["produced_by"], "a test")
        self.assertEqual(presets.member_dir("p", "dkd"), os.path.join(self.path, "dkd"))

    def test_changed_missing_or_extra_files_are_refused(self):
        model = os.path.join(self.path, "dkd", "model.keras")
        with open(model, "ab") as f:
            f.write(b"!")
        with self.assertRaisesRegex(presets.PresetError, "model.keras: sha256 differs"):
            presets.member_dir("p", "dkd")
        os.remove(model)
        with self.assertRaisesRegex(presets.PresetError, "model.keras: listed .* but missing"):
            presets.verify("p")
        _make_preset(self.root, "q")
        with open(os.path.join(self.root, "q", "dkd", "stale.tflite"), "wb") as f:
            f.write(b"x")
        with self.assertRaisesRegex(presets.PresetError, "stale.tflite: not listed"):
            presets.verify("q")

    def test_a_failed_build_leaves_no_staging_folder(self):
        root = os.path.join(self.root, "built")
        os.makedirs(root + ".staging")  # a stale one from a killed build
        with open(os.path.join(root + ".staging", "stale"), "w") as f:
            f.write("x")
        with self.assertRaisesRegex(RuntimeError, "export failed"):
            with presets.staged(root) as staging:
                self.assertEqual(os.listdir(staging) if os.path.isdir(staging) else [], [])
                os.makedirs(os.path.join(staging, "dkd"))
                raise RuntimeError("export failed")
        self.assertFalse(os.path.exists(root + ".staging"))
        self.assertFalse(os.path.exists(root))

    def test_unknown_names_and_stripped_checksums_are_refused(self):
        with self.assertRaisesRegex(presets.PresetError, "no preset named 'nope'"):
            presets.verify("nope")
        with self.assertRaisesRegex(presets.PresetError, "no member 'export'"):
            presets.member_dir("p", "export")
        meta_path = os.path.join(self.path, presets.PRESET_FILE)
        with open(meta_path) as f:
            meta = json.load(f)
        del meta["files"]
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        with self.assertRaisesRegex(presets.PresetError, "lists no files"):
            presets.verify("p")
        meta["files"], meta["format_version"] = {}, 99
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        with self.assertRaisesRegex(presets.PresetError, "preset format 99"):
            presets.verify("p")


class ReexportTest(tf.test.TestCase):
    """dkd_tf.experiments.preset_reexport remakes a preset's export, refusing one that disagrees with the
    recorded Keras PCK, and records what it replaced."""

    def setUp(self):
        super().setUp()
        from dkd_tf.evaluation import protocol
        from dkd_tf.data import datasets, penn_action
        from dkd_tf.data import synthetic
        from dkd_tf.serving import manifest as manifest_lib
        from dkd_tf.serving import tflite_export
        from tests.helpers import make_model_dir
        self.root = self.get_temp_dir()
        self._orig = presets.PRESETS_DIR
        presets.PRESETS_DIR = os.path.join(self.root, "presets")
        self.path = os.path.join(presets.PRESETS_DIR, "p")
        self.data = os.path.join(self.root, "data")
        synthetic.generate(self.data, num_videos=2, num_frames=5, seed=3, height=96, width=128,
                           test_fraction=1.0)
        model_dir = make_model_dir(os.path.join(self.path, "dkd"), calibrate=True)
        acc, _ = protocol.evaluate_records(
            protocol.load_model(model_dir), penn_action.read_split(self.data, "test"), 64,
            datasets.joint_set_of("synthetic"))
        self.keras_pck = acc.result()["mean"]
        export = os.path.join(self.path, "dkd_tflite")
        tflite_export.export_tflite(model_dir, export, "none", log=lambda *_: None)
        # An export from before the tracker gained a constant: its manifest lacks the key.
        manifest = manifest_lib.read(export)
        del manifest["tracker"]["follow_smoothing"]
        del manifest[manifest_lib.CONTENT_KEY]  # nor the checksum of its content (newer still)
        with open(manifest_lib.manifest_path(export), "w") as f:
            json.dump(manifest, f)
        self.info = {"produced_by": "a test", "data": {"dataset": "synthetic", "videos": 2,
                                                       "frames": 5, "seed": 3},
                     "results": {"dkd": {"person": {"mean": self.keras_pck}},
                                 "dkd_follow_crop_pck": 1.0, "dkd_tflite_gt_crop_pck": 2.0,
                                 "dkd_tflite_quantize": "none"}}

    def tearDown(self):
        presets.PRESETS_DIR = self._orig
        super().tearDown()

    def _write(self, keras_pck):
        info = json.loads(json.dumps(self.info))
        info["results"]["dkd"]["person"]["mean"] = keras_pck
        presets.write("p", {"dkd": "keras model dir", "dkd_tflite": "export"}, info)

    def test_reexport_refreshes_the_export_and_records_what_it_replaced(self):
        from dkd_tf.serving import tracking_policy
        from dkd_tf.experiments import preset_reexport
        from dkd_tf.experiments import demo_export
        from dkd_tf.serving import manifest as manifest_lib
        out = os.path.join(self.root, "out")
        self._write(self.keras_pck + 50.0)  # a record this model cannot reproduce
        before = presets.verify("p")["files"]
        with self.assertRaises(demo_export.PCKMismatchError):
            preset_reexport.reexport("p", self.data, out, log=lambda *_: None)
        self.assertEqual(presets.verify("p")["files"], before)  # the old export stays
        self.assertFalse(os.path.exists(self.path + ".dkd_tflite.staging"))

        self._write(self.keras_pck)
        meta = preset_reexport.reexport("p", self.data, out, log=lambda *_: None)
        tracker = manifest_lib.read(os.path.join(self.path, "dkd_tflite"))["tracker"]
        self.assertEqual(tracker["follow_smoothing"], tracking_policy.DEFAULT_FOLLOW_SMOOTHING)
        results = meta["results"]
        self.assertAlmostEqual(results["dkd_tflite_gt_crop_pck"], self.keras_pck, delta=0.5)
        self.assertNotEqual(results["dkd_follow_crop_pck"], 1.0)
        self.assertEqual(results["dkd"]["person"]["mean"], self.keras_pck)
        self.assertEqual(meta["produced_by"], "a test")
        (entry,) = meta["exports_refreshed"]
        self.assertEqual(entry["replaced"], {"dkd_follow_crop_pck": 1.0,
                                             "dkd_tflite_gt_crop_pck": 2.0})
        self.assertIn("python -m dkd_tf.reexport_preset --preset p", entry["command"])
        self.assertNotEqual(meta["files"]["dkd_tflite/manifest.json"],
                            before["dkd_tflite/manifest.json"])
        presets.verify("p")


class PresetBuildersCheckRunsFirstTest(tf.test.TestCase):
    """A builder given a run that does not exist stops at once, naming it, before the minutes of
    exporting and scoring the other run (it once exported P, then failed on the Baseline's
    missing config.json)."""

    def test_a_missing_run_is_refused_before_any_work(self):
        from dkd_tf.experiments import singleframe_preset, video_preset
        from tests.helpers import make_model_dir
        root = self.get_temp_dir()
        good = make_model_dir(os.path.join(root, "good"))
        missing = os.path.join(root, "missing")
        calls = []
        builders = [
            lambda: singleframe_preset.ship(good, missing, os.path.join(root, "data"),
                                            log=calls.append, root_dir=root),
            lambda: video_preset.ship(good, missing, [], [], "", log=calls.append,
                                      root_dir=root),
        ]
        for build in builders:
            with self.subTest(build=build):
                with self.assertRaisesRegex(FileNotFoundError,
                                            "missing: model directory does not exist"):
                    build()
        self.assertEqual(calls, [])
        self.assertEqual(sorted(os.listdir(root)), ["good"])  # no staging folder left

    def test_the_int8_calibration_clips_are_checked_before_any_work(self):
        """The video preset's int8 row calibrates on the DKD run's training data unless told
        otherwise: a rescore where those clips are absent stops at once, naming them."""
        from dkd_tf.experiments import video_preset
        root = self.get_temp_dir()
        dkd = presets.member_dir(video_preset.NAME, "dkd")
        self.assertEqual(video_preset.calibration_dir(dkd, "elsewhere"), "elsewhere")
        with open(os.path.join(dkd, "config.json")) as f:
            self.assertEqual(video_preset.calibration_dir(dkd, None), json.load(f)["data_dir"])
        missing = os.path.join(root, "no_clips")
        calls = []
        with self.assertRaisesRegex(ValueError, "no_clips.*labels directory is missing"):
            video_preset.rescore(video_preset.NAME, [], [], "", log=calls.append,
                                 calibration_data=missing)
        self.assertEqual(calls, [])


class TrainingRecordTest(tf.test.TestCase):
    """A preset names the flagfile that trained each member (the one whose --model_dir is the
    run), and a member kept from a shipped preset keeps what that preset recorded."""

    def test_the_card_says_which_clips_each_member_trained_on(self):
        from dkd_tf.data import penn_action
        from dkd_tf.experiments import video_preset
        root = self.get_temp_dir()
        plain, crossed = os.path.join(root, "plain"), os.path.join(root, "crossed")
        frames = [np.zeros((8, 8, 3), np.uint8)] * 2
        joints = np.zeros((2, 13, 2))
        for vid, (d, extra) in enumerate(((plain, None), (crossed, {"passer": "lsp_0002"}),
                                          (crossed, None)), start=1):
            penn_action.write_video(d, vid, frames, joints, np.ones((2, 13)),
                                    np.zeros((2, 4)), True, extra=extra)
        data = {"dkd": video_preset.training_data(crossed),
                "baseline": video_preset.training_data(plain)}
        self.assertEqual(data["dkd"], {"data_dir": crossed, "clips": 2, "passer_clips": 1})
        self.assertEqual(data["baseline"]["passer_clips"], 0)
        self.assertIsNone(video_preset.training_data(os.path.join(root, "gone"))["clips"])
        card = "\n".join(video_preset._baseline_lines(data) + video_preset._passer_lines(data))
        self.assertIn(f"trained on `{plain}`, DKD on `{crossed}`", card)
        self.assertIn(f"dkd's clips (`{crossed}`, 2): 1 of the photo clips", card)
        same = {"dkd": data["baseline"], "baseline": data["baseline"]}
        self.assertIn("trained on the same clips", video_preset._baseline_lines(same)[0])
        self.assertEqual(video_preset._passer_lines(same), [])
        self.assertIn("trained on the same clips", video_preset._baseline_lines(None)[0])
        # The card names the tracker settings its rows streamed with; older cards had none.
        scored = {"tests": [{"comparison": {"follow_velocity": 1.0, "motion_prior": 0.05}}]}
        self.assertIn("(follow_velocity 1)", video_preset._tracker_sentence(scored))
        self.assertIn("(motion_prior 0.05)", video_preset._tracker_sentence(scored))
        self.assertEqual(video_preset._tracker_sentence({"tests": [{"comparison": {}}]}), "")
        off = {"tests": [{"comparison": {"follow_velocity": 1.0, "motion_prior": 0.0}}]}
        self.assertIn("heatmap's maximum (motion_prior 0)", video_preset._tracker_sentence(off))
        # Both networks on the same passer clips: one line for them, not one each.
        both = {"dkd": data["dkd"], "baseline": data["dkd"]}
        self.assertEqual(video_preset._passer_lines(both),
                         [video_preset._passer_lines(data)[0].replace("dkd's", "both networks'")])

    def test_the_card_is_rewritten_from_preset_json_alone(self):
        """make_video_preset --card_only: the card of the verified preset.json, nothing scored."""
        from unittest import mock
        from dkd_tf.experiments import video_preset
        with open(os.path.join(presets.preset_dir(video_preset.NAME), presets.PRESET_FILE)) as f:
            meta = json.load(f)
        root = self.get_temp_dir()
        with mock.patch.object(video_preset.presets, "verify", return_value=meta) as verify, \
                mock.patch.object(video_preset.presets, "preset_dir", return_value=root):
            path = video_preset.rewrite_card(video_preset.NAME)
        verify.assert_called_once_with(video_preset.NAME)
        self.assertEqual(path, os.path.join(root, presets.CARD_FILE))
        with open(path) as f:
            card = f.read()
        self.assertEqual(card, video_preset.model_card(
            {k: v for k, v in meta.items() if k not in ("format_version", "files")}))
        self.assertIn(meta["name"], card)

    def test_flagfiles_are_found_by_their_model_dir_and_kept_members_keep_their_record(self):
        from dkd_tf.experiments import singleframe_preset
        for run, flagfile in (("runs/lsp_initializer_second_cycle",
                               "lsp_initializer_second_cycle.flags"),
                              ("./runs/real_dkd", "real_dkd.flags"),
                              ("runs/real_baseline/", "real_baseline.flags")):
            self.assertEqual(singleframe_preset.train_command(run),
                             f"python -m dkd_tf.train --flagfile configs/{flagfile}")
        self.assertIn("no flagfile in configs/ writes runs/elsewhere",
                      singleframe_preset.train_command("runs/elsewhere"))
        meta = presets.verify(singleframe_preset.NAME)
        kept = os.path.join(presets.preset_dir(singleframe_preset.NAME), "baseline")
        self.assertEqual(singleframe_preset.run_record(kept, "baseline"),
                         (meta["trained_by"][1], meta["train_seconds"]["baseline"]))


class KeptMemberTest(tf.test.TestCase):
    """Re-shipping one network of a preset keeps the other, and its verified export, byte for
    byte (re-saving and re-exporting it moved its TFLite outputs by about 1e-4); anything but
    exactly that member and a verified export of it at the shipped precision is made afresh, and
    an export whose files differ from preset.json is refused, not copied into the new preset."""

    def _preset(self, unsealed=False, **changes):
        """A copy of the shipped movenet_lsp Baseline and its export as preset 'p', with the
        export's manifest changed as asked ('a.b.c': value), checksummed afresh."""
        from dkd_tf.experiments import singleframe_preset
        shipped = presets.preset_dir(singleframe_preset.NAME)
        path = os.path.join(tempfile.mkdtemp(dir=self.get_temp_dir()), "p")
        for member in ("baseline", "baseline_tflite"):
            shutil.copytree(os.path.join(shipped, member), os.path.join(path, member))
        from dkd_tf.serving import manifest as manifest_lib
        export = os.path.join(path, "baseline_tflite")
        with open(manifest_lib.manifest_path(export)) as f:
            manifest = json.load(f)
        for key, value in changes.items():
            *parents, field = key.split(".")
            entry = manifest
            for name in parents:
                entry = entry[name]
            entry[field] = value
        manifest_lib.write(export, manifest)  # sealed with its new content checksum
        if unsealed:  # as exports wrote manifests before they sealed them
            with open(manifest_lib.manifest_path(export)) as f:
                manifest = json.load(f)
            del manifest["content_sha256"]
            with open(manifest_lib.manifest_path(export), "w") as f:
                json.dump(manifest, f, indent=2)
        presets.write("p", {"baseline": "keras model dir", "baseline_tflite": "its export"},
                      {"produced_by": "a test"}, root=os.path.dirname(path))
        return path

    def test_only_a_verified_export_of_that_very_member_is_kept(self):
        from dkd_tf.experiments import singleframe_preset
        kept = singleframe_preset.kept_export
        path = self._preset()
        member = os.path.join(path, "baseline")
        self.assertEqual(kept(member, "baseline"), os.path.join(path, "baseline_tflite"))
        self.assertIsNone(kept(member, "initializer"))  # shipped as another member
        for change in ({"verification.tflite": {"passed": False}},
                       {"verification.tflite": {"status": "pending"}},
                       {"formats.tflite.quantization": "int8"},
                       {"model.sha256": "0" * 64},
                       {"model.model_dir": "../initializer"}):
            with self.subTest(change=change):
                path = self._preset(**change)
                self.assertIsNone(kept(os.path.join(path, "baseline"), "baseline"))
        from tests.helpers import make_model_dir
        run = make_model_dir(os.path.join(tempfile.mkdtemp(dir=self.get_temp_dir()), "baseline"))
        self.assertIsNone(kept(run, "baseline"))  # a training run: saved and exported afresh

    def test_staging_keeps_a_shipped_member_byte_for_byte_and_saves_a_run_afresh(self):
        from dkd_tf.experiments import singleframe_preset
        from tests.helpers import make_model_dir
        path = self._preset()
        staging = tempfile.mkdtemp(dir=self.get_temp_dir())
        said = []
        model, cfg, kept = singleframe_preset.stage_member(os.path.join(path, "baseline"),
                                                           "baseline", staging, said.append)
        self.assertEqual(kept, os.path.join(staging, "baseline_tflite"))
        self.assertIn("keeping", said[0])
        for rel in ("baseline/model.keras", "baseline/config.json",
                    "baseline_tflite/manifest.json", "baseline_tflite/stepper.tflite"):
            self.assertEqual(presets.sha256_of(os.path.join(staging, rel)),
                             presets.sha256_of(os.path.join(path, rel)), msg=rel)
        self.assertEqual(cfg.variant, "baseline")
        self.assertIsNotNone(model)
        # An export whose manifest predates sealing is sealed in the copy (outside its preset,
        # its own checksum guards it), its graphs byte for byte.
        from dkd_tf.serving import manifest as manifest_lib
        old = self._preset(unsealed=True)
        staging = tempfile.mkdtemp(dir=self.get_temp_dir())
        _, _, kept = singleframe_preset.stage_member(os.path.join(old, "baseline"), "baseline",
                                                     staging, said.append)
        self.assertIn("content_sha256", manifest_lib.read(kept))
        self.assertEqual(presets.sha256_of(os.path.join(kept, "stepper.tflite")),
                         presets.sha256_of(os.path.join(old, "baseline_tflite",
                                                        "stepper.tflite")))
        run = make_model_dir(os.path.join(tempfile.mkdtemp(dir=self.get_temp_dir()), "dkd"))
        other = tempfile.mkdtemp(dir=self.get_temp_dir())
        _, _, kept = singleframe_preset.stage_member(run, "dkd", other, said.append)
        self.assertIsNone(kept)  # a training run: saved afresh, exported by the caller
        self.assertTrue(os.path.isfile(os.path.join(other, "dkd", "model.keras")))
        self.assertFalse(os.path.exists(os.path.join(other, "dkd_tflite")))

    def test_a_changed_export_is_refused(self):
        from dkd_tf.experiments import singleframe_preset
        path = self._preset()
        with open(os.path.join(path, "baseline_tflite", "stepper.tflite"), "ab") as f:
            f.write(b"\0")
        with self.assertRaisesRegex(presets.PresetError, "stepper.tflite"):
            singleframe_preset.kept_export(os.path.join(path, "baseline"), "baseline")

    def test_the_shipped_baseline_would_be_kept(self):
        from dkd_tf.experiments import singleframe_preset
        root = presets.preset_dir(singleframe_preset.NAME)
        self.assertEqual(singleframe_preset.kept_export(os.path.join(root, "baseline"),
                                                        "baseline"),
                         os.path.join(root, "baseline_tflite"))
