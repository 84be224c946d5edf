"""One writer per model directory: a lock file held while training writes the directory.

    with run_lock.hold(model_dir):     # RunLockError when another live process holds it
        ... write checkpoints, model.keras, config.json ...

Why: two trainings into one --model_dir interleaved their checkpoints (a seed-5 checkpoint beside
a seed-0 one, config.json saying seed 5), and a rerun then called the mixture "already trained".

The lock is `<model_dir>/train.lock`, a JSON record of the holder (pid, host, start time,
command line). It is created atomically with its content (written to a private file, then
hard-linked to the lock name, which fails when the name exists), so a lock is never seen empty.
A lock whose holder is on this host and no longer running (killed, crashed: its pid is gone, or
now belongs to a process that started later, per /proc/<pid>/stat) is stale: it is removed with
a message and the lock taken. A lock from another host cannot be
checked and is refused like a live one; the message says which file to delete if that host's run
is known to be dead. The lock is removed on release only while it is still this process's.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import sys

from absl import logging

LOCK_FILE = "train.lock"
_HELD = set()  # realpaths of the lock files this process holds


class RunLockError(ValueError):
    """A model directory another process is writing (or an unreadable lock file)."""

    def __init__(self, path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{self.path}: {problem}")


def lock_path(model_dir: str) -> str:
    return os.path.join(model_dir, LOCK_FILE)


def _start_ticks(pid: int) -> int | None:
    """When process pid started (clock ticks since boot; /proc/<pid>/stat field 22), or None
    where /proc cannot say: tells a reused pid from the lock's holder."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _record() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "start_ticks": _start_ticks(os.getpid()), "command": " ".join(sys.argv)}


def read(model_dir: str) -> dict | None:
    """The holder's record, or None when the directory is not locked."""
    path = lock_path(model_dir)
    try:
        with open(path) as f:
            holder = json.load(f)
        if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
            raise ValueError("no pid")
        return holder
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise RunLockError(path, f"unreadable lock file ({e}); if no training writes this "
                           "directory, delete the file") from None


def holder_alive(holder: dict) -> bool:
    """Whether the process a lock record (of this host) names still runs."""
    pid = holder["pid"]
    if pid <= 0 or pid == os.getpid():
        return False  # this process did not take it (see acquire): its holder is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    ticks, recorded = _start_ticks(pid), holder.get("start_ticks")
    return ticks is None or recorded is None or ticks == recorded


def describe(holder: dict) -> str:
    return (f"pid {holder.get('pid')} on host {holder.get('host')}, started "
            f"{holder.get('started')}")


def acquire(model_dir: str, log=None) -> dict:
    """Take the lock of model_dir (created if missing); returns this process's record.
    Raises RunLockError naming the holder when another live process has it."""
    log = log or logging.warning
    os.makedirs(model_dir, exist_ok=True)
    path = lock_path(model_dir)
    mine = _record()
    for _ in range(3):  # a stale lock removed, or one released meanwhile: try again
        private = f"{path}.{mine['pid']}.tmp"
        with open(private, "w") as f:
            json.dump(mine, f)
        try:
            os.link(private, path)
            _HELD.add(os.path.realpath(path))
            return mine
        except FileExistsError:
            pass
        finally:
            os.remove(private)
        holder = read(model_dir)
        if holder is None:
            continue
        if os.path.realpath(path) in _HELD:
            raise RunLockError(path, f"this process ({describe(holder)}) already holds it")
        if holder.get("host") != mine["host"]:
            raise RunLockError(path, f"locked by {describe(holder)} (another host; cannot "
                               "check whether it still runs): wait for that training, pass "
                               "another --model_dir, or delete the lock if that run is dead")
        if holder_alive(holder):
            raise RunLockError(path, f"another training is writing this directory: "
                               f"{describe(holder)}; wait for it or pass another --model_dir")
        log(f"{path}: removed a stale lock of {describe(holder)} (that process is gone)")
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    raise RunLockError(path, "could not take the lock (it keeps changing hands)")


def release(model_dir: str, mine: dict) -> None:
    """Remove the lock if it is still the one `mine` (acquire's record) describes."""
    _HELD.discard(os.path.realpath(lock_path(model_dir)))
    try:
        holder = read(model_dir)
    except RunLockError:
        return
    if holder and holder.get("pid") == mine["pid"] and holder.get("host") == mine["host"]:
        with contextlib.suppress(FileNotFoundError):
            os.remove(lock_path(model_dir))


@contextlib.contextmanager
def hold(model_dir: str, log=None):
    """The lock of model_dir for the duration of the block (released on any exit)."""
    mine = acquire(model_dir, log)
    try:
        yield mine
    finally:
        release(model_dir, mine)
