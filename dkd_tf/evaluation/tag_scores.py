"""PCK per situation tag of the synthetic set (dkd_tf.data.tags): where a model wins or loses.

For each tag (and 'clean', the frames / joints carrying none) the model's PCK accumulator is
restricted to the visible joints the tag covers (PCKAccumulator.restricted) and scored as the
main table is (alpha 0.2, both normalizations, mean over joints). With several models, pairs
(a, b) are compared per tag by metrics.paired_bootstrap over the test videos, as a - b: by
default the first model minus each other one (dkd_tf.evaluate's order); the ablation table asks
for each row minus the Baseline, the sign of its PCK table.

Layout of the result (stored as pck.json's per-model "by_tag"):
    {tag: {"frames": frames with a tagged visible joint, "instances": visible joints scored,
           "person": mean PCK, "torso": mean PCK, "groups": {norm: {group: PCK}},
           "minus": {other: {norm: {difference (this - other), low, high,
                                    share_not_ahead, ...}}}}}   # only on a pair's first model
"""
from __future__ import annotations

import math

import numpy as np

from dkd_tf.evaluation import metrics
from dkd_tf.data import tags as tags_lib

TAGS = tags_lib.TAG_NAMES + (tags_lib.CLEAN,)


def tag_masks(video_tags: list) -> dict:
    """{tag: [bool [T, K] per video]} from VideoTags in the accumulators' video order."""
    per_video = [vt.masks() for vt in video_tags]
    return {tag: [m[tag] for m in per_video] for tag in TAGS}


def score_by_tag(accumulators: dict, video_tags: list, samples: int = 1000,
                 alpha: float = metrics.DEFAULT_ALPHA, pairs=None) -> dict:
    """{model name: {tag: entry}} (module docstring); accumulators: {name: PCKAccumulator} over
    the same videos in the same order as video_tags; pairs: [(a, b)] scored as a - b (None:
    the first model minus each other one)."""
    masks = tag_masks(video_tags)
    names = list(accumulators)
    if pairs is None:
        pairs = [(names[0], n) for n in names[1:]]
    out = {n: {} for n in names}
    for tag in TAGS:
        restricted = {n: accumulators[n].restricted(masks[tag]) for n in names}
        for n in names:
            acc = restricted[n]
            vis = np.concatenate(acc._visible) if acc.num_videos else np.zeros((0, 0), bool)
            entry = {"frames": int(vis.any(axis=1).sum()), "instances": int(vis.sum())}
            groups = {}
            for norm in metrics.NORMS:
                res = acc.result(alpha, norm)
                entry[norm] = res["mean"]
                groups[norm] = res["groups"]
            entry["groups"] = groups
            out[n][tag] = entry
        for a, b in pairs:
            cmp_ = {}
            for norm in metrics.NORMS:
                if out[a][tag]["instances"] and samples:
                    cmp_[norm] = metrics.paired_bootstrap(restricted[a], restricted[b], norm,
                                                          alpha, samples)
                else:
                    cmp_[norm] = None
            out[a][tag].setdefault("minus", {})[b] = cmp_
    return metrics._json_safe(out)


def _pairs(by_tag: dict) -> list:
    """[(a, b)] of the comparisons a score_by_tag result holds, in model order."""
    first_tag = TAGS[0]
    return [(a, b) for a in by_tag for b in by_tag[a][first_tag].get("minus", {})]


def _f(v, fmt="{:.1f}") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def format_table(by_tag: dict, alpha: float = metrics.DEFAULT_ALPHA) -> str:
    """One section per normalization: a row per tag, a column per model, then each compared
    pair a - b with its 95 % interval."""
    names = list(by_tag)
    first = names[0]
    pairs = _pairs(by_tag)
    tag_w = max(len("Tag"), *(len(t) for t in TAGS))
    col_w = max(6, *(len(str(n)) for n in names))
    sections = []
    for norm in metrics.NORMS:
        head = ["Tag".ljust(tag_w), "frames".rjust(6), "joints".rjust(7)]
        head += [str(n).rjust(col_w) for n in names]
        head += [f"{a} - {b} (95 % interval)" for a, b in pairs]
        lines = [f"PCK@{alpha:g} by situation tag, normalized by {norm} size (visible joints "
                 f"of the frames / joints carrying the tag)", "  ".join(head)]
        for tag in TAGS:
            e0 = by_tag[first][tag]
            row = [tag.ljust(tag_w), str(e0["frames"]).rjust(6), str(e0["instances"]).rjust(7)]
            row += [_f(by_tag[n][tag][norm]).rjust(col_w) for n in names]
            for a, b in pairs:
                c = by_tag[a][tag]["minus"][b].get(norm)
                row.append("-" if not c or c["difference"] is None else
                           f"{c['difference']:+.1f} ({_f(c['low'], '{:+.1f}')} to "
                           f"{_f(c['high'], '{:+.1f}')})")
            lines.append("  ".join(row))
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


PLOT_FILE = "pck_by_tag.png"


def plot_by_tag(by_tag: dict, path) -> str:
    """Grouped bars: PCK per tag (x), one bar per model, a panel per normalization."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(by_tag)
    fig = Figure(figsize=(12, 7))
    FigureCanvasAgg(fig)
    x = np.arange(len(TAGS))
    width = 0.8 / max(len(names), 1)
    for ax, norm in zip(fig.subplots(2, 1), metrics.NORMS):
        for i, n in enumerate(names):
            vals = [by_tag[n][t][norm] for t in TAGS]
            vals = [math.nan if v is None else v for v in vals]
            ax.bar(x - 0.4 + width * (i + 0.5), vals, width, label=str(n))
        ax.set_xticks(x)
        ax.set_xticklabels([f"{t}\n({by_tag[names[0]][t]['frames']} fr.)" for t in TAGS],
                           fontsize=8)
        ax.set_ylabel(f"PCK@0.2, {norm} (%)")
        ax.set_ylim(0, 100)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    return metrics.save_png(fig, path)
