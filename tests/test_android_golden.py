"""The Android app's golden vectors (android_demo/tools/golden.py) must match the Python side that
made them, and manifests must carry the tracker constants the app reads."""
from __future__ import annotations

import importlib.util
import json
import os

import tensorflow as tf

from dkd_tf.serving import tracking_policy
from dkd_tf.serving import manifest as manifest_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(REPO, "android_demo", "tools")
GOLDEN = os.path.join(REPO, "android_demo", "app", "src", "test", "resources", "golden")


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(f"android_{name}", os.path.join(TOOLS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AndroidGoldenTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.golden = _load_tool("golden")
        with open(os.path.join(GOLDEN, self.golden.VECTORS_FILE)) as f:
            self.vectors = json.load(f)
        with open(os.path.join(GOLDEN, self.golden.MANIFEST_FILE), "rb") as f:
            self.manifest_bytes = f.read()

    def test_vectors_were_made_by_the_current_python_side(self):
        now = self.golden.fingerprint(self.manifest_bytes)
        recorded = self.vectors["fingerprint"]
        self.assertEqual(now["manifest_sha256"], recorded["manifest_sha256"],
                         "android_demo/.../golden/manifest.json changed after the vectors were made")
        changed = sorted(set(now["parts"]) ^ set(recorded["parts"]))
        self.assertEqual(
            now["python_sha256"], recorded["python_sha256"],
            "the Python decoding / crop / tracker code (or the generator) changed since the "
            f"Android golden vectors were made{' (parts: ' + ', '.join(changed) + ')' if changed else ''}"
            "; regenerate them: python android_demo/tools/golden.py --export_dir EXPORT, then run "
            "make android-test")

    def test_golden_manifest_is_a_valid_manifest_with_a_tracker(self):
        manifest = manifest_lib.validate(json.loads(self.manifest_bytes), "golden/manifest.json")
        self.assertIn("tracker", manifest)
        export_dir = os.path.join(REPO, self.vectors["export"]["dir"])
        source = manifest_lib.manifest_path(export_dir)
        if os.path.isfile(source):  # a shipped export in the repository: still the same file
            from dkd_tf.serving.graphs import file_sha256
            self.assertEqual(file_sha256(source), self.vectors["export"]["manifest_sha256"],
                             f"{source} changed since the golden vectors were made; regenerate")

    def test_tracker_entry_is_the_stream_defaults(self):
        t = tracking_policy.to_json()
        self.assertEqual(t["reinit_threshold"], tracking_policy.DEFAULT_REINIT_THRESHOLD)
        self.assertEqual(t["keypoint_threshold"], tracking_policy.DEFAULT_KEYPOINT_THRESHOLD)
        self.assertEqual(t["follow_margin"], tracking_policy.DEFAULT_FOLLOW_MARGIN)
        self.assertEqual(t["follow_max_resize"], tracking_policy.DEFAULT_FOLLOW_MAX_RESIZE)
        self.assertEqual(t["follow_smoothing"], tracking_policy.DEFAULT_FOLLOW_SMOOTHING)
        self.assertEqual(tuple(t["follow_scale_range"]), tracking_policy.FOLLOW_SCALE_RANGE)
        self.assertEqual(t["follow_velocity"], tracking_policy.DEFAULT_FOLLOW_VELOCITY)
        self.assertEqual(t["follow_velocity_memory"], tracking_policy.FOLLOW_VELOCITY_MEMORY)
        self.assertEqual(t["motion_prior"], tracking_policy.DEFAULT_MOTION_PRIOR)
        manifest = json.loads(self.manifest_bytes)
        # The entries below are edited on purpose: the content checksum would refuse any edit.
        manifest.pop(manifest_lib.CONTENT_KEY, None)
        manifest["tracker"] = t
        manifest_lib.validate(manifest)
        manifest["tracker"] = dict(t, follow_margin="wide")
        with self.assertRaisesRegex(manifest_lib.ManifestError, "tracker.follow_margin"):
            manifest_lib.validate(manifest, "m.json")
        manifest["tracker"] = dict(t, follow_smoothing=1.0)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "follow_smoothing"):
            manifest_lib.validate(manifest, "m.json")
        manifest["tracker"] = dict(t, follow_velocity=1.5)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "follow_velocity 1.5"):
            manifest_lib.validate(manifest, "m.json")
        manifest["tracker"] = dict(t, motion_prior=10.0)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "motion_prior"):
            manifest_lib.validate(manifest, "m.json")
        manifest["tracker"] = dict(t, follow_velocity_memory=1.0)
        with self.assertRaisesRegex(manifest_lib.ManifestError, "follow_velocity_memory"):
            manifest_lib.validate(manifest, "m.json")
        # Exports made before the velocity: valid, and they stream without it.
        manifest["tracker"] = {k: v for k, v in t.items()
                               if not k.startswith("follow_velocity") and k != "motion_prior"}
        manifest_lib.validate(manifest)
        self.assertEqual(tracking_policy.follow_velocity_of(manifest),
                         (0.0, tracking_policy.FOLLOW_VELOCITY_MEMORY))
        self.assertEqual(tracking_policy.motion_prior_of(manifest), 0.0)
        del manifest["tracker"]  # manifests written before the entry existed stay valid
        manifest_lib.validate(manifest)


if __name__ == "__main__":
    tf.test.main()
