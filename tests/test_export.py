"""Export: TFLite in every quantization and ONNX, each with the multi-frame parity check; the
manifest; the verifier's failure modes (another model, a frozen runtime filter)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from dkd_tf.core import joints
from dkd_tf.data import synthetic
from dkd_tf.training.trainer import MODEL_FILE
from dkd_tf.serving import graphs, manifest as manifest_lib, runtimes
from dkd_tf.serving import verify
from dkd_tf.serving import onnx_export
from dkd_tf.serving import tracking_policy
from dkd_tf.serving import tflite_export
from tests.helpers import copy_export_with_manifest, make_model_dir

SIZE = 64
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _file_hashes(folder) -> dict:
    return {n: graphs.file_sha256(os.path.join(folder, n)) for n in os.listdir(folder)}


def _quiet(*_):
    pass


def _run(args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)


class ExportTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="dkd_export_test_")
        cls.data = os.path.join(cls.root, "data")
        synthetic.generate(cls.data, num_videos=3, num_frames=6, seed=0, height=96, width=128)
        cls.model_dir = make_model_dir(os.path.join(cls.root, "model"), seed=0,
                                       data_dir=cls.data)
        cls.export_dir = os.path.join(cls.root, "export")
        cls.fp32 = tflite_export.export_tflite(cls.model_dir, cls.export_dir, "none", log=_quiet)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_fp32_tflite_parity_over_30_frames(self):
        result = self.fp32["verification"]["tflite"]
        self.assertTrue(result["passed"], result["problems"])
        self.assertGreaterEqual(result["frames"], 30)
        self.assertLen(result["per_frame_heatmaps"], result["frames"])
        self.assertLess(result["max_abs_diff_heatmaps"], 1e-4)
        self.assertLess(result["max_abs_diff_state"], 1e-4)
        guard = result["state_sensitivity"]
        self.assertTrue(guard["passed"])
        self.assertGreater(guard["export_output_change"], 0.5 * guard["keras_output_change"])

    def test_tflite_files_have_named_signatures(self):
        from ai_edge_litert.interpreter import Interpreter
        sigs = {}
        for name in ("initializer", "stepper"):
            interp = Interpreter(model_path=os.path.join(self.export_dir, f"{name}.tflite"))
            sigs[name] = interp.get_signature_list()
        self.assertEqual(sigs["initializer"],
                         {"initialize": {"inputs": ["frame"], "outputs": ["heatmaps", "state"]}})
        self.assertEqual(sigs["stepper"],
                         {"step": {"inputs": ["frame", "state"], "outputs": ["heatmaps", "state"]}})

    def test_manifest_contents(self):
        m = manifest_lib.read(self.export_dir)
        penn = joints.get("penn_action")
        self.assertEqual(m["joints"]["names"], list(penn.names))
        self.assertEqual(m["joints"]["edges"], [list(e) for e in penn.edges])
        self.assertEqual(m["joints"]["flip_pairs"], [list(p) for p in penn.flip_pairs])
        self.assertEqual(m["input"]["height"], SIZE)
        self.assertEqual(m["input"]["width"], SIZE)
        self.assertEqual(m["input"]["color"], "RGB")
        self.assertEqual(m["input"]["range"], [0.0, 255.0])
        self.assertEqual(m["stride"], 8)
        self.assertEqual(m["heatmap_shape"], [1, 8, 8, 13])
        self.assertEqual(m["state_shape"], [1, 3, 3, 8])
        self.assertEqual(m["batch"], 1)
        self.assertIn("batch", m["batch_note"])
        self.assertEqual(m["decoding"], "argmax_log_parabola")
        self.assertIn("(x_cell + 0.5) * stride - 0.5", m["decoding_description"])
        self.assertEqual(m["model"]["variant"], "dkd")
        self.assertTrue(m["model"]["temporal"])
        self.assertEqual(m["model"]["sha256"],
                         graphs.file_sha256(os.path.join(self.model_dir, MODEL_FILE)))
        self.assertEqual(m["formats"]["tflite"]["quantization"], "none")
        self.assertEqual([r["name"] for r in m["formats"]["tflite"]["rewrites"]],
                         ["deconv_bn_as_conv2x2_depth_to_space"])
        self.assertEqual(m["graphs"]["stepper"]["inputs"], ["frame", "state"])
        for key in ("tensorflow", "keras", "python", "litert"):
            self.assertIn(key, m["versions"])
        for g in ("initializer", "stepper"):
            entry = m["formats"]["tflite"][g]
            self.assertEqual(entry["sha256"],
                             graphs.file_sha256(os.path.join(self.export_dir, entry["file"])))

    def test_quantized_tflite_exports_verify(self):
        fp32_bytes = self.fp32["formats"]["tflite"]["stepper"]["bytes"]
        for q in ("fp16", "int8"):
            with self.subTest(quantization=q):
                out = os.path.join(self.root, f"export_{q}")
                # int8 is judged by keypoint agreement, which an untrained model's flat
                # heatmaps cannot give (tests/test_export_int8.py covers the criterion): here
                # the rest of the check (finite outputs, the state guard) must pass.
                with mock.patch.object(verify, "KEYPOINT_AGREEMENT", 0.0):
                    m = tflite_export.export_tflite(self.model_dir, out, q,
                                             representative_data=self.data, num_samples=8,
                                             log=_quiet)
                self.assertEqual(m["formats"]["tflite"]["quantization"], q)
                result = m["verification"]["tflite"]
                self.assertTrue(result["passed"], result["problems"])
                self.assertEqual(result["precision"], q)
                self.assertEqual(result["criterion"], "keypoints" if q == "int8" else "heatmaps")
                self.assertGreaterEqual(result["frames"], 30)
                self.assertTrue(result["state_sensitivity"]["passed"])
                self.assertLess(m["formats"]["tflite"]["stepper"]["bytes"], fp32_bytes)
                runner = runtimes.TFLiteRunner(out)
                self.assertEqual(runner.quantization, q)

    def test_dynamic_quantization_cli(self):
        out = os.path.join(self.root, "export_dynamic")
        proc = _run(["export.tflite", f"--model_dir={self.model_dir}", f"--out_dir={out}",
                     "--quantize=dynamic", "--reinit_threshold=0.25",
                     "--finder=movenet_multipose", "--decoding=argmax_smoothed_log_parabola"])
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn("PASSED", proc.stdout)
        self.assertIn("stepper", proc.stdout)  # the per-frame table
        m = manifest_lib.read(out)
        self.assertEqual(m["formats"]["tflite"]["quantization"], "dynamic")
        self.assertTrue(m["verification"]["tflite"]["passed"])
        # The export's own re-initialization threshold and person finder, the rest the
        # tracker's defaults (no finder).
        self.assertEqual(m["tracker"], tracking_policy.to_json(reinit_threshold=0.25,
                                                               finder="movenet_multipose"))
        self.assertEqual(tracking_policy.finder_of(m), "movenet_multipose")
        self.assertEqual(self.fp32["tracker"], tracking_policy.to_json())
        self.assertEqual(tracking_policy.finder_of(self.fp32), "")
        # ... and its decoding rule, which every runtime (the app too) decodes by.
        self.assertEqual(m["decoding"], "argmax_smoothed_log_parabola")
        self.assertEqual(m["decoding_description"],
                         manifest_lib.DECODING_DESCRIPTIONS["argmax_smoothed_log_parabola"])
        self.assertIn("Gaussian of std 1.5 cells", m["decoding_description"])
        self.assertEqual(self.fp32["decoding"], manifest_lib.DECODING)

    def test_keras_backend_decodes_as_the_export_beside_it(self):
        # A preset's Keras model streams with its export's tracker entry and decoding rule (the
        # settings its card was scored with); without such an export, the defaults.
        root = os.path.join(self.root, "sibling")
        md = make_model_dir(os.path.join(root, "model"), seed=5)
        _, alone = runtimes.keras_manifest(md)
        self.assertEqual(alone["decoding"], manifest_lib.DECODING)
        rule = "argmax_smoothed_log_parabola"
        tflite_export.export_tflite(md, os.path.join(root, "export"), "none", log=_quiet,
                                    tracker={"reinit_threshold": 0.3}, decoding=rule)
        _, beside = runtimes.keras_manifest(md)
        self.assertEqual(beside["decoding"], rule)
        self.assertEqual(beside["decoding_description"], manifest_lib.DECODING_DESCRIPTIONS[rule])
        self.assertEqual(beside["tracker"]["reinit_threshold"], 0.3)
        # One manifest holds every format of a model: an ONNX export beside this TFLite one
        # takes its rule and tracker entry; asking for others is refused before any export work
        # (merging would drop the other export or change its settings).
        export = os.path.join(root, "export")
        with self.assertRaisesRegex(ValueError, "its tflite export of this model decodes by "
                                    f"{rule}, not argmax_log_parabola"):
            onnx_export.export_onnx(md, export, log=_quiet, decoding="argmax_log_parabola")
        both = onnx_export.export_onnx(md, export, log=_quiet)
        self.assertEqual(sorted(both["formats"]), ["onnx", "tflite"])
        self.assertEqual(both["decoding"], rule)
        self.assertEqual(both["tracker"], tracking_policy.to_json(reinit_threshold=0.3))
        before = _file_hashes(export)
        with self.assertRaisesRegex(ValueError, r"its onnx export of this model carries other "
                                    r"tracker settings .*reinit_threshold 0.3 / 0.1"):
            tflite_export.export_tflite(md, export, "none", log=_quiet,
                                        tracker={"reinit_threshold": 0.1}, decoding=rule)
        self.assertEqual(_file_hashes(export), before)
        with self.assertRaisesRegex(ValueError, "unknown decoding rule 'nearest'"):
            manifest_lib.build(*runtimes.keras_manifest(md)[:1], None, None, 64, "", md,
                               decoding="nearest")

    def test_int8_without_calibration_data_is_a_clear_error(self):
        other = make_model_dir(os.path.join(self.root, "model_nodata"), seed=0)
        with self.assertRaisesRegex(ValueError, "representative_data"):
            tflite_export.export_tflite(other, os.path.join(self.root, "x"), "int8", log=_quiet)

    def test_onnx_export_joins_the_manifest(self):
        out = os.path.join(self.root, "export_both")
        shutil.copytree(self.export_dir, out)
        m = onnx_export.export_onnx(self.model_dir, out, log=_quiet)
        self.assertEqual(sorted(m["formats"]), ["onnx", "tflite"])
        self.assertEqual(m["formats"]["onnx"]["opset"], 17)
        self.assertEqual(m["formats"]["onnx"]["stepper"]["outputs"],
                         {"heatmaps": "heatmaps", "state": "next_state"})
        result = m["verification"]["onnx"]
        self.assertTrue(result["passed"], result["problems"])
        self.assertLess(result["max_abs_diff_heatmaps"], 1e-4)
        self.assertLess(result["max_abs_diff_state"], 1e-4)
        self.assertTrue(m["verification"]["tflite"]["passed"])  # kept from the TFLite export
        import onnx
        for g in ("initializer", "stepper"):
            proto = onnx.load(os.path.join(out, f"{g}.onnx"))
            self.assertEqual(proto.opset_import[0].version, 17)
            self.assertEqual([i.name for i in proto.graph.input],
                             ["frame"] if g == "initializer" else ["frame", "state"])
        # Both formats stream the same clip the same way.
        results = verify.verify_export(out, log=_quiet)
        self.assertEqual(sorted(results), ["onnx", "tflite"])

    def test_verify_cli_fails_against_another_model(self):
        other = make_model_dir(os.path.join(self.root, "model_other"), seed=1)
        proc = _run(["export.verify", f"--export_dir={self.export_dir}", f"--model_dir={other}"])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("failed its check against the Keras model", proc.stderr)
        self.assertIn("FAILED", proc.stdout)

    def test_frozen_runtime_filter_is_detected(self):
        reference = runtimes.KerasRunner.from_dir(self.export_dir)
        export_dir = self.export_dir

        class FrozenFilter:
            """Mimics the TFLite pitfall: the first state's filter is reused forever."""
            def __init__(self):
                self.inner = runtimes.TFLiteRunner(export_dir)
                self.first = None

            def step(self, frame, state):
                if self.first is None:
                    self.first = state
                return self.inner.step(frame, self.first)

        clip = verify.load_clip(SIZE, 3)
        _, states = verify.stream_clip(reference, clip.frames)
        other = np.roll(states[-1][::-1, ::-1], 1, axis=-1)[None]
        good = verify.check_state_sensitivity(lambda: runtimes.TFLiteRunner(self.export_dir),
                                              reference, clip.frames[1][None], states[0][None],
                                              np.ascontiguousarray(other), 1e-4)
        self.assertTrue(good["passed"], good["problems"])
        bad = verify.check_state_sensitivity(FrozenFilter, reference, clip.frames[1][None],
                                             states[0][None], np.ascontiguousarray(other), 1e-4)
        self.assertFalse(bad["passed"])
        self.assertIn("frozen", " ".join(bad["problems"]))

    def test_parity_clip_from_a_labelled_data_dir_is_cropped_around_its_boxes(self):
        data = os.path.join(self.root, "labelled_clip")
        synthetic.generate(data, num_videos=2, num_frames=4, seed=5, height=72, width=96,
                           test_fraction=0.5)
        clip = verify.load_clip(SIZE, 3, video=data)
        self.assertEqual(clip.frames.shape, (3, SIZE, SIZE, 3))
        self.assertIn("labelled-box crops", clip.description)
        with self.assertRaisesRegex(verify.VerificationError, "no video with 9 frames"):
            verify.load_clip(SIZE, 9, video=data)

    def test_runner_rejects_a_manifest_that_does_not_match(self):
        bad_dir = os.path.join(self.root, "export_bad_manifest")
        path = copy_export_with_manifest(self.export_dir, bad_dir, state_shape=[1, 5, 5, 8])
        with open(path) as f:
            m = json.load(f)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "does not match"):
            runtimes.TFLiteRunner(bad_dir)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "does not match"):
            runtimes.KerasRunner.from_dir(bad_dir)
        # A graph file replaced after the export.
        m["state_shape"] = [1, 3, 3, 8]
        with open(path, "w") as f:
            json.dump(manifest_lib.seal(m), f)  # a consistent manifest: only the file differs
        shutil.copy(os.path.join(bad_dir, "initializer.tflite"),
                    os.path.join(bad_dir, "stepper.tflite"))
        with self.assertRaisesRegex(manifest_lib.ManifestError, "checksum"):
            runtimes.TFLiteRunner(bad_dir)

    def test_manifest_validation_errors(self):
        good = manifest_lib.read(self.export_dir)
        cases = {
            "decoding": ("decoding", "softargmax"),
            "state_shape": ("state_shape", [1, 3, 3]),
            "format_version": ("format_version", 99),
            "batch": ("batch", 4),
        }
        for name, (key, value) in cases.items():
            with self.subTest(field=name):
                m = json.loads(json.dumps(good))
                m[key] = value
                with self.assertRaisesRegex(manifest_lib.ManifestError, key):
                    manifest_lib.validate(m)
        m = json.loads(json.dumps(good))
        del m["joints"]
        with self.assertRaisesRegex(manifest_lib.ManifestError, "joints"):
            manifest_lib.validate(m)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "no manifest"):
            manifest_lib.read(self.root)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "no onnx graphs"):
            runtimes.OnnxRunner(self.export_dir)

    def _copy_of_export(self, name):
        """A copy of the verified export under root/name, and its files' hashes."""
        path = os.path.join(self.root, name)
        shutil.copytree(self.export_dir, path)
        return path, _file_hashes(path)

    def test_failed_export_leaves_nothing_a_runner_accepts(self):
        """Issue 10: a failed check (e.g. int8 on the demo model, 0.365 > 0.35) must not leave
        graphs and a manifest behind that a runner then uses."""
        failed = {"passed": False, "problems": ["heatmaps differ by 0.365, tolerance 0.35"]}
        fresh = os.path.join(self.root, "export_failed")
        kept, before = self._copy_of_export("export_kept")
        with mock.patch.object(verify, "verify_format", return_value=failed):
            for out in (fresh, kept):
                with self.subTest(out=out):
                    with self.assertRaisesRegex(verify.VerificationError, "nothing was written"):
                        tflite_export.export_tflite(self.model_dir, out, "dynamic", log=_quiet)
        self.assertFalse(os.path.exists(fresh))
        self.assertEqual(before, _file_hashes(kept))
        runtimes.TFLiteRunner(kept)  # the verified export that was there still runs
        self.assertEqual([n for n in os.listdir(self.root) if ".staging-" in n], [])

    def test_keep_unverified_writes_a_failed_export_that_runners_refuse(self):
        """--keep_unverified: the failed export is written with its failure in the manifest (to
        measure a quantization's cost); runners take it only with allow_unverified, and it is
        never written over an export already there."""
        failed = {"passed": False, "problems": ["keypoints within 1 px on 47.7%, need 95%"]}
        out = os.path.join(self.root, "export_kept_unverified")
        kept, before = self._copy_of_export("export_kept_verified")
        with mock.patch.object(verify, "verify_format", return_value=failed):
            with self.assertRaisesRegex(verify.VerificationError, "written anyway"):
                tflite_export.export_tflite(self.model_dir, out, "dynamic", log=_quiet,
                                            keep_unverified=True)
            with self.assertRaisesRegex(verify.VerificationError,
                                        "nothing was written.*does not write over"):
                tflite_export.export_tflite(self.model_dir, kept, "dynamic", log=_quiet,
                                            keep_unverified=True)
        self.assertEqual(manifest_lib.read(out)["verification"]["tflite"], failed)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "not verified"):
            runtimes.TFLiteRunner(out)
        runner = runtimes.TFLiteRunner(out, allow_unverified=True)
        heatmaps, _ = runner.initialize(np.zeros((SIZE, SIZE, 3), np.float32))
        self.assertTrue(np.all(np.isfinite(heatmaps)))
        self.assertEqual(before, _file_hashes(kept))
        self.assertEqual([n for n in os.listdir(self.root) if ".staging-" in n], [])

    def test_the_video_preset_scores_its_failed_int8_export_and_says_so(self):
        """make_video_preset's int8 row: a failed int8 export is kept (unverified) for scoring
        and its check's result recorded and printed in the card; any other failed export
        still stops the build."""
        from dkd_tf.experiments import video_preset
        failed = {"passed": False, "problems": ["keypoints within 1 px on 47.7%, need 95%"]}
        said = []
        out = os.path.join(self.root, "preset_int8")
        with mock.patch.object(verify, "verify_format", return_value=failed):
            self.assertEqual(video_preset.export_member(
                self.model_dir, out, "int8", None, said.append, calibration_data=self.data,
                keep_unverified=True), out)
            with self.assertRaisesRegex(verify.VerificationError, "nothing was written"):
                video_preset.export_member(self.model_dir, os.path.join(self.root, "p16"),
                                           "fp16", None, said.append)
        self.assertIn(f"--representative_data {self.data} --keep_unverified", said[0])
        self.assertIn("kept unverified, to be scored", said[1])
        # preset.json names no folder of this machine and holds no per-video table.
        self.assertEqual(video_preset.without_paths(
            {"rows": {"DKD int8": {"runner": "TFLite (/tmp/x)", "per_video": {"0001": {}}}}}),
            {"rows": {"DKD int8": {"runner": "TFLite"}}})
        checks = video_preset.unverified_checks({("dkd", "tflite_int8"): out,
                                                 ("dkd", "tflite"): self.export_dir})
        self.assertEqual(checks, {"DKD int8": failed})
        card = video_preset.model_card({
            "name": "p", "input_size": SIZE, "tests": [], "costs": {}, "produced_by": "cmd",
            "trained_by": ["train"], "machine": "m", "commit": "c", "train_seconds": {},
            "wall_minutes": 1.0, "unverified": checks})
        self.assertIn("`DKD int8` (full int8, not shipped) fails the export's check against "
                      "Keras (keypoints within 1 px on 47.7%, need 95%)", card)

    def test_runners_refuse_unverified_or_checksumless_manifests(self):
        from dkd_tf.tracking import video_stream
        from dkd_tf.data.frames import save_frame
        frames = os.path.join(self.root, "two_frames")
        for i in range(2):
            save_frame(os.path.join(frames, f"{i:06d}.png"), np.full((48, 64, 3), 90, np.uint8))
        cases = {"failed": {"tflite": {"passed": False, "problems": ["state differs"]}},
                 "pending": {"tflite": {"passed": False, "status": "pending"}},
                 "missing": {}}
        for name, verification in cases.items():
            with self.subTest(verification=name):
                d = os.path.join(self.root, f"export_unverified_{name}")
                copy_export_with_manifest(self.export_dir, d, verification=verification)
                with self.assertRaisesRegex(manifest_lib.ManifestError, "not verified"):
                    runtimes.TFLiteRunner(d)
                with self.assertRaisesRegex(manifest_lib.ManifestError, "--allow_unverified"):
                    video_stream.stream_video(d, frames, "tflite", progress=False, log=_quiet)
                out = video_stream.stream_video(d, frames, "tflite", progress=False, log=_quiet,
                                          allow_unverified=True)
                self.assertLen(out["frames"], 2)
        # A manifest whose checksums were removed is not trusted, verified or not.
        m = manifest_lib.read(self.export_dir)
        for graph in ("initializer", "stepper"):
            with self.subTest(removed=graph):
                formats = json.loads(json.dumps(m["formats"]))
                del formats["tflite"][graph]["sha256"]
                d = os.path.join(self.root, f"export_no_sha_{graph}")
                copy_export_with_manifest(self.export_dir, d, formats=formats)
                for allow in (False, True):
                    with self.assertRaisesRegex(manifest_lib.ManifestError, "sha256"):
                        runtimes.open_runner("tflite", d, allow_unverified=allow)

    def test_cli_errors_are_one_line(self):
        missing = os.path.join(self.root, "no_such_model")
        args = ["export.tflite", f"--model_dir={missing}", f"--out_dir={self.root}/x"]
        proc = _run(args)
        self.assertEqual(proc.returncode, 1)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertIn(f"error: {missing}: model directory does not exist", proc.stderr)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", DKD_TF_TRACEBACK="1")
        proc = subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("Traceback", proc.stderr)
        proc = _run(["export.tflite", f"--model_dir={self.model_dir}", "--out_dir=x",
                     "--input_size=100"])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--input_size=100", proc.stderr)
        self.assertIn("multiple of", proc.stderr)

    def test_w_lstm_state_follows_the_input_size(self):
        # The ConvLSTM state is [h, w, 2C] at heatmap resolution: graphs, manifest and runner
        # take it from model.state_shape_for(input size).
        md = make_model_dir(os.path.join(self.root, "model_lstm"), seed=3, variant="w_lstm")
        model, manifest = runtimes.keras_manifest(md)
        self.assertEqual(manifest["state_shape"], [1, 8, 8, 16])
        runner = runtimes.KerasRunner(model, manifest, md)
        self.assertEqual(graphs.build_graphs(model, 96).state_shape, (1, 12, 12, 16))
        frame = np.zeros((1, SIZE, SIZE, 3), np.float32)
        _, state = runner.initialize(frame)
        heatmaps, state = runner.step(frame + 50.0, state)
        self.assertEqual(heatmaps.shape, (1, 8, 8, 13))
        self.assertEqual(state.shape, (1, 8, 8, 16))

    def test_single_frame_variant_exports_with_a_zero_state(self):
        md = make_model_dir(os.path.join(self.root, "model_baseline"), seed=2, variant="baseline")
        out = os.path.join(self.root, "export_baseline")
        m = tflite_export.export_tflite(md, out, "none", log=_quiet)
        self.assertEqual(m["state_shape"], [1, 1, 1, 1])
        self.assertFalse(m["model"]["temporal"])
        self.assertTrue(m["verification"]["tflite"]["passed"])

    def test_mobilenetv3_model_exports_to_tflite_and_onnx(self):
        """The on-device encoder family (hard-swish, squeeze-excite) through both converters,
        with the full parity and state checks. As in the shipped mobile preset, F is the
        MobileNetV3 and P a ResNet (here the tiny one): the stepper, the graph a phone runs on
        every frame, holds the MobileNetV3."""
        mobile = dict(initializer_backbone="resnet10", encoder_backbone="mobilenetv3_small")
        md = make_model_dir(os.path.join(self.root, "model_mobile"), seed=4, calibrate=True,
                            **mobile)
        out = os.path.join(self.root, "export_mobile")
        m = tflite_export.export_tflite(md, out, "none", log=_quiet)
        m = onnx_export.export_onnx(md, out, log=_quiet)
        self.assertEqual(m["model"]["encoder_backbone"], "mobilenetv3_small")
        for fmt in ("tflite", "onnx"):
            check = m["verification"][fmt]["state_sensitivity"]
            self.assertTrue(m["verification"][fmt]["passed"], fmt)
            self.assertGreater(check["keras_output_change"], 1e-3, fmt)

    def test_model_whose_output_ignores_the_state_cannot_be_verified(self):
        """Kernels that are zero whatever the state (Phi's last convolution zeroed; its BN and
        ReLU keep a zero) give a stepper whose output ignores the state: such a model cannot
        show that the export takes each new filter, so it is refused. Untrained MobileNetV3s
        with their initial BatchNorm statistics do this by themselves."""
        def zero_last_distillator_conv(model):
            conv = [l for l in model.distillator.layers
                    if isinstance(l, keras.layers.Conv2D)][-1]
            conv.kernel.assign(tf.zeros_like(conv.kernel))

        md = make_model_dir(os.path.join(self.root, "model_state_blind"), seed=4,
                            edit=zero_last_distillator_conv)
        with self.assertRaisesRegex(verify.VerificationError,
                                    "output does not depend on the state"):
            tflite_export.export_tflite(md, os.path.join(self.root, "export_state_blind"), "none",
                                        log=_quiet)


if __name__ == "__main__":
    tf.test.main()
