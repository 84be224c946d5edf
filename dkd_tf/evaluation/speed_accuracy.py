"""Speed against accuracy (the paper's Fig. 4b): bench JSON files joined with pck.json rows.

A bench file (`python -m dkd_tf.bench --json`) names its model (`name`, the --model_dir's base
name unless --name was given); `python -m dkd_tf.evaluate --output_dir` writes pck.json with one
row per --names entry (or model dir base name). A point is one model found in both: x = its
stepper's GMACs (or milliseconds per stepper frame, or the mean per-frame GMACs over the bench's
video), y = its mean PCK at alpha 0.2 under the chosen normalization.
"""
from __future__ import annotations

import dataclasses
import json
import os

from dkd_tf.evaluation import metrics
from dkd_tf.evaluation.metrics import NORMS

X_AXES = {
    "gmacs": ("stepper GMACs per frame", lambda b: b["graphs"]["stepper"]["gmacs"]),
    "ms": ("stepper ms per frame", lambda b: b["graphs"]["stepper"]["latency"]["median_ms"]),
    "frame_gmacs": ("mean GMACs per frame over the video", lambda b: b["per_frame_gmacs"]),
}


@dataclasses.dataclass
class Point:
    name: str
    x: float
    pck: float
    bench_file: str


def _read_json(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a JSON file ({e})") from None


def read_bench(path) -> dict:
    doc = _read_json(path)
    if not isinstance(doc, dict) or "stepper" not in doc.get("graphs", {}):
        raise ValueError(f"{path}: not a `python -m dkd_tf.bench --json` file (no graphs.stepper)")
    return doc


def read_pck(paths) -> dict:
    """{row name: pck.json entry} merged over several pck.json files (later files win)."""
    rows = {}
    for path in paths:
        doc = _read_json(path)
        if not isinstance(doc, dict) or not all(isinstance(v, dict) and "person" in v
                                                for v in doc.values()):
            raise ValueError(f"{path}: not a `python -m dkd_tf.evaluate` pck.json (rows of "
                             "'person'/'torso' results)")
        rows.update(doc)
    return rows


def join(bench_paths, pck_rows: dict, x: str = "gmacs", norm: str = "person",
         names=None) -> list[Point]:
    """One Point per bench file; names (optional) replace the bench files' own model names."""
    if x not in X_AXES:
        raise ValueError(f"x axis {x!r}: choose one of {', '.join(X_AXES)}")
    if norm not in NORMS:
        raise ValueError(f"normalization {norm!r}: choose one of {', '.join(NORMS)}")
    if names and len(names) != len(bench_paths):
        raise ValueError(f"{len(names)} names for {len(bench_paths)} bench files")
    points = []
    for i, path in enumerate(bench_paths):
        doc = read_bench(path)
        name = names[i] if names else doc.get("name") or ""
        if name not in pck_rows:
            raise ValueError(f"{path}: model {name!r} has no row in the PCK files (rows: "
                             f"{', '.join(sorted(pck_rows)) or 'none'}); pass --names, or bench "
                             "with --name set to the row's name")
        points.append(Point(name, float(X_AXES[x][1](doc)), float(pck_rows[name][norm]["mean"]),
                            path))
    return points


def plot(points: list[Point], path, x: str = "gmacs", norm: str = "person") -> str:
    """A PNG scatter of PCK against cost, one labelled point per model (Agg canvas: the
    caller's matplotlib backend is untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for p in points:
        ax.scatter([p.x], [p.pck], s=40)
        ax.annotate(p.name, (p.x, p.pck), textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.set_xlabel(X_AXES[x][0])
    ax.set_ylabel(f"PCK@0.2 (%), {norm}-size normalization")
    ax.set_title("Speed versus accuracy")
    ax.grid(True, alpha=0.3)
    if points:
        ax.set_xlim(0, max(p.x for p in points) * 1.25)
    return metrics.save_png(fig, path)
