"""Output paths are checked before a command does any work, and never name one of its inputs.

    output_paths.check_file(out_json, inputs=[video, *model_files], flag="--out_json")
    output_paths.check_dir(out_dir, flag="--out_dir")

Why before: a stream or an export runs for minutes; an output that cannot be written (its parent
is a file or read-only, the path is a directory) used to fail only at the end, losing the work.
Why the inputs: `--out_video c.avi --video c.avi` overwrote the video it was reading. Paths are
compared with os.path.samefile where both exist (hard links, symlinks, `./x` vs `x`) and by
realpath otherwise. Writability is probed by creating (and removing) a file in the nearest
existing ancestor, which also catches read-only file systems where os.access says yes (root).
No output may lie in a preset (a folder with preset.json, dkd_tf.presets.enclosing): a preset is
read-only to every command, and a file added there would make it fail its own verification.
Every problem is one OutputPathError, '<file>: <problem>', as dkd_tf.cli.errors prints it.
"""
from __future__ import annotations

import os
import tempfile


class OutputPathError(ValueError):
    """An output path that cannot be written or that is an input of the same run."""

    def __init__(self, path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{self.path}: {problem}")


def same_file(a, b) -> bool:
    """Whether paths a and b name one file (samefile where both exist, realpath otherwise)."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _nearest_existing(path: str) -> str:
    """The first existing path up from `path`'s parent (a file when a component is one)."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    return parent


def _check_parent(path: str, label: str) -> None:
    ancestor = _nearest_existing(path)
    if not os.path.isdir(ancestor):
        raise OutputPathError(path, f"{label}: {ancestor} is a file, not a directory")
    try:
        with tempfile.TemporaryFile(dir=ancestor, prefix=".dkd_write_probe"):
            pass
    except OSError as e:
        raise OutputPathError(path, f"{label}: cannot write in {ancestor} "
                              f"({e.strerror or e})") from None


def _check_not_in_preset(path: str, label: str) -> None:
    from dkd_tf import presets  # reads files only
    root = presets.enclosing(path)
    if root is not None:
        raise OutputPathError(path, f"{label}: lies in the preset {root}, which no command "
                              "writes (its files are checksummed in preset.json); write elsewhere")


def check_file(path, inputs=(), flag: str = "output", others=()) -> str:
    """Raise OutputPathError unless `path` can be written as a file and is none of `inputs` nor
    of `others` (the run's other outputs). Returns the path."""
    path = str(path)
    if os.path.isdir(path):
        raise OutputPathError(path, f"{flag}: is a directory, not a file")
    for item in inputs:
        if item and same_file(path, item):
            raise OutputPathError(path, f"{flag}: is an input of this run ({item}); writing "
                                  "there would destroy it, choose another path")
    for label, other in others:
        if other and same_file(path, other):
            raise OutputPathError(path, f"{flag}: is also given as {label}")
    _check_not_in_preset(path, flag)
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise OutputPathError(path, f"{flag}: the file exists and is not writable")
    _check_parent(path, flag)
    return path


def check_dir(path, inputs=(), flag: str = "output directory") -> str:
    """Raise OutputPathError unless `path` is (or can be made) a writable directory that is none
    of `inputs`. Returns the path."""
    path = str(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputPathError(path, f"{flag}: is a file, not a directory")
    for item in inputs:
        if item and same_file(path, item):
            raise OutputPathError(path, f"{flag}: is an input of this run ({item}); choose "
                                  "another directory")
    _check_not_in_preset(path, flag)
    if os.path.isdir(path):
        _check_parent(os.path.join(path, "x"), flag)
    else:
        _check_parent(path, flag)
    return path


def files_in(folder) -> list[str]:
    """The files directly inside `folder` (none when it is not a directory): the inputs a run
    reads from a model or export directory, or a folder of frames."""
    if not folder or not os.path.isdir(folder):
        return []
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder))
            if os.path.isfile(os.path.join(folder, n))]
