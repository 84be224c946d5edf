"""Issue 31, the rest: nothing tampered with runs, and bad input is named at once.

- Every command that uses a preset member or an export by path verifies it first: a member
  against its preset.json, an export's manifest against the checksum of its own content.
- No command writes into a preset.
- config.json and the model it describes are checked against each other on every load.
- Messages name the file and say what is wrong with it (a corrupt .keras is not "not found", a
  file on an output's path is not "File exists", a quoted number names its setting).
- Missing input is refused before TensorFlow is imported.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from unittest import mock

import cv2
import numpy as np
import tensorflow as tf

from dkd_tf.evaluation import protocol
from dkd_tf.core import output_paths
from dkd_tf import presets
from dkd_tf.data import video_frames
from dkd_tf.tracking import video_stream
from dkd_tf.training import run_state, trainer
from dkd_tf.training.trainer import TrainConfig
from dkd_tf.serving import graphs as graphs_lib
from dkd_tf.serving import manifest as manifest_lib
from dkd_tf.serving import tflite_export
from dkd_tf.serving import verify
from tests.helpers import make_model_dir

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET = "mobile"  # the smallest shipped preset: an export and a Keras model
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def copy_member(root: str, member: str) -> str:
    """A copy of the shipped preset's preset.json and one member folder; -> the member's path."""
    src = presets.preset_dir(PRESET)
    os.makedirs(root, exist_ok=True)
    shutil.copy(os.path.join(src, presets.PRESET_FILE), root)
    shutil.copytree(os.path.join(src, member), os.path.join(root, member))
    return os.path.join(root, member)


def swap_two_joint_names(export_dir: str) -> None:
    path = manifest_lib.manifest_path(export_dir)
    with open(path) as f:
        manifest = json.load(f)
    names = manifest["joints"]["names"]
    names[1], names[2] = names[2], names[1]
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)


def write_clip(path: str) -> str:
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for i in range(3):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    return path


def run_command(module: str, *args):
    """(status, stdout, stderr, seconds) of `python -m module args`; stdout ends with whether
    TensorFlow had been imported when the process exited."""
    code = ("import atexit, runpy, sys; atexit.register(lambda: print('tensorflow imported:', "
            "'tensorflow' in sys.modules)); sys.argv = sys.argv[1:]; "
            "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, module, *args], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start


def error_lines(stderr: str) -> list:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


class PresetMemberByPathTest(tf.test.TestCase):
    """A preset member used by path (--model_dir, --export_dir) is checked against preset.json."""

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "preset_copy")
        shutil.rmtree(self.root, ignore_errors=True)

    def test_swapped_joint_names_are_refused_by_stream_and_verify(self):
        export = copy_member(self.root, "dkd_tflite")
        self.assertEqual(presets.verify_path(export), os.path.realpath(self.root))
        swap_two_joint_names(export)
        clip = write_clip(os.path.join(self.get_temp_dir(), "clip.avi"))
        status, out, err, _ = run_command("dkd_tf.stream", f"--video={clip}",
                                          f"--model_dir={export}")
        self.assertEqual(status, 1, err)
        lines = error_lines(err)
        self.assertLen(lines, 1, err)
        self.assertRegex(lines[0], r"dkd_tflite/manifest\.json: sha256 differs from preset\.json")
        self.assertIn("tensorflow imported: False", out)  # refused before any model work
        with self.assertRaisesRegex(presets.PresetError, r"manifest\.json: sha256 differs"):
            verify.verify_export(export, log=lambda *_: None)

    def test_a_changed_model_member_is_refused_by_every_loader(self):
        model_dir = copy_member(self.root, "dkd")
        with open(os.path.join(model_dir, "config.json")) as f:
            config = json.load(f)
        config["input_size"] = 96
        with open(os.path.join(model_dir, "config.json"), "w") as f:
            json.dump(config, f)
        pattern = r"dkd/config\.json: sha256 differs from preset\.json"
        for load in (protocol.load_model, graphs_lib.load_model_dir, run_state.load_config):
            with self.subTest(loader=load.__qualname__):
                with self.assertRaisesRegex(presets.PresetError, pattern):
                    load(model_dir)
        with self.assertRaisesRegex(presets.PresetError, pattern):
            video_stream.check_model_dir(model_dir, "keras")
        with self.assertRaisesRegex(presets.PresetError, pattern):  # as a training seed
            trainer.load_seed(os.path.join(model_dir, "model.keras"))

    def test_no_command_writes_into_a_preset(self):
        export = copy_member(self.root, "dkd_tflite")
        for check in (lambda: output_paths.check_dir(export, flag="--out_dir"),
                      lambda: output_paths.check_dir(os.path.join(self.root, "new"),
                                                     flag="--out_dir"),
                      lambda: output_paths.check_file(os.path.join(export, "k.json"),
                                                      flag="--out_json")):
            with self.assertRaisesRegex(output_paths.OutputPathError, "lies in the preset"):
                check()
        # The export refuses before it loads anything (the example overwrote a preset).
        with mock.patch.object(graphs_lib, "load_model_dir",
                               side_effect=AssertionError("the model was loaded")):
            with self.assertRaisesRegex(output_paths.OutputPathError,
                                        r"dkd_tflite: --out_dir: lies in the preset"):
                tflite_export.export_tflite("any_model_dir", export, log=lambda *_: None)
        presets.verify_path(export)  # untouched


class ManifestContentChecksumTest(tf.test.TestCase):
    """An export outside a preset is trusted through the checksum of its manifest's content."""

    def setUp(self):
        super().setUp()
        self.export = os.path.join(self.get_temp_dir(), "standalone_export")
        shutil.rmtree(self.export, ignore_errors=True)
        shutil.copytree(os.path.join(presets.preset_dir(PRESET), "dkd_tflite"), self.export)

    def test_write_seals_the_content_and_read_refuses_an_edit(self):
        # A preset's manifest (written before the checksum existed) moved out of its preset.
        with self.assertRaisesRegex(manifest_lib.ManifestError,
                                    r"standalone_export/manifest\.json: has no content_sha256"):
            manifest_lib.read(self.export)
        with open(manifest_lib.manifest_path(self.export)) as f:
            manifest_lib.write(self.export, json.load(f))
        manifest = manifest_lib.read(self.export)
        self.assertEqual(manifest[manifest_lib.CONTENT_KEY], manifest_lib.content_sha256(manifest))
        # Re-indenting or moving the source model dir keeps the content.
        manifest["model"]["model_dir"] = "/elsewhere/dkd"
        with open(manifest_lib.manifest_path(self.export), "w") as f:
            json.dump(manifest, f, indent=5)
        manifest_lib.read(self.export)
        swap_two_joint_names(self.export)
        with self.assertRaisesRegex(manifest_lib.ManifestError,
                                    r"manifest\.json: its content differs from its "
                                    r"content_sha256 checksum"):
            manifest_lib.read(self.export)
        status, out, err, _ = run_command(
            "dkd_tf.stream", f"--video={write_clip(os.path.join(self.get_temp_dir(), 'c.avi'))}",
            f"--model_dir={self.export}")
        self.assertEqual(status, 1, err)
        self.assertLen(error_lines(err), 1, err)
        self.assertIn("standalone_export/manifest.json: its content differs", err)

    def test_a_field_problem_is_named_before_the_checksum(self):
        with open(manifest_lib.manifest_path(self.export)) as f:
            manifest = manifest_lib.seal(json.load(f))
        manifest["stride"] = "8"
        with self.assertRaisesRegex(manifest_lib.ManifestError,
                                    r"m\.json: stride '8' is not a positive integer \(a string"):
            manifest_lib.validate(manifest, "m.json")


class ConfigAgainstModelTest(tf.test.TestCase):
    """config.json and model.keras describe one network, checked on every load."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="dkd_integrity_")
        cls.model_dir = make_model_dir(os.path.join(cls.tmp, "model"), input_size=64)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def edited_copy(self, name, **changes) -> str:
        path = os.path.join(self.get_temp_dir(), name)
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.model_dir, path)
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
        config.update(changes)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(config, f)
        return path

    def test_matching_config_loads(self):
        model, cfg = run_state.load_model_dir(self.model_dir)
        self.assertEqual(run_state.model_input_size(model), cfg.input_size)

    def test_another_input_size_is_refused_naming_both_values(self):
        model_dir = self.edited_copy("size96", input_size=96)
        for load in (protocol.load_model, graphs_lib.load_model_dir):
            with self.subTest(loader=load.__qualname__):
                with self.assertRaisesRegex(
                        run_state.RunStateError,
                        r'size96/config\.json: "input_size" is 96 in config\.json, but '
                        r"model\.keras was built for 64") as caught:
                    load(model_dir)
                self.assertNotIn("\n", str(caught.exception))

    def test_architecture_and_joints_are_compared_too(self):
        model_dir = self.edited_copy("arch", kernel_size=5, dataset="lsp")
        with self.assertRaisesRegex(run_state.RunStateError, "does not describe") as caught:
            run_state.load_model_dir(model_dir)
        text = str(caught.exception)
        self.assertIn('"kernel_size" is 5 in config.json, but model.keras has 3', text)
        self.assertIn('"dataset" is lsp in config.json, but model.keras predicts 13 joints', text)

    def test_a_quoted_number_names_the_file_and_the_setting(self):
        model_dir = self.edited_copy("quoted", input_size="64", kernel_size="3")
        with self.assertRaisesRegex(run_state.RunStateError, r"quoted/config\.json: ") as caught:
            run_state.load_config(model_dir)
        text = str(caught.exception)  # every problem at once, one line each
        self.assertIn(""""input_size" is '64' (str); it must be an integer""", text)
        self.assertIn(""""kernel_size" is '3' (str); it must be an integer""", text)

    def test_a_corrupt_keras_file_is_called_corrupt_not_missing(self):
        model_dir = self.edited_copy("corrupt")
        path = os.path.join(model_dir, "model.keras")
        with open(path, "rb") as f:
            head = f.read(2000)
        for what, content in (("truncated", head), ("garbage", b"not a model")):
            with self.subTest(what):
                with open(path, "wb") as f:
                    f.write(content)
                with self.assertRaisesRegex(run_state.RunStateError,
                                            r"corrupt/model\.keras: is corrupt or truncated") as c:
                    run_state.load_model_dir(model_dir)
                self.assertNotIn("not found", str(c.exception).lower())


class MessagesTest(tf.test.TestCase):
    """Messages that used to mislead."""

    def test_a_file_on_the_model_dir_path_is_named_not_file_exists(self):
        root = self.get_temp_dir()
        blocker = os.path.join(root, "notes.txt")
        with open(blocker, "w") as f:
            f.write("x")
        for model_dir in (blocker, os.path.join(blocker, "run")):
            with self.subTest(model_dir=model_dir):
                cfg = TrainConfig(model_dir=model_dir, data_dir=os.path.join(root, "d"))
                with self.assertRaisesRegex(run_state.RunStateError,
                                            r"--model_dir=.*notes\.txt.*(is a file|notes\.txt is "
                                            r"a file, not a directory)") as caught:
                    run_state.validate_config(cfg)
                self.assertNotIn("File exists", str(caught.exception))

    def test_a_crop_margin_that_is_not_ours_names_the_manifest(self):
        export = os.path.join(self.get_temp_dir(), "margin_export")
        shutil.rmtree(export, ignore_errors=True)
        shutil.copytree(os.path.join(presets.preset_dir(PRESET), "dkd_tflite"), export)
        with open(manifest_lib.manifest_path(export)) as f:
            manifest = json.load(f)
        manifest["crop"]["margin"] = 1.5
        manifest_lib.write(export, manifest)
        with self.assertRaisesRegex(video_frames.StreamError, r"margin_export/manifest\.json: the "
                                    r"export was made for crops with margin 1\.5"):
            video_stream.check_model_dir(export, "tflite")

    def test_num_threads_out_of_range_is_refused_up_front(self):
        for value in (10 ** 6, -1):
            with self.subTest(value=value):
                with self.assertRaisesRegex(video_frames.StreamError,
                                            rf"--num_threads={value}: must be 0 .* or 1 to "
                                            f"{video_stream.MAX_NUM_THREADS}"):
                    with mock.patch("dkd_tf.serving.runtimes.open_runner",
                                    side_effect=AssertionError("the runner was opened")):
                        video_stream.stream_video("m", os.path.join(REPO, "README.md"),
                                            num_threads=value, progress=False)
        video_stream.check_num_threads(4)


class FastRejectionTest(tf.test.TestCase):
    """Missing input is refused before TensorFlow is imported (well under a second on an idle
    machine; about 5 s before, spent importing TensorFlow)."""

    def test_missing_input_is_refused_before_tensorflow_loads(self):
        missing = os.path.join(self.get_temp_dir(), "missing")
        export = os.path.join(presets.preset_dir(PRESET), "dkd_tflite")
        clip = write_clip(os.path.join(self.get_temp_dir(), "clip.avi"))
        clip_data = os.path.join(self.get_temp_dir(), "data")
        os.makedirs(os.path.join(clip_data, "labels"), exist_ok=True)
        cases = [
            ("dkd_tf.stream", [f"--video={missing}.avi"], "missing.avi: no such video"),
            ("dkd_tf.stream", [f"--video={clip}", f"--model_dir={missing}"],
             "missing: --model_dir: no such export or model directory"),
            ("export.verify", [f"--export_dir={missing}"], r"missing/manifest.json: no manifest"),
            ("export.verify", [f"--export_dir={export}", f"--video={missing}.avi"],
             "missing.avi: --video: no such video"),
            ("export.tflite", [f"--model_dir={missing}", f"--out_dir={missing}_out"],
             "missing: model directory does not exist"),
            ("export.onnx", [f"--model_dir={os.path.dirname(export)}/dkd",
                             f"--out_dir={export}"], "dkd_tflite: --out_dir: lies in the preset"),
            ("export.evaluate_stream", [f"--export_dir={export}", f"--data_dir={missing}"],
             "missing/labels: labels directory is missing"),
            ("export.evaluate_stream", [f"--export_dir={missing}", f"--data_dir={clip_data}"],
             "missing: --export_dir: no such export or model directory"),
            ("dkd_tf.train", ["--flagfile=configs/lsp_baseline_lightning.flags", f"--data_dir={missing}",
                              f"--model_dir={missing}_run"],
             "--data_dir=.*missing: no such directory"),
            ("dkd_tf.train", ["--flagfile=configs/synthetic.flags",
                              f"--model_dir={os.path.dirname(export)}/dkd"],
             "--model_dir=.*dkd: is inside the shipped presets"),
            ("dkd_tf.evaluate", [f"--model_dir={missing}"],
             "missing/config.json: no training config"),
            ("dkd_tf.left_right", [f"--model_dir={missing}"],
             "missing/config.json: no training config"),
            ("dkd_tf.bench", [f"--export_dir={missing}", "--backend=tflite"],
             "missing/manifest.json: no manifest"),
            ("dkd_tf.bench", [f"--peer={missing}.tflite"], "missing.tflite: no such TFLite file"),
            ("dkd_tf.bench", [f"--out_json={export}/bench.json"],
             "bench.json: --out_json: lies in the preset"),
            # a setting's own rule (its declaration's choices or bounds), at flag parsing
            ("dkd_tf.train", ["--flagfile=configs/synthetic.flags", "--variant=dkdd",
                              f"--model_dir={missing}_run"],
             "flag --variant=dkdd: must be one of dkd, wo_tat, "),
            ("dkd_tf.train", ["--flagfile=configs/lsp_baseline_lightning.flags",
                              "--learning_rate=0", f"--model_dir={missing}_run"],
             r"flag --learning_rate=0.0: must be > 0"),
            ("dkd_tf.evaluate", [f"--model_dir={missing}", "--encoder_backbone=resnet19"],
             "flag --encoder_backbone=resnet19: must be one of resnet10, resnet18, "),
            ("dkd_tf.bench", ["--backend=tflitee"], "flag --backend=tflitee: value should be one"),
            # a rule relating two settings, before TensorFlow loads too
            ("dkd_tf.train", ["--flagfile=configs/synthetic.flags", "--scale_min=1.5",
                              "--scale_max=1.2", f"--model_dir={missing}_run"],
             r"--scale_max=1.2: must be >= --scale_min \(1.5\)"),
        ]
        for module, args, message in cases:
            with self.subTest(module=module, args=args):
                status, out, err, seconds = run_command(module, *args)
                self.assertEqual(status, 1, err)
                lines = error_lines(err)
                self.assertLen(lines, 1, err)
                self.assertRegex(lines[0], message)
                self.assertIn("tensorflow imported: False", out, f"{seconds:.1f} s")


if __name__ == "__main__":
    tf.test.main()
