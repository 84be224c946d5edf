"""Copy an export directory into the Android app's assets (manifest.json + the TFLite graphs).

    python android_demo/tools/copy_export.py [EXPORT_DIR] [--assets DIR]

EXPORT_DIR: any `python -m export.tflite` output; by default the TFLite export of the preset
`python -m dkd_tf.stream` runs by default (dkd_tf.presets.DEFAULT: the real-world
DKD, dkd_movenet_video/dkd_tflite, verified against its preset.json). DIR: android_demo/app/src/main/assets. The export is
opened with dkd_tf.serving.runtimes' TFLite runner (the checks every runtime makes: manifest, sha256 of
the files, signatures, tensor shapes), and only manifest.json and the two .tflite files are
copied; the previous assets are replaced. A manifest written before manifests carried the
tracker's constants gets the `tracker` entry of dkd_tf.serving.tracking_policy added in the copy (the
app reads them from there).
Bad input is one line on stderr naming the file, exit status 1.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_ASSETS = os.path.join(REPO, "android_demo", "app", "src", "main", "assets")
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def default_export_dir() -> str | None:
    """The TFLite export of the preset `python -m dkd_tf.stream` runs by default
    (dkd_tf.presets.DEFAULT and its member for tflite, checksums verified), else None: the app
    and the golden vectors start from the same model as the Python stream."""
    from dkd_tf import presets
    try:
        meta = presets.verify(presets.DEFAULT)
        return presets.member_dir(presets.DEFAULT,
                                  presets.member_for(presets.DEFAULT, "tflite", meta), meta)
    except presets.PresetError:
        return None


def open_export(export_dir: str):
    """(TFLite runner, manifest as the app gets it). Opening the runner makes the checks every
    runtime makes (manifest, files present, sha256, signatures, tensor shapes); the manifest gets
    the tracker entry of dkd_tf.serving.tracking_policy when it predates that entry."""
    from dkd_tf.serving import tracking_policy
    from dkd_tf.serving import runtimes
    runner = runtimes.open_runner("tflite", export_dir)
    manifest = runner.manifest
    if "tracker" not in manifest:
        manifest = dict(manifest, tracker=tracking_policy.to_json())
    return runner, manifest


def copy_export(export_dir: str, assets_dir: str = DEFAULT_ASSETS, log=print) -> list[str]:
    """Replaces assets_dir's export with export_dir's; returns the copied file names."""
    from dkd_tf.serving import manifest as manifest_lib
    _, manifest = open_export(export_dir)
    entry = manifest["formats"]["tflite"]
    os.makedirs(assets_dir, exist_ok=True)
    for name in os.listdir(assets_dir):
        if name == manifest_lib.MANIFEST_FILE or name.endswith(".tflite"):
            os.remove(os.path.join(assets_dir, name))
    names = []
    for graph in manifest_lib.GRAPHS:
        name = entry[graph]["file"]
        shutil.copyfile(os.path.join(export_dir, name), os.path.join(assets_dir, name))
        names.append(name)
    with open(os.path.join(assets_dir, manifest_lib.MANIFEST_FILE), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    names.append(manifest_lib.MANIFEST_FILE)
    log(f"copied {', '.join(names)} from {export_dir} to {assets_dir} "
        f"(input {manifest['input']['height']}, {manifest['formats']['tflite']['quantization']}, "
        f"decoding {manifest['decoding']})")
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir", nargs="?", default=None,
                        help="export directory (default: the stream's default preset export)")
    parser.add_argument("--assets", default=DEFAULT_ASSETS, help="the app's assets directory")
    args = parser.parse_args(argv)
    from dkd_tf.serving.manifest import ManifestError
    export_dir = args.export_dir or default_export_dir()
    if export_dir is None:
        print("error: no export given and no verified default preset export under dkd_tf/presets/; "
              "pass an export directory (python -m export.tflite --out_dir DIR)", file=sys.stderr)
        return 1
    try:
        copy_export(export_dir, args.assets)
    except (ManifestError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
