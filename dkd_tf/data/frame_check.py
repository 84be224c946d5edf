"""Check every frame of the selected videos before a model is built, and report all bad ones.

Training decodes frames inside the tf.data pipeline; a corrupt file found there surfaces as a
long TensorFlow error after minutes of model building. `check_frames` decodes every frame of the
given records up front, in parallel threads (OpenCV releases the GIL while decoding), checks that
the frames of a video share one size, and raises one DatasetError listing every problem. Frames
that decoded once are remembered in a cache file (keyed by path, size and modification time), so
a rerun only decodes new or changed files.
"""
from __future__ import annotations

import concurrent.futures
import json
import os

from dkd_tf.data.frames import load_frame
from dkd_tf.data.records import DatasetError

CACHE_FILE = "frame_check.json"
CACHE_VERSION = 1
MAX_LISTED = 200  # problems listed in the error; the count covers them all


def _stat_key(path):
    st = os.stat(path)
    return [int(st.st_size), int(st.st_mtime_ns)]


def _decode(path):
    """-> ((h, w), None) or (None, problem)."""
    try:
        image = load_frame(path)
    except DatasetError as e:
        return None, e.problem
    return (int(image.shape[0]), int(image.shape[1])), None


def _read_cache(path) -> dict:
    if not path or not os.path.isfile(path):
        return {}
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != CACHE_VERSION:
        return {}
    frames = doc.get("frames")
    return frames if isinstance(frames, dict) else {}


def _write_cache(path, frames: dict) -> None:
    if not path:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"version": CACHE_VERSION, "frames": frames}, f)
    os.replace(tmp, path)


def check_frames(records, data_dir: str, cache_path: str | None = None,
                 workers: int | None = None) -> int:
    """Decode every frame of `records` (VideoRecords); raise DatasetError(data_dir, ...) listing
    every missing, empty, undecodable or wrongly sized frame. Returns the number of frames.

    cache_path: JSON file remembering the frames that decoded (their size and mtime), so a
    second run over the same files decodes nothing."""
    paths = list(dict.fromkeys(os.fspath(p) for rec in records for p in rec.frame_paths))
    cache = _read_cache(cache_path)
    sizes, problems = {}, {}
    todo = []
    for path in paths:
        try:
            key = _stat_key(path)
        except OSError:
            problems[path] = "frame file is missing"
            continue
        entry = cache.get(path)
        if isinstance(entry, list) and len(entry) == 4 and entry[:2] == key:
            sizes[path] = (entry[2], entry[3])
        else:
            todo.append((path, key))
    if todo:
        workers = workers or min(32, (os.cpu_count() or 1) * 2)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for (path, key), (size, problem) in zip(todo, pool.map(_decode, [p for p, _ in todo])):
                if problem:
                    problems[path] = problem
                else:
                    sizes[path] = size
                    cache[path] = key + list(size)
    for rec in records:
        first = None
        for path in map(os.fspath, rec.frame_paths):
            size = sizes.get(path)
            if size is None:
                continue
            if first is None:
                first = (path, size)
            elif size != first[1] and path not in problems:
                problems[path] = (f"frame is {size[0]}x{size[1]}, the first frame of video "
                                  f"{rec.video_id} is {first[1][0]}x{first[1][1]} (the frames of "
                                  "a clip must share one size)")
    if cache_path and todo:
        _write_cache(cache_path, {p: v for p, v in cache.items() if p not in problems})
    if problems:
        listed = sorted(problems.items())
        lines = [f"  {p}: {why}" for p, why in listed[:MAX_LISTED]]
        if len(listed) > MAX_LISTED:
            lines.append(f"  ... and {len(listed) - MAX_LISTED} more")
        raise DatasetError(data_dir, f"{len(problems)} of {len(paths)} frames of the selected "
                                     "videos cannot be used (fix or remove them; nothing was "
                                     "trained):\n" + "\n".join(lines))
    return len(paths)
