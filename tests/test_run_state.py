"""A run directory never serves a stale model (issue 10): kills while model.keras is written, torn
checkpoints, resuming with changed flags, bad frames found before the model is built, flag
validation. Kill points are simulated deterministically by raising inside the writers."""
import dataclasses
import glob
import os
import re
import shutil
from unittest import mock

import keras
import numpy as np
import tensorflow as tf
from absl import flags

from dkd_tf.training import run_state, trainer
from dkd_tf.cli import train_flags
from dkd_tf.data import datasets, frame_check, penn_action
from dkd_tf.data.records import DatasetError
from dkd_tf.models.dkd import DKD
from tests.helpers import EpochLog, tiny_config, tiny_model, tiny_synthetic


def weights_of(path):
    return keras.models.load_model(path, safe_mode=True).get_weights()


def assert_same_weights(test, a, b):
    test.assertEqual(len(a), len(b))
    for x, y in zip(a, b):
        test.assertAllEqual(x, y)


def differs(a, b):
    return any(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a, b))


class RunDirectoryTest(tf.test.TestCase):
    """One tiny run goes through every failure in turn (each test step needs the one before)."""

    def test_kill_torn_checkpoint_and_changed_flags(self):
        tmp = self.get_temp_dir()
        data = tiny_synthetic(os.path.join(tmp, "syn"))
        model_dir = os.path.join(tmp, "run")
        cfg = tiny_config(model_dir, data, variant="baseline", epochs=2)
        model_path = os.path.join(model_dir, "model.keras")

        # 1. Killed while the last epoch's model.keras is written (its checkpoint exists).
        real_save = DKD.save
        saves = []

        def torn_save(model, path, *args, **kwargs):
            saves.append(path)
            if len(saves) == 2:
                with open(path, "wb") as f:
                    f.write(b"PK\x03\x04 half a zip")
                raise KeyboardInterrupt("killed while writing model.keras")
            return real_save(model, path, *args, **kwargs)

        with mock.patch.object(DKD, "save", torn_save):
            with self.assertRaises(KeyboardInterrupt):
                trainer.run_training(cfg)
        self.assertEqual(run_state.checkpoint_numbers(os.path.join(model_dir, "checkpoints")),
                         [1, 2])
        self.assertEqual(run_state.read_record(model_dir)["epoch"], 1)
        stale = weights_of(model_path)
        self.assertTrue(glob.glob(os.path.join(model_dir, "*.tmp.keras")))  # the torn write
        # Loaders refuse the stale model instead of using it.
        from dkd_tf.evaluation import protocol
        with self.assertRaisesRegex(run_state.RunStateError, "newest checkpoint"):
            protocol.load_model(model_dir)
        # The rerun rewrites model.keras from checkpoint 2 (it used to say 'already trained').
        with self.assertLogs("absl", "WARNING") as logs:
            model = trainer.run_training(cfg)
        text = "\n".join(logs.output)
        self.assertIn("rewriting it from checkpoints/ckpt-2", text)
        self.assertIn("interrupted write", text)
        self.assertEqual(run_state.read_record(model_dir)["epoch"], 2)
        fresh = weights_of(model_path)
        assert_same_weights(self, fresh, model.get_weights())
        self.assertTrue(differs(fresh, stale))
        self.assertFalse(glob.glob(os.path.join(model_dir, "*.tmp.keras")))
        run_state.verify_model_dir(model_dir)
        protocol.load_model(model_dir)

        # 2. A torn newest checkpoint: truncated .data, plus litter of an interrupted save.
        ckpt_dir = os.path.join(model_dir, "checkpoints")
        data_file = glob.glob(os.path.join(ckpt_dir, "ckpt-2.data-*"))[0]
        with open(data_file, "r+b") as f:
            f.truncate(os.path.getsize(data_file) // 3)
        os.makedirs(os.path.join(ckpt_dir, "ckpt-3_temp"))
        log = EpochLog()
        with self.assertLogs("absl", "WARNING") as logs:
            trainer.run_training(cfg, callbacks=[log])
        text = "\n".join(logs.output)
        self.assertIn("ckpt-2: unreadable", text)
        self.assertIn("resuming from ckpt-1", text)
        self.assertEqual(log.epochs, [1])  # epoch 2 trained again from checkpoint 1
        self.assertTrue(os.listdir(os.path.join(ckpt_dir, "unreadable")))
        self.assertFalse(os.path.exists(os.path.join(ckpt_dir, "ckpt-3_temp")))
        self.assertEqual(run_state.read_record(model_dir)["epoch"], 2)
        run_state.verify_model_dir(model_dir)

        # 3. Changed flags are compared before anything is touched.
        before = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(model_dir, "**"),
                                                            recursive=True)}
        with open(os.path.join(model_dir, "config.json")) as f:
            stored = f.read()
        with mock.patch.object(trainer, "build_model", side_effect=AssertionError("built")):
            with self.assertRaisesRegex(run_state.RunStateError, "cannot change") as ctx:
                trainer.run_training(dataclasses.replace(cfg, encoder_width=16, epochs=3))
            table = str(ctx.exception)
            self.assertRegex(table, r"--encoder_width +8 +16 +architecture")
            self.assertRegex(table, r"--epochs +2 +3 +safe")
            with self.assertRaisesRegex(run_state.RunStateError,
                                        "--allow_changes=learning_rate"):
                trainer.run_training(dataclasses.replace(cfg, learning_rate=2e-3))
            with self.assertRaisesRegex(run_state.RunStateError, "can never change"):
                trainer.run_training(cfg, allow_changes=("input_size",))
        with open(os.path.join(model_dir, "config.json")) as f:
            self.assertEqual(f.read(), stored)
        self.assertEqual(before, {p: os.path.getmtime(p) for p in before})
        # A safe change goes ahead when named, and is logged and recorded.
        log = EpochLog()
        changed = dataclasses.replace(cfg, epochs=3, learning_rate=2e-3)
        with self.assertLogs("absl", "WARNING") as logs:
            trainer.run_training(changed, callbacks=[log],
                                  allow_changes=("epochs", "learning_rate"))
        self.assertIn("--learning_rate changed from 0.0005 to 0.002", "\n".join(logs.output))
        self.assertEqual(log.epochs, [2])
        self.assertEqual(trainer.TrainConfig.load(model_dir), changed)

        # 4. The CLI says the same in one error line plus the table, and exits 1.
        import subprocess
        import sys
        args = [f"--{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
                for k, v in dataclasses.asdict(dataclasses.replace(changed, kernel_size=5)).items()
                if not (isinstance(v, tuple) and not v)]
        proc = subprocess.run([sys.executable, "-m", "dkd_tf.train", *args,
                               "--lr_decay_epochs="],
                              capture_output=True, text=True, timeout=600,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        self.assertNotIn("Traceback", proc.stderr)
        errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
        self.assertLen(errors, 1)
        self.assertIn(os.path.join(model_dir, "config.json"), errors[0])
        self.assertRegex(proc.stderr, r"--kernel_size +3 +5 +architecture")


class ConfigFieldsTest(tf.test.TestCase):

    def test_every_setting_is_classified_for_resuming(self):
        """A new TrainConfig field must be placed: architecture (never changes in a resumed
        run), safe (with --allow_changes) or run (not compared). Unplaced ones are refused."""
        groups = (run_state.ARCHITECTURE_FIELDS, run_state.SAFE_FIELDS, run_state.RUN_FIELDS)
        placed = [n for g in groups for n in g]
        self.assertLen(set(placed), len(placed))
        self.assertCountEqual(placed, [f.name for f in dataclasses.fields(trainer.TrainConfig)])
        self.assertTrue(run_state.is_architecture("a_future_setting"))

    def test_each_setting_is_declared_once_and_everything_derives_from_it(self):
        """Adding a setting is one field of train_config.TrainConfig: its help becomes the
        flag's, its kind the resume rule, model=True a DKD argument, manifest=True a manifest
        entry read back from the model."""
        import inspect

        from dkd_tf.core import train_config
        from dkd_tf.models.dkd import DKD
        from dkd_tf.serving import manifest as manifest_lib
        args = inspect.signature(DKD.__init__).parameters
        for f in dataclasses.fields(train_config.TrainConfig):
            with self.subTest(f.name):
                self.assertGreater(len(f.metadata["help"]), 10)
                self.assertIn(f.metadata["kind"], train_config.KINDS)
        cfg = train_config.TrainConfig(variant="baseline", kernel_size=5,
                                       freeze_initializer=False, encoder_input_scale=0.5)
        kwargs = train_config.model_kwargs(cfg)
        self.assertTrue(set(kwargs) <= set(args), set(kwargs) - set(args))
        self.assertEqual((kwargs["kernel_size"], kwargs["initializer_trainable"]), (5, True))
        model = tiny_model("baseline")
        recorded = manifest_lib.architecture_of(model)
        self.assertEqual(tuple(recorded), train_config.MANIFEST_FIELDS)
        self.assertEqual(recorded["encoder_backbone"], model.encoder_backbone)
        # the flags carry the declared help
        train_flags.define_flags()  # defines what is not yet defined
        self.assertEqual(flags.FLAGS["kernel_size"].help, train_config.help_of("kernel_size"))

    def test_a_settings_rule_is_checked_by_the_flags_and_the_config_alike(self):
        """A field's declared rule (choices, bounds) refuses a value that breaks it when the
        flags are parsed (before TensorFlow loads) and in run_state.config_problems (a config
        built in Python or read from config.json); a value keeping it passes both."""
        from dkd_tf.core import train_config
        train_flags.define_flags()
        fv = flags.FLAGS
        base = train_config.TrainConfig()
        ruled = 0
        try:
            for f in dataclasses.fields(train_config.TrainConfig):
                m = f.metadata
                if m["choices"] is not None:
                    bad = ("no_such_choice" if isinstance(f.default, str)
                           else max(m["choices"]) + 7)
                elif m["at_least"] is not None:
                    bad = m["at_least"] - 1
                elif m["above"] is not None:
                    bad = m["above"]
                else:
                    self.assertIsNone(m["at_most"], f.name)  # a bound has a lower end here
                    continue
                ruled += 1
                with self.subTest(f.name, bad=bad):
                    problem = train_config.field_problem(f.name, bad)
                    self.assertIsNotNone(problem)
                    problems = run_state.config_problems(dataclasses.replace(base, **{f.name: bad}))
                    self.assertIn((f.name, problem), problems)
                    self.assertIsNone(train_config.field_problem(f.name, f.default))
                    if f.name == "split":  # dkd_tf.evaluate defines its own --split parser
                        continue
                    fv.unparse_flags()
                    with self.assertRaisesRegex(flags.IllegalFlagValueError,
                                                f"--{f.name}=.*{re.escape(problem)}"):
                        fv(["train", f"--{f.name}={bad}"])
                    fv.unparse_flags()
                    fv(["train", f"--{f.name}={f.default}"])
        finally:
            fv.unparse_flags()
        self.assertGreater(ruled, 30)


class ModelRecordTest(tf.test.TestCase):

    def test_kill_between_model_and_its_record_is_detected(self):
        model_dir = self.get_temp_dir()
        model = tiny_model("baseline")
        model(np.zeros((1, 2, 64, 64, 3), np.float32))
        run_state.write_model(model, model_dir, 1)
        self.assertIsNone(run_state.model_mismatch(model_dir, 1))
        self.assertIn("epoch 1", run_state.model_mismatch(model_dir, 2))
        # Epoch 2's model.keras is in place, the process dies before its record is written.
        real = run_state._write_json

        def killed(path, doc):
            if path.endswith(run_state.MODEL_RECORD):
                raise KeyboardInterrupt("killed before the record")
            return real(path, doc)

        model.lam.assign(0.5)
        with mock.patch.object(run_state, "_write_json", killed):
            with self.assertRaises(KeyboardInterrupt):
                run_state.write_model(model, model_dir, 2)
        self.assertIn("checksum", run_state.model_mismatch(model_dir, 1))
        self.assertTrue(run_state.reconcile_model(model, model_dir, 2, 64, log=lambda *_: None))
        self.assertIsNone(run_state.model_mismatch(model_dir, 2))


class RestoreNewestTest(tf.test.TestCase):
    """Fallback over torn checkpoints, with a one-variable checkpoint."""

    def _save(self, ckpt_dir, values):
        v = tf.Variable(0.0)
        ckpt = tf.train.Checkpoint(v=v)
        manager = tf.train.CheckpointManager(ckpt, ckpt_dir, max_to_keep=5)
        for i, value in enumerate(values, 1):
            v.assign(value)
            manager.save(checkpoint_number=i)

    def test_missing_index_and_truncated_data_fall_back(self):
        ckpt_dir = os.path.join(self.get_temp_dir(), "checkpoints")
        self._save(ckpt_dir, [1.0, 2.0, 3.0])
        os.remove(os.path.join(ckpt_dir, "ckpt-3.index"))
        data = glob.glob(os.path.join(ckpt_dir, "ckpt-2.data-*"))[0]
        with open(data, "r+b") as f:
            f.truncate(1)
        v = tf.Variable(0.0)
        lines = []
        prefix = run_state.restore_newest(tf.train.Checkpoint(v=v), ckpt_dir, log=lines.append)
        self.assertEqual(os.path.basename(prefix), "ckpt-1")
        self.assertEqual(float(v.numpy()), 1.0)
        self.assertLen(lines, 2)
        self.assertIn("ckpt-3: unreadable", lines[0])
        self.assertIn("resuming from ckpt-1", lines[0])
        self.assertEqual(run_state.checkpoint_numbers(ckpt_dir), [1])
        self.assertEqual(os.path.basename(tf.train.latest_checkpoint(ckpt_dir)), "ckpt-1")
        # Nothing restorable: a fresh start, said so.
        os.remove(os.path.join(ckpt_dir, "ckpt-1.index"))
        lines = []
        self.assertIsNone(run_state.restore_newest(tf.train.Checkpoint(v=v), ckpt_dir,
                                                   log=lines.append))
        self.assertIn("starting from scratch", lines[0])

    def test_after_a_resume_the_manager_keeps_sweeping_by_max_to_keep(self):
        # The state restore_newest writes is read by tf.train.CheckpointManager as its own: the
        # latest is the restored one, and saving on deletes the oldest beyond max_to_keep.
        ckpt_dir = os.path.join(self.get_temp_dir(), "checkpoints")
        self._save(ckpt_dir, [1.0, 2.0, 3.0])
        v = tf.Variable(0.0)
        ckpt = tf.train.Checkpoint(v=v)
        prefix = run_state.restore_newest(ckpt, ckpt_dir, log=lambda *_: None)
        self.assertEqual(os.path.basename(prefix), "ckpt-3")
        state = tf.train.get_checkpoint_state(ckpt_dir)
        self.assertEqual([os.path.basename(p) for p in state.all_model_checkpoint_paths],
                         ["ckpt-1", "ckpt-2", "ckpt-3"])
        self.assertLen(state.all_model_checkpoint_timestamps, 3)
        manager = tf.train.CheckpointManager(ckpt, ckpt_dir, max_to_keep=3)
        self.assertEqual(os.path.basename(manager.latest_checkpoint), "ckpt-3")
        manager.save(checkpoint_number=4)
        manager.save(checkpoint_number=5)
        self.assertEqual(run_state.checkpoint_numbers(ckpt_dir), [3, 4, 5])

    def test_a_whole_checkpoint_of_another_model_is_an_error(self):
        ckpt_dir = os.path.join(self.get_temp_dir(), "checkpoints")
        self._save(ckpt_dir, [1.0])
        other = tf.train.Checkpoint(w=tf.Variable(tf.zeros([3])))
        with self.assertRaisesRegex(run_state.RunStateError, "does not fit"):
            run_state.restore_newest(other, ckpt_dir, log=lambda *_: None)
        self.assertEqual(run_state.checkpoint_numbers(ckpt_dir), [1])  # not moved away


class FrameCheckTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.get_temp_dir(), "syn")
        shutil.rmtree(self.data, ignore_errors=True)
        tiny_synthetic(self.data)

    def test_every_bad_frame_is_reported_at_once_before_the_model_is_built(self):
        records = penn_action.read_split(self.data, "all")
        cache = os.path.join(self.get_temp_dir(), "cache", frame_check.CACHE_FILE)
        self.assertEqual(frame_check.check_frames(records, self.data, cache), 18)
        # Cached: a second check decodes nothing.
        with mock.patch.object(frame_check, "_decode", side_effect=AssertionError("decoded")):
            frame_check.check_frames(records, self.data, cache)
        frames = sorted(glob.glob(os.path.join(self.data, "frames", "*", "*.jpg")))
        open(frames[1], "wb").close()                                     # empty
        with open(frames[4], "wb") as f:
            f.write(b"not a jpeg")                                        # undecodable
        import cv2
        cv2.imwrite(frames[8], np.zeros((40, 50, 3), np.uint8))           # another size
        # (A missing frame is refused by the reader already, naming the file.)
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "run"), self.data)
        with mock.patch.object(trainer, "build_model", side_effect=AssertionError("built")):
            with self.assertRaises(DatasetError) as ctx:
                trainer.run_training(cfg)
        message = str(ctx.exception)
        self.assertTrue(message.startswith(f"{self.data}: 3 of 18 frames"), message)
        for i, why in ((1, "empty"), (4, "cannot decode"), (8, "40x50")):
            self.assertIn(f"{frames[i]}: ", message)
            self.assertIn(why, message)


class SyntheticDataTest(tf.test.TestCase):

    def test_only_training_generates_the_synthetic_set_and_says_so(self):
        missing = os.path.join(self.get_temp_dir(), "typo")
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "run"), missing,
                          synthetic_videos=2, synthetic_frames=3)
        with self.assertRaisesRegex(DatasetError, os.path.join(os.path.abspath(missing),
                                                               "labels")):
            datasets.load(cfg, "test")
        self.assertFalse(os.path.exists(missing))  # nothing generated
        said = []
        self.assertTrue(datasets.ensure_synthetic(cfg, log=said.append))
        self.assertIn("generating 2 videos", said[0])
        self.assertFalse(datasets.ensure_synthetic(cfg, log=said.append))
        self.assertLen(said, 1)


class FlagValidationTest(tf.test.TestCase):

    def test_input_size_is_validated_when_the_flags_are_parsed(self):
        train_flags.define_flags()
        fv = flags.FLAGS
        try:
            for value in ("100", "16", "0"):
                with self.subTest(value=value):
                    fv.unparse_flags()
                    with self.assertRaisesRegex(flags.IllegalFlagValueError, "multiple of 32"):
                        fv(["train", f"--input_size={value}"])
            fv.unparse_flags()
            fv(["train", "--input_size=96"])
            self.assertEqual(fv.input_size, 96)
        finally:
            fv.unparse_flags()

    def test_dry_run_validates_every_flag_at_once(self):
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "run"), "data", input_size=100,
                          flip_prob=2.0, variant="dkdx", lr_decay_epochs=(5, 3),
                          distillator_pools=3, distillator_output="tanh")
        with self.assertRaises(run_state.RunStateError) as ctx:
            run_state.dry_run(cfg)
        message = str(ctx.exception)
        fields = ("variant", "input_size", "flip_prob", "lr_decay_epochs", "distillator_pools",
                  "distillator_output")
        for field in fields:
            self.assertIn(f"--{field}=", message)
        self.assertLen(message.splitlines(), len(fields))
        self.assertFalse(os.path.exists(cfg.model_dir))
        # Missing data is reported, not fatal, in a dry run; fatal for training.
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "run"), "no/such/dir",
                          dataset="penn_action")
        self.assertEqual([f for f, _ in run_state.validate_config(cfg, paths=False)],
                         ["data_dir"])
        with self.assertRaisesRegex(run_state.RunStateError, "--data_dir=no/such/dir"):
            trainer.run_training(cfg)

    def test_side_cue_refuses_flips(self):
        # A mirrored crop would put the left-limb stripe on the right limbs' labels.
        cfg = tiny_config(os.path.join(self.get_temp_dir(), "run"), "data",
                          synthetic_side_cue=True, flip_prob=0.5)
        with self.assertRaisesRegex(run_state.RunStateError,
                                    r"--flip_prob=0.5: must be 0 with --synthetic_side_cue"):
            run_state.validate_config(cfg, paths=False)
        for ok in (dataclasses.replace(cfg, flip_prob=0.0),
                   dataclasses.replace(cfg, synthetic_side_cue=False)):
            with self.subTest(side_cue=ok.synthetic_side_cue, flip_prob=ok.flip_prob):
                self.assertEqual(run_state.validate_config(ok, paths=False), [])

    def test_labels_shorter_than_the_frames_warn(self):
        data = tiny_synthetic(os.path.join(self.get_temp_dir(), "syn"))
        frames = os.path.join(data, "frames", "0001")
        shutil.copy(os.path.join(frames, "000001.jpg"), os.path.join(frames, "000007.jpg"))
        with self.assertLogs("absl", "WARNING") as logs:
            record = penn_action.read_video(data, "0001")
        self.assertEqual(record.num_frames, 6)
        self.assertIn("labels 6 frames", logs.output[0])
        self.assertIn("000007.jpg", logs.output[0])

    def test_setup_requires_a_keras_without_published_safe_mode_bypasses(self):
        from packaging.requirements import Requirement
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(root, "setup.py")) as f:
            source = f.read()
        line = [l for l in source.splitlines() if l.startswith("KERAS_REQUIREMENT")][0]
        spec = Requirement(line.split("=", 1)[1].strip().strip('"')).specifier
        for bad in ("3.0.0", "3.8.0", "3.10.0", "3.11.2", "3.12.0", "3.13.0", "3.13.1"):
            self.assertNotIn(bad, spec, bad)
        for good in ("3.12.1", "3.13.2", "3.14.0", "3.15.1", keras.__version__):
            self.assertIn(good, spec, good)
        self.assertIn("KERAS_REQUIREMENT,", source)


if __name__ == "__main__":
    tf.test.main()
