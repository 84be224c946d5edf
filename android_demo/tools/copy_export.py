"""Copy an export directory into the Android app's assets (manifest.json + the TFLite graphs).

    python android_demo/tools/copy_export.py [EXPORT_DIR] [--assets DIR] [--finder KEY|none]

EXPORT_DIR: any `python -m export.tflite` output; by default the TFLite export of the preset
`python -m dkd_tf.stream` runs by default (dkd_tf.presets.DEFAULT: the real-world
DKD, dkd_movenet_video/dkd_tflite, verified against its preset.json). DIR: android_demo/app/src/main/assets. The export is
opened with dkd_tf.serving.runtimes' TFLite runner (the checks every runtime makes: manifest, sha256 of
the files, signatures, tensor shapes), and only manifest.json and the two .tflite files are
copied; the previous assets are replaced. A manifest written before manifests carried the
tracker's constants gets the `tracker` entry of dkd_tf.serving.tracking_policy added in the copy (the
app reads them from there).
KEY: the person finder the app runs on a whole frame before the initializer (dkd_tf.stream
--finder): finder.tflite (dkd_tf.pretrained.peers.tflite_file: the pinned npm package,
sha256-checked, converted and cached) and finder.json (finder_entry: its input, output layout,
the rows of its keypoints that make each of the export's joints, its sha256 and licence) are
written beside the export. Default: the finder the export's manifest names (`tracker.finder`,
as dkd_tf.stream's default: movenet_multipose in the real-world preset's exports, none in the
others) when it can be had (fetched or cached), else none with a note; `none` writes no finder.
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
FINDER_JSON = "finder.json"
FINDER_TFLITE = "finder.tflite"
FINDER_FORMAT_VERSION = 1  # PersonFinder.SUPPORTED_FORMAT_VERSION in the app
# The finders whose output the app decodes (PersonFinder: MultiPose's people x (17 x (y, x,
# score), box, score)); the single-person MoveNets and BlazePose have other layouts.
FINDERS = ("movenet_multipose",)
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


def finder_entry(key: str, manifest: dict, tflite_path: str) -> dict:
    """finder.json for the app: what PersonFinder needs to run and decode the finder `key`'s
    graph at tflite_path for the export of `manifest`, read from the graph itself (input size
    and dtype, output shape) and from dkd_tf.pretrained (the joint rows of
    peers.joint_mapping, as dkd_tf's PeerRunner maps the keypoints; licence and source of
    fetch.MODELS), so that the app hard-codes none of it."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from dkd_tf.pretrained import fetch, peers
    from dkd_tf.serving import manifest as manifest_lib
    if key not in FINDERS:
        raise ValueError(f"--finder {key}: the app decodes {', '.join(FINDERS)} only")
    interp = Interpreter(model_path=tflite_path)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    shape, out_shape = [int(d) for d in inp["shape"]], [int(d) for d in out["shape"]]
    if (len(shape) != 4 or shape[0] != 1 or shape[1] != shape[2] or shape[3] != 3
            or inp["dtype"] != np.int32):
        raise ValueError(f"{tflite_path}: input {shape} {np.dtype(inp['dtype']).name} is not "
                         "int32 [1, S, S, 3]")
    if (len(out_shape) != 3 or out_shape[0] != 1
            or out_shape[2] <= peers.MULTIPOSE_PERSON_SCORE or out["dtype"] != np.float32):
        raise ValueError(f"{tflite_path}: output {out_shape} is not float32 [1, people, "
                         f"{peers.MULTIPOSE_VALUES}]")
    joint_set = manifest_lib.joint_set(manifest)
    files = fetch.MODELS[key]
    return {
        "format_version": FINDER_FORMAT_VERSION,
        "key": key,
        "about": files.about,
        "source": f"npm {files.package.spec}, converted to TFLite by "
                  "dkd_tf.pretrained.peers.tflite_file",
        "license": files.package.license,
        "file": FINDER_TFLITE,
        "sha256": fetch.sha256(tflite_path),
        "input": {"height": shape[1], "width": shape[2], "channels": 3, "dtype": "int32",
                  "color": "RGB", "range": [0, 255]},
        "output": {"shape": out_shape, "keypoints": peers.MULTIPOSE_KEYPOINTS,
                   "keypoint_values": ["y", "x", "score"], "keypoint_scale": "input_size - 1",
                   "person_score": peers.MULTIPOSE_PERSON_SCORE},
        "keypoint_names": list(peers.COCO_NAMES),
        "joints": {"names": list(joint_set.names),
                   "rows": peers.joint_mapping(peers.COCO_NAMES, joint_set)},
    }


def finder_file(key: str | None, default: str = "", log=print) -> str | None:
    """The finder's .tflite (peers.tflite_file), or None for no finder: key None means
    `default`, the one the export names (tracking_policy.finder_of; when it cannot be had, None
    with a note; '' none), 'none' no finder; an explicit key that cannot be had raises."""
    from dkd_tf.pretrained import fetch, peers
    if key == "none" or (key is None and not default):
        return None
    wanted = key or default
    if wanted not in FINDERS:
        raise ValueError(f"--finder {wanted}: the app decodes {', '.join(FINDERS)} only")
    try:
        return peers.tflite_file(wanted, log)
    except (fetch.FetchError, OSError) as e:
        if key is not None:
            raise
        log(f"note: no person finder in the assets ({wanted} cannot be had: {e})")
        return None


def copy_export(export_dir: str, assets_dir: str = DEFAULT_ASSETS, log=print,
                finder: str | None = None) -> list[str]:
    """Replaces assets_dir's export (and finder) with export_dir's, and the finder `finder`
    (finder_file: None the default, 'none' no finder); returns the copied file names."""
    from dkd_tf.serving import manifest as manifest_lib
    from dkd_tf.serving import tracking_policy
    _, manifest = open_export(export_dir)
    named = tracking_policy.finder_of(manifest)
    finder_path = finder_file(finder, named, log)
    entry = manifest["formats"]["tflite"]
    finder_json = None if finder_path is None else finder_entry(
        finder or named, manifest, finder_path)
    os.makedirs(assets_dir, exist_ok=True)
    for name in os.listdir(assets_dir):
        if name in (manifest_lib.MANIFEST_FILE, FINDER_JSON) or name.endswith(".tflite"):
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
    if finder_json is not None:
        shutil.copyfile(finder_path, os.path.join(assets_dir, FINDER_TFLITE))
        with open(os.path.join(assets_dir, FINDER_JSON), "w") as f:
            json.dump(finder_json, f, indent=2)
            f.write("\n")
        names += [FINDER_TFLITE, FINDER_JSON]
    log(f"copied {', '.join(names)} from {export_dir} to {assets_dir} "
        f"(input {manifest['input']['height']}, {manifest['formats']['tflite']['quantization']}, "
        f"decoding {manifest['decoding']}; finder "
        f"{finder_json['key'] if finder_json else 'none'})")
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir", nargs="?", default=None,
                        help="export directory (default: the stream's default preset export)")
    parser.add_argument("--assets", default=DEFAULT_ASSETS, help="the app's assets directory")
    parser.add_argument("--finder", default=None, choices=FINDERS + ("none",),
                        help="person finder for whole frames (default: the one the export's "
                             "manifest names, when it can be fetched or is cached, else none)")
    args = parser.parse_args(argv)
    from dkd_tf.serving.manifest import ManifestError
    export_dir = args.export_dir or default_export_dir()
    if export_dir is None:
        print("error: no export given and no verified default preset export under dkd_tf/presets/; "
              "pass an export directory (python -m export.tflite --out_dir DIR)", file=sys.stderr)
        return 1
    try:
        copy_export(export_dir, args.assets, finder=args.finder)
    except (ManifestError, OSError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
