"""The presets room: a preset is used only when its files are exactly the checksummed ones."""
import json
import os

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
