"""PCK, the paper's evaluation protocol (sec. 4.1), in plain numpy.

A joint is correct when its predicted position lies within alpha * L pixels of the ground truth
(distance <= alpha * L). Two reference distances L are used:
  - 'person': max(H, W) of the person box (the convention of [20, 25]);
  - 'torso':  the ground-truth distance between the joint set's torso pair, or the predicted one
              where the ground-truth torso is shorter than 1 px (a degenerate label would otherwise
              make every prediction a miss).
Hits are pooled per joint over all frames of all videos; only visible joints count. Per-joint PCK
is hits / visible instances; a group (Head, Sho., ... Ank.) is the mean of its evaluated joints'
PCKs (left and right weigh the same, as in the MPII protocol); 'mean' is the mean over evaluated
joints (joints never visible are left out). All PCK values are percentages (0..100), the unit of
the paper's tables. Sub-JHMDB's three splits are scored separately and their numbers averaged
(mean_over_splits), never pooled.

Also here: the keypoint-prediction files used by `--predictions` (.npz / .json).
"""
from __future__ import annotations

import json
import math
import os
import zipfile

import numpy as np

from dkd_tf.core import joints as joints_lib
from dkd_tf.data.records import DatasetError

NORMS = ("person", "torso")
DEFAULT_ALPHA = 0.2
# Fig. 4a: alpha from 0 to 0.2 with step 0.01 (21 points). Rounded so the values print cleanly.
CURVE_ALPHAS = tuple(round(0.01 * i, 2) for i in range(21))


def person_size(bboxes) -> np.ndarray:
    """max(x2 - x1, y2 - y1) of (x1, y1, x2, y2) boxes: [N, 4] -> [N]."""
    b = np.asarray(bboxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"bboxes must have shape [N, 4], got {b.shape}")
    return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])


def torso_size(gt, pred, joint_set) -> np.ndarray:
    """Per-frame torso length [N] from gt [N, K, 2]; the predicted torso where gt's is < 1 px."""
    js = _joint_set(joint_set)
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    a, b = js.torso
    gt_len = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
    with np.errstate(invalid="ignore"):  # inf - inf: a non-finite prediction's NaN, a miss
        pred_len = np.linalg.norm(pred[:, a] - pred[:, b], axis=-1)
    return np.where(gt_len < 1.0, pred_len, gt_len)


def _joint_set(joint_set) -> joints_lib.JointSet:
    return joint_set if isinstance(joint_set, joints_lib.JointSet) else joints_lib.get(joint_set)


def _nanmean(values) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


def _hit_counts(dist, vis, ref, alphas) -> np.ndarray:
    """Visible instances within alpha x the reference size, per alpha and joint [A, K]:
    dist, vis [N, K], ref [N]."""
    alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
    hits = dist[None] <= alphas[:, None, None] * ref[None, :, None]   # [A, N, K]
    return (hits & vis[None]).sum(axis=1)


def _pck(hits, counts) -> np.ndarray:
    """PCK in percent from hits and visible counts (NaN where nothing was visible)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, 100.0 * hits / np.maximum(counts, 1), np.nan)


class PCKAccumulator:
    """Collects per-frame joint distances and reference sizes over videos; PCK at any alpha.

    Storing distances (not hits) lets one pass over the test set give both normalizations and the
    whole PCK-alpha curve.
    """

    def __init__(self, joint_set):
        self.joint_set = _joint_set(joint_set)
        self._dist = []      # [T, K] per video
        self._visible = []   # [T, K] bool
        self._person = []    # [T]
        self._torso = []     # [T]
        self.num_videos = 0

    # ------------------------------------------------------------------ accumulation
    def add(self, pred, gt, visible, bboxes) -> None:
        """Add one video: pred, gt [T, K, 2] (x, y pixels), visible [T, K], bboxes [T, 4]."""
        pred = np.asarray(pred, dtype=np.float64)
        gt = np.asarray(gt, dtype=np.float64)
        visible = np.asarray(visible)
        bboxes = np.asarray(bboxes, dtype=np.float64)
        k = self.joint_set.num_joints
        if gt.ndim != 3 or gt.shape[1:] != (k, 2):
            raise ValueError(f"gt must have shape [T, {k}, 2] for joint set "
                             f"{self.joint_set.name!r}, got {gt.shape}")
        t = gt.shape[0]
        if pred.shape != gt.shape:
            raise ValueError(f"pred has shape {pred.shape}, gt has {gt.shape}")
        if visible.shape != (t, k):
            raise ValueError(f"visible must have shape {(t, k)}, got {visible.shape}")
        if bboxes.shape != (t, 4):
            raise ValueError(f"bboxes must have shape {(t, 4)}, got {bboxes.shape}")
        dist = np.linalg.norm(pred - gt, axis=-1)
        # A NaN/inf prediction is a miss, never a hit.
        dist = np.where(np.isfinite(dist), dist, np.inf)
        self._dist.append(dist)
        self._visible.append(visible > 0)
        self._person.append(person_size(bboxes))
        self._torso.append(torso_size(gt, pred, self.joint_set))
        self.num_videos += 1

    def add_record(self, record, pred) -> None:
        """Add a VideoRecord with its predictions [T, K, 2]."""
        if record.joint_set != self.joint_set.name:
            raise ValueError(f"video {record.video_id!r} is labelled with joint set "
                             f"{record.joint_set!r}, accumulator uses {self.joint_set.name!r}")
        self.add(pred, record.joints, record.visibility, record.bboxes)

    @property
    def num_frames(self) -> int:
        return int(sum(d.shape[0] for d in self._dist))

    def _references(self, norm) -> list:
        """The reference sizes [T] of each video for a normalization."""
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        return self._person if norm == "person" else self._torso

    def _stacked(self, norm):
        ref = self._references(norm)
        k = self.joint_set.num_joints
        if not self._dist:
            return np.zeros((0, k)), np.zeros((0, k), bool), np.zeros((0,))
        return (np.concatenate(self._dist), np.concatenate(self._visible), np.concatenate(ref))

    # ------------------------------------------------------------------ results
    def _per_joint(self, alphas, norm) -> tuple[np.ndarray, np.ndarray]:
        """PCK [A, K] in percent (NaN for joints never visible) and visible counts [K]."""
        dist, vis, ref = self._stacked(norm)
        counts = vis.sum(axis=0)
        return _pck(_hit_counts(dist, vis, ref, alphas), counts), counts

    def result(self, alpha: float = DEFAULT_ALPHA, norm: str = "person", joints=None) -> dict:
        """PCK at one alpha: {'alpha', 'norm', 'joints': {evaluated joint name: pck},
        'groups': {group: pck}, 'mean': pck, 'counts': {evaluated joint name: visible instances}};
        percentages, NaN where undefined (no visible instance). 'mean' is over `joints`
        (indices, e.g. limb_joints), by default the evaluated ones."""
        js = self.joint_set
        pck, counts = self._per_joint([alpha], norm)
        pck = pck[0]
        evaluated = set(js.evaluated)
        groups = {g: _nanmean([pck[i] for i in members if i in evaluated])
                  for g, members in js.groups.items()}
        return {
            "alpha": float(alpha),
            "norm": norm,
            "joints": {js.names[i]: float(pck[i]) for i in js.evaluated},
            "groups": groups,
            "mean": _nanmean(pck[list(js.evaluated if joints is None else joints)]),
            "counts": {js.names[i]: int(counts[i]) for i in js.evaluated},
        }

    def video_hits(self, alpha: float, norm: str) -> tuple[np.ndarray, np.ndarray]:
        """Per video and joint, the visible instances within alpha x the reference size, and the
        visible instances: two int arrays [V, K]. PCK of any multiset of videos is the ratio of
        their sums, so a bootstrap needs these once, not one accumulator per draw."""
        refs = self._references(norm)
        k = self.joint_set.num_joints
        hits, counts = np.zeros((self.num_videos, k), np.int64), np.zeros((self.num_videos, k),
                                                                          np.int64)
        for i, (dist, vis, ref) in enumerate(zip(self._dist, self._visible, refs)):
            hits[i] = _hit_counts(dist, vis, ref, [alpha])[0]
            counts[i] = vis.sum(axis=0)
        return hits, counts

    def video_frames(self) -> list[int]:
        """Frames of each added video, in the order added."""
        return [int(d.shape[0]) for d in self._dist]

    def subset(self, videos) -> "PCKAccumulator":
        """An accumulator of the given videos (indices in the order added; repeats allowed)."""
        out = PCKAccumulator(self.joint_set)
        for i in videos:
            out._dist.append(self._dist[i])
            out._visible.append(self._visible[i])
            out._person.append(self._person[i])
            out._torso.append(self._torso[i])
        out.num_videos = len(out._dist)
        return out

    def restricted(self, masks) -> "PCKAccumulator":
        """The same videos, where only the joints of masks[i] (bool [T, K], one per video in
        the order added) count: PCK on the frames / joints carrying a situation tag."""
        masks = list(masks)
        if len(masks) != self.num_videos:
            raise ValueError(f"need one mask per video: {self.num_videos} videos, "
                             f"{len(masks)} masks")
        out = self.subset(range(self.num_videos))
        for i, m in enumerate(masks):
            m = np.asarray(m, bool)
            if m.shape != out._visible[i].shape:
                raise ValueError(f"video {i}: mask has shape {m.shape}, the video "
                                 f"{out._visible[i].shape}")
            out._visible[i] = out._visible[i] & m
        return out

    def curve(self, alphas=CURVE_ALPHAS, norm: str = "person") -> np.ndarray:
        """Mean PCK (percent) over evaluated joints at each alpha: [len(alphas)]."""
        pck, _ = self._per_joint(alphas, norm)
        ev = pck[:, list(self.joint_set.evaluated)]
        return np.array([_nanmean(row) for row in ev])

    def to_json(self) -> dict:
        """Every number: both norms at alpha 0.2 and both PCK-alpha curves (NaN -> null)."""
        out = {
            "joint_set": self.joint_set.name,
            "num_videos": self.num_videos,
            "num_frames": self.num_frames,
            "alpha": DEFAULT_ALPHA,
            "curves": {"alphas": list(CURVE_ALPHAS)},
        }
        for norm in NORMS:
            out[norm] = self.result(DEFAULT_ALPHA, norm)
            out["curves"][norm] = [float(v) for v in self.curve(CURVE_ALPHAS, norm)]
        return _json_safe(out)


NONFINITE = ("refuse", "miss")


def nonfinite_predictions(records, predictions: dict) -> list[tuple]:
    """[(record, frame index, joint indices)] of every frame with a NaN/inf keypoint."""
    out = []
    for rec in records:
        p = np.asarray(predictions[rec.video_id], dtype=np.float64)
        bad = ~np.isfinite(p).all(axis=-1) if p.ndim == 3 else ~np.isfinite(p)
        for t in np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1)):
            out.append((rec, int(t), np.flatnonzero(bad[t]).tolist()))
    return out


def check_finite(records, predictions: dict, source, nonfinite: str = "refuse",
                 warn=None) -> int:
    """Refuse NaN/inf keypoints (DatasetError naming `source`, the video and the frame), or with
    nonfinite='miss' count them as misses after a warning that says how many. Returns the
    number of NaN/inf keypoints."""
    if nonfinite not in NONFINITE:
        raise ValueError(f"nonfinite must be one of {NONFINITE}, got {nonfinite!r}")
    bad = nonfinite_predictions(records, predictions)
    if not bad:
        return 0
    n_kp = sum(len(j) for _, _, j in bad)
    videos = sorted({rec.video_id for rec, _, _ in bad})
    what = (f"{n_kp} predicted keypoints in {len(bad)} frames of {len(videos)} video(s) are "
            f"NaN/inf")
    if nonfinite == "miss":
        (warn or _warn)(f"warning: {source}: {what}; they are scored as misses "
                        "(--nonfinite_as_miss)")
        return n_kp
    rec, t, joints = bad[0]
    frame = os.path.basename(str(rec.frame_paths[t])) if t < len(rec.frame_paths) else ""
    raise DatasetError(source, f"{what}, the first in video {rec.video_id} frame {t + 1}"
                               + (f" ({frame})" if frame else "")
                               + f", joint(s) {joints}; refusing to score them (pass "
                                 "--nonfinite_as_miss to count them as misses)")


def _warn(text):
    import sys
    print(text, file=sys.stderr, flush=True)


def score_records(joint_set, records, predictions: dict, nonfinite: str = "refuse",
                  source="predictions", warn=None) -> PCKAccumulator:
    """An accumulator of every record with its keypoints predictions[record.video_id].

    NaN/inf keypoints are refused (DatasetError naming `source`, video and frame) unless
    nonfinite='miss', which scores them as misses after a warning with their count."""
    check_finite(records, predictions, source, nonfinite, warn)
    acc = PCKAccumulator(joint_set)
    for rec in records:
        acc.add_record(rec, predictions[rec.video_id])
    return acc


def jitter(records, predictions: dict) -> dict:
    """How much keypoints shake: the acceleration |p[t+1] - 2 p[t] + p[t-1]| of every joint
    labelled visible in the three frames, as a percentage of the person size at t.

    A keypoint moving at constant speed has none, so what remains is frame-to-frame noise (and
    real acceleration, which is the same for every model on the same frames). Returns
    {'median', 'p90', 'count'}; NaN where no joint qualifies."""
    values = []
    for rec in records:
        p = np.asarray(predictions[rec.video_id], np.float64)
        if len(p) < 3:
            continue
        acc = np.linalg.norm(p[2:] - 2.0 * p[1:-1] + p[:-2], axis=-1)  # [T-2, K]
        vis = (rec.visibility[2:] > 0) & (rec.visibility[1:-1] > 0) & (rec.visibility[:-2] > 0)
        size = np.maximum(person_size(rec.bboxes[1:-1]), 1.0)[:, None]
        values.append((100.0 * acc / size)[vis])
    v = np.concatenate(values) if values else np.zeros(0)
    if not v.size:
        return {"median": math.nan, "p90": math.nan, "count": 0}
    return {"median": float(np.median(v)), "p90": float(np.percentile(v, 90)),
            "count": int(v.size)}


def limb_joints(joint_set) -> list[int]:
    """The evaluated joints outside the Head group. The head is where label sources differ on
    what is marked: LSP and Penn Action label the head top, COCO models (MoveNet, BlazePose) a
    nose, a tenth of the person apart; so a model is compared with those of the other
    convention on its limbs (and torso) alone."""
    head = set(joint_set.groups.get("Head", ()))
    return [i for i in joint_set.evaluated if i not in head]


def _drawn_mean_pck(multiplicity, hits, counts, joints) -> np.ndarray:
    """Mean PCK [S] over `joints` (indices; PCKAccumulator.result's 'mean' for the evaluated
    ones) of each draw's videos."""
    pck = _pck(multiplicity @ hits, multiplicity @ counts)[:, list(joints)]
    defined = ~np.isnan(pck)
    return np.where(defined.any(axis=1),
                    np.nansum(pck, axis=1) / np.maximum(defined.sum(axis=1), 1), np.nan)


def paired_bootstrap(a: PCKAccumulator, b: PCKAccumulator, norm: str = "person",
                     alpha: float = DEFAULT_ALPHA, samples: int = 1000, seed: int = 0,
                     joints=None) -> dict:
    """Mean PCK of a minus that of b, with a 95 % interval from resampling the test videos;
    over `joints` (indices, e.g. limb_joints) or, by default, the joint set's evaluated ones.

    Videos, not frames, are drawn with replacement (frames of one video are strongly
    correlated), and the same draw scores both models: they predicted the same videos, which
    must have been added in the same order. Returns {'difference', 'low', 'high',
    'share_not_ahead' (fraction of draws where a is not ahead), 'videos', 'samples', 'norm',
    'alpha'}."""
    if a.video_frames() != b.video_frames():
        raise ValueError("paired bootstrap needs the same test videos, in the same order, in "
                         "both accumulators")
    if a.num_videos == 0:
        raise ValueError("paired bootstrap needs at least one video")
    rng = np.random.default_rng(seed)
    v = a.num_videos
    # Each draw as video multiplicities [S, V]: its hits and counts per joint are sums over
    # the drawn videos, the same numbers result() gives on the drawn subset.
    multiplicity = np.stack([np.bincount(rng.integers(0, v, v), minlength=v)
                             for _ in range(samples)])
    joints = list(a.joint_set.evaluated if joints is None else joints)
    hits_a, hits_b = a.video_hits(alpha, norm), b.video_hits(alpha, norm)
    diffs = (_drawn_mean_pck(multiplicity, *hits_a, joints)
             - _drawn_mean_pck(multiplicity, *hits_b, joints))
    diffs = diffs[np.isfinite(diffs)]
    low, high = np.percentile(diffs, [2.5, 97.5]) if diffs.size else (math.nan, math.nan)
    return {"difference": a.result(alpha, norm, joints)["mean"]
                          - b.result(alpha, norm, joints)["mean"],
            "low": float(low), "high": float(high),
            "share_not_ahead": float(np.mean(diffs <= 0)) if diffs.size else math.nan,
            "videos": a.num_videos, "samples": samples, "norm": norm, "alpha": float(alpha)}


def format_comparison(name_a: str, name_b: str, a: PCKAccumulator, b: PCKAccumulator,
                      samples: int = 1000) -> str:
    """Lines 'a - b' per normalization with the paired-bootstrap interval."""
    return format_bootstraps(name_a, name_b, [paired_bootstrap(a, b, norm, samples=samples)
                                              for norm in NORMS])


def format_bootstraps(name_a: str, name_b: str, results) -> str:
    """One line 'a - b' per paired_bootstrap result."""
    return "\n".join(
        f"{name_a} - {name_b}, PCK@{r['alpha']:g} by {r['norm']} size: "
        f"{r['difference']:+.1f} points (95 % interval {r['low']:+.1f} to "
        f"{r['high']:+.1f}; paired bootstrap over {r['videos']} videos, "
        f"{name_a} not ahead in {100 * r['share_not_ahead']:.0f} % of draws)" for r in results)


def mean_over_splits(docs) -> dict:
    """Average PCKAccumulator.to_json() documents, one per data set split, into one document.

    The Sub-JHMDB protocol reports the mean of the three splits' PCK, not the PCK of their pooled
    frames: every PCK number (per joint, per group, 'mean', each point of both curves) is the
    mean over the documents, leaving out splits where it is undefined (null); 'counts',
    'num_videos' and 'num_frames' are summed. Documents must share the joint set and alpha.
    """
    docs = list(docs)
    if not docs:
        raise ValueError("mean_over_splits needs at least one result")
    first = docs[0]
    for d in docs[1:]:
        if (d["joint_set"], d["alpha"], d["curves"]["alphas"]) != (
                first["joint_set"], first["alpha"], first["curves"]["alphas"]):
            raise ValueError("cannot average results of different joint sets or alphas")

    def mean(values):
        return _nanmean([math.nan if v is None else v for v in values])

    out = {
        "joint_set": first["joint_set"],
        "num_videos": sum(d["num_videos"] for d in docs),
        "num_frames": sum(d["num_frames"] for d in docs),
        "alpha": first["alpha"],
        "curves": {"alphas": list(first["curves"]["alphas"])},
    }
    for norm in NORMS:
        res = [d[norm] for d in docs]
        out[norm] = {
            "alpha": first[norm]["alpha"],
            "norm": norm,
            "joints": {j: mean(r["joints"][j] for r in res) for j in res[0]["joints"]},
            "groups": {g: mean(r["groups"][g] for r in res) for g in res[0]["groups"]},
            "mean": mean(r["mean"] for r in res),
            "counts": {j: sum(r["counts"][j] for r in res) for j in res[0]["counts"]},
        }
        out["curves"][norm] = [mean(points) for points in
                               zip(*(d["curves"][norm] for d in docs))]
    return _json_safe(out)


def _json_safe(obj):
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ---------------------------------------------------------------------- tables and plots
def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1f}"


def format_table(results: dict, title: str | None = None) -> str:
    """The paper's Tables 3/4 layout: one row per model, Head ... Ank. and PCK (percent, 1 dp).

    results: {model name: PCKAccumulator.result(...) dict}, printed in the dict's order.
    """
    cols = list(joints_lib.GROUP_NAMES) + ["PCK"]
    name_w = max([len("Methods")] + [len(str(n)) for n in results])
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(["Methods".ljust(name_w)] + [c.rjust(5) for c in cols]))
    for name, res in results.items():
        vals = [res["groups"].get(g, float("nan")) for g in joints_lib.GROUP_NAMES]
        vals.append(res["mean"])
        lines.append("  ".join([str(name).ljust(name_w)] + [_fmt(v).rjust(5) for v in vals]))
    return "\n".join(lines)


def _result_of(item, alpha, norm) -> dict:
    """A PCKAccumulator's result, or the stored one of a to_json()/mean_over_splits document."""
    if isinstance(item, PCKAccumulator):
        return item.result(alpha, norm)
    if not math.isclose(alpha, item["alpha"]):
        raise ValueError(f"a stored result has alpha {item['alpha']}, not {alpha}")
    return {**item[norm], "groups": {g: math.nan if v is None else v
                                     for g, v in item[norm]["groups"].items()},
            "mean": math.nan if item[norm]["mean"] is None else item[norm]["mean"]}


def _curve_of(item, alphas, norm) -> np.ndarray:
    if isinstance(item, PCKAccumulator):
        return item.curve(alphas, norm)
    if not np.allclose(alphas, item["curves"]["alphas"]):
        raise ValueError("a stored result holds its curve at other alphas")
    return np.array([math.nan if v is None else v for v in item["curves"][norm]])


def format_paper_table(accumulators: dict, alpha: float = DEFAULT_ALPHA) -> str:
    """Both sections of Table 3/4: normalized by person size, then by torso size.

    accumulators: {model name: PCKAccumulator, or a document of PCKAccumulator.to_json() /
    mean_over_splits (these hold alpha = DEFAULT_ALPHA only)}.
    """
    sections = []
    for norm, title in (("person", "Normalized by Person Size"),
                        ("torso", "Normalized by Torso Size")):
        res = {name: _result_of(acc, alpha, norm) for name, acc in accumulators.items()}
        sections.append(format_table(res, f"{title} (alpha={alpha:g})"))
    return "\n\n".join(sections)


def plot_curves(accumulators: dict, path, alphas=CURVE_ALPHAS) -> None:
    """Write a PNG of mean PCK vs alpha (Fig. 4a), one panel per normalization.

    accumulators: as in format_paper_table (documents hold the curve at CURVE_ALPHAS only).

    Uses the Agg canvas directly so the global matplotlib backend of the caller is untouched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    for ax, norm, title in zip(fig.subplots(1, 2), NORMS,
                               ("Normalized by person size", "Normalized by torso size")):
        for name, acc in accumulators.items():
            ax.plot(alphas, _curve_of(acc, alphas, norm), marker="o", markersize=3, label=str(name))
        ax.set_title(title)
        ax.set_xlabel("alpha")
        ax.set_ylabel("PCK (%)")
        ax.set_xlim(min(alphas), max(alphas))
        ax.set_ylim(0, 100)
        ax.grid(True, alpha=0.3)
        if accumulators:
            ax.legend(loc="lower right")
    save_png(fig, path)


def save_png(fig, path) -> str:
    """Lay out and write a matplotlib Figure as PNG, creating its folder; returns the path."""
    fig.tight_layout()
    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path


REPORT_FILES = ("pck.json", "pck_curve.png")


def write_report(results: dict, output_dir) -> list[str]:
    """pck.json (every number of every row) and pck_curve.png (Fig. 4a) in output_dir.

    results: row name -> PCKAccumulator or its to_json() document. Returns the two paths."""
    os.makedirs(output_dir, exist_ok=True)
    docs = {name: item.to_json() if isinstance(item, PCKAccumulator) else item
            for name, item in results.items()}
    json_path, png_path = (os.path.join(output_dir, f) for f in REPORT_FILES)
    with open(json_path, "w") as f:
        json.dump(docs, f, indent=2)
    plot_curves(results, png_path)
    return [json_path, png_path]


# ---------------------------------------------------------------------- prediction files
_NPZ_NAME_KEY = "joint_set"


def _check_array(path, video_id, arr, num_joints=None) -> np.ndarray:
    try:
        a = np.asarray(arr, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise DatasetError(path, f"video {video_id!r}: predictions are not a numeric "
                                 f"[T, K, 2] array ({e})") from None
    if a.ndim != 3 or a.shape[2] != 2 or a.shape[0] == 0:
        raise DatasetError(path, f"video {video_id!r}: predictions have shape {a.shape}, "
                                 f"expected [T, K, 2]")
    if num_joints is not None and a.shape[1] != num_joints:
        raise DatasetError(path, f"video {video_id!r}: predictions have {a.shape[1]} joints, "
                                 f"the joint set has {num_joints}")
    return a


def save_predictions(path, predictions: dict, joint_set_name: str) -> None:
    """Write {video_id: pred [T, K, 2]} as .npz (one array per video) or .json."""
    path = os.fspath(path)
    js = joints_lib.get(joint_set_name)
    arrays = {str(v): _check_array(path, v, p, js.num_joints) for v, p in predictions.items()}
    ext = os.path.splitext(path)[1].lower()
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    if ext == ".npz":
        if _NPZ_NAME_KEY in arrays:
            raise ValueError(f"{path}: video id {_NPZ_NAME_KEY!r} clashes with the .npz key "
                             f"that stores the joint set name")
        # Written like np.savez, but any video id is a valid key (np.savez's own keyword
        # arguments 'file' and 'allow_pickle' would clash with ids of those names).
        entries = {_NPZ_NAME_KEY: np.array(js.name), **arrays}
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for key, arr in entries.items():
                with zf.open(key + ".npy", "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)
    elif ext == ".json":
        doc = {"joint_set": js.name, "videos": {v: a.tolist() for v, a in arrays.items()}}
        with open(path, "w") as f:
            json.dump(doc, f)
    else:
        raise ValueError(f"{path}: predictions file must end in .npz or .json, got {ext!r}")


def load_predictions(path) -> tuple[str, dict]:
    """Read a file written by save_predictions -> (joint_set_name, {video_id: float32 [T,K,2]})."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DatasetError(path, "predictions file does not exist")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files}
        except Exception as e:  # zipfile/pickle/format errors all mean the same: unreadable
            raise DatasetError(path, f"cannot read .npz predictions ({type(e).__name__}: {e})"
                               ) from None
        if _NPZ_NAME_KEY not in raw:
            raise DatasetError(path, f"missing the {_NPZ_NAME_KEY!r} entry naming the joint set")
        name = str(raw.pop(_NPZ_NAME_KEY))
        videos = raw
    elif ext == ".json":
        try:
            with open(path) as f:
                doc = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DatasetError(path, f"malformed JSON ({e})") from None
        if not isinstance(doc, dict) or "joint_set" not in doc or not isinstance(
                doc.get("videos"), dict):
            raise DatasetError(path, 'expected {"joint_set": name, "videos": {video_id: '
                                     '[[[x, y], ...], ...]}}')
        name = str(doc["joint_set"])
        videos = doc["videos"]
    else:
        raise DatasetError(path, f"predictions file must end in .npz or .json, got {ext!r}")
    try:
        js = joints_lib.get(name)
    except ValueError as e:
        raise DatasetError(path, str(e)) from None
    return name, {str(v): _check_array(path, v, a, js.num_joints) for v, a in videos.items()}


def prediction_for(predictions: dict, record, source) -> np.ndarray:
    """The [T, K, 2] prediction for a VideoRecord; DatasetError naming `source` (the predictions
    file) when the video is missing or its frame/joint count differs from the labels."""
    if record.video_id not in predictions:
        raise DatasetError(source, f"no predictions for video {record.video_id!r}")
    p = np.asarray(predictions[record.video_id])
    expected = (record.num_frames, np.asarray(record.joints).shape[1], 2)
    if p.shape != expected:
        raise DatasetError(source, f"video {record.video_id!r}: predictions have shape "
                                   f"{p.shape}, the labels need {expected}")
    return p
