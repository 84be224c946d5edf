"""An export is written to a staging folder and moved into place only after it passed its check.

    stage = staging.begin(out_dir)            # a fresh folder beside out_dir (same file system)
    ... write the graphs and manifest.json into stage, verify them there ...
    staging.commit(stage, out_dir, files)     # graphs first, manifest.json last, each os.replace
    staging.discard(stage)                    # on failure: out_dir was never touched

So a failed export (verification failed, converter crashed, process killed) leaves nothing in
out_dir that a runner accepts: out_dir keeps what it had (an earlier verified export, or
nothing). A kill inside commit leaves new graph files beside the old manifest, whose checksums
then refuse them.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from dkd_tf.serving import manifest as manifest_lib

PREFIX = ".staging-"


def begin(out_dir: str) -> str:
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    for old in os.listdir(parent):  # left by a killed export of this out_dir
        if old.startswith(f".{os.path.basename(os.path.abspath(out_dir))}{PREFIX}"):
            shutil.rmtree(os.path.join(parent, old), ignore_errors=True)
    return tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out_dir))}{PREFIX}",
                            dir=parent)


def commit(stage: str, out_dir: str, files) -> list[str]:
    """Move `files` (names inside stage) and then the manifest from stage into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    moved = []
    for name in files:
        target = os.path.join(out_dir, name)
        os.replace(os.path.join(stage, name), target)
        moved.append(target)
    os.replace(manifest_lib.manifest_path(stage), manifest_lib.manifest_path(out_dir))
    discard(stage)
    return moved


def discard(stage: str) -> None:
    shutil.rmtree(stage, ignore_errors=True)
