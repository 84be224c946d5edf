"""Temporal coherence of predicted keypoint tracks, in plain numpy, beside PCK.

PCK scores frames one at a time; a pose that jitters, or whose left and right limbs trade places
from frame to frame, scores the same as a smooth one. These measures look at consecutive frames
and compare with the ground truth's own motion, so a frozen pose is not rewarded (its
acceleration is zero, the ground truth's is not):

  - acceleration error: mean over joints and frames of |a_pred(t) - a_gt(t)| / L(t), with
    a(t) = x(t+1) - 2 x(t) + x(t-1) (second difference over consecutive frames, pixels/frame^2)
    and L(t) the person size (max side of the ground-truth box, as PCK's). Counted where the
    joint is visible in all three frames. Unit: person sizes per frame^2.
  - left/right swap rate: a left/right pair (the joint set's flip_pairs) is 'swapped' in a frame
    when its predictions lie closer to the ground truth exchanged,
    |p_l - g_r| + |p_r - g_l| < |p_l - g_l| + |p_r - g_r|; a swap event is a change of that state
    from one frame to the next. Rate = events / transitions counted (both joints visible in both
    frames). 'swapped fraction' = swapped pair-frames / pair-frames counted.
  - left/right collapse: a pair (both visible) whose ground truth joints are more than
    COLLAPSE_APART person sizes apart is predicted within COLLAPSE_NEAR person sizes of each other
    (both channels land on the same limb). Reported per frame (frames with at least one such
    pair among frames with at least one pair that far apart) and per pair instance.

Rates are fractions (0..1) here; tables print percent.
"""
from __future__ import annotations

import math

import numpy as np

from dkd_tf.core import joints as joints_lib
from dkd_tf.evaluation import metrics

COLLAPSE_NEAR = 0.05
COLLAPSE_APART = 0.1
_COUNTS = ("accel_sum", "accel_n", "swap_events", "swap_transitions", "swapped", "pair_frames",
           "collapse_frames", "collapse_frames_n", "collapse_pairs", "collapse_pairs_n")


def acceleration_errors(pred, gt, visible, bboxes) -> np.ndarray:
    """|a_pred - a_gt| / L at frames 1..T-2 for joints visible at t-1, t, t+1: a flat array
    (person sizes per frame^2). pred, gt [T, K, 2], visible [T, K], bboxes [T, 4]."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    vis = np.asarray(visible) > 0
    if pred.shape[0] < 3:
        return np.zeros(0)
    acc_p = pred[2:] - 2 * pred[1:-1] + pred[:-2]
    acc_g = gt[2:] - 2 * gt[1:-1] + gt[:-2]
    size = np.maximum(metrics.person_size(bboxes)[1:-1, None], 1e-9)
    err = np.linalg.norm(acc_p - acc_g, axis=-1) / size
    ok = vis[2:] & vis[1:-1] & vis[:-2] & np.isfinite(err)
    return err[ok]


def swapped(pred, gt, pairs) -> np.ndarray:
    """[T, P] bool: pair p's predictions match the ground truth better with left/right exchanged."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    l, r = np.asarray(pairs).T
    d = lambda a, b: np.linalg.norm(a - b, axis=-1)  # noqa: E731
    same = d(pred[:, l], gt[:, l]) + d(pred[:, r], gt[:, r])
    exchanged = d(pred[:, l], gt[:, r]) + d(pred[:, r], gt[:, l])
    return exchanged < same


def video_counts(pred, gt, visible, bboxes, pairs) -> dict:
    """The sums and counts of every measure for one video (see the module docstring)."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    vis = np.asarray(visible) > 0
    pairs = np.asarray(pairs, int).reshape(-1, 2)
    l, r = pairs.T
    both = vis[:, l] & vis[:, r]                                   # [T, P]
    acc = acceleration_errors(pred, gt, visible, bboxes)
    sw = swapped(pred, gt, pairs)
    trans = both[1:] & both[:-1]
    size = metrics.person_size(bboxes)[:, None]
    gt_apart = np.linalg.norm(gt[:, l] - gt[:, r], axis=-1) > COLLAPSE_APART * size
    with np.errstate(invalid="ignore"):  # inf - inf (a non-finite prediction): NaN, not near
        pred_near = np.linalg.norm(pred[:, l] - pred[:, r], axis=-1) <= COLLAPSE_NEAR * size
    far = both & gt_apart
    collapsed = far & pred_near
    return {
        "accel_sum": float(acc.sum()), "accel_n": int(acc.size),
        "swap_events": int((trans & (sw[1:] != sw[:-1])).sum()),
        "swap_transitions": int(trans.sum()),
        "swapped": int((both & sw).sum()), "pair_frames": int(both.sum()),
        "collapse_frames": int(collapsed.any(axis=1).sum()),
        "collapse_frames_n": int(far.any(axis=1).sum()),
        "collapse_pairs": int(collapsed.sum()), "collapse_pairs_n": int(far.sum()),
    }


def _ratio(a, b) -> float:
    return float(a) / b if b else math.nan


class CoherenceAccumulator:
    """Sums the measures over videos; `result()` gives the pooled numbers."""

    def __init__(self, joint_set):
        self.joint_set = (joint_set if isinstance(joint_set, joints_lib.JointSet)
                          else joints_lib.get(joint_set))
        self.counts = dict.fromkeys(_COUNTS, 0)
        self.num_videos = 0

    def add(self, pred, gt, visible, bboxes) -> None:
        """One video: pred, gt [T, K, 2] pixels, visible [T, K], bboxes [T, 4]."""
        for k, v in video_counts(pred, gt, visible, bboxes, self.joint_set.flip_pairs).items():
            self.counts[k] += v
        self.num_videos += 1

    def add_record(self, record, pred) -> None:
        self.add(pred, record.joints, record.visibility, record.bboxes)

    def result(self) -> dict:
        """{'acceleration_error' (person sizes / frame^2), 'lr_swap_rate', 'lr_swapped',
        'lr_collapse_frames', 'lr_collapse_pairs' (fractions), the counts behind them}; NaN
        where nothing was counted."""
        c = self.counts
        return {
            "acceleration_error": _ratio(c["accel_sum"], c["accel_n"]),
            "lr_swap_rate": _ratio(c["swap_events"], c["swap_transitions"]),
            "lr_swapped": _ratio(c["swapped"], c["pair_frames"]),
            "lr_collapse_frames": _ratio(c["collapse_frames"], c["collapse_frames_n"]),
            "lr_collapse_pairs": _ratio(c["collapse_pairs"], c["collapse_pairs_n"]),
            "counts": dict(c), "num_videos": self.num_videos,
            "collapse_near": COLLAPSE_NEAR, "collapse_apart": COLLAPSE_APART,
        }

    def to_json(self) -> dict:
        return metrics._json_safe(self.result())


def score_records(joint_set, records, predictions: dict) -> CoherenceAccumulator:
    acc = CoherenceAccumulator(joint_set)
    for rec in records:
        acc.add_record(rec, predictions[rec.video_id])
    return acc


MEASURES = ("acceleration_error", "lr_swap_rate", "lr_swapped", "lr_collapse_frames",
            "lr_collapse_pairs")


def mean_over_splits(docs) -> dict:
    """Average to_json() documents of several data set splits (each measure's mean over the
    splits where it is defined; counts summed), as metrics.mean_over_splits does for PCK."""
    docs = list(docs)
    out = {}
    for m in MEASURES:
        vals = [d[m] for d in docs if d.get(m) is not None]
        out[m] = float(np.mean(vals)) if vals else None
    out["counts"] = {k: sum(d["counts"][k] for d in docs) for k in _COUNTS}
    out["num_videos"] = sum(d["num_videos"] for d in docs)
    out["collapse_near"], out["collapse_apart"] = COLLAPSE_NEAR, COLLAPSE_APART
    return out


def format_table(docs: dict) -> str:
    """docs: {model name: to_json() or result() dict} -> the table printed beside PCK."""
    def pct(v, digits=1):
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else \
            f"{100 * v:.{digits}f}"
    cols = ("Accel.err", "L/R swaps", "swapped", "coll.frm", "coll.pair")
    name_w = max([len("Methods")] + [len(str(n)) for n in docs])
    lines = ["Temporal coherence (%): acceleration error per person size and frame^2; L/R swaps "
             "per pair and frame;",
             f"  L/R pair-frames swapped; frames with a L/R pair collapsed (within "
             f"{COLLAPSE_NEAR:g} person sizes, truth > {COLLAPSE_APART:g} apart); such pairs",
             "  ".join(["Methods".ljust(name_w)] + [c.rjust(9) for c in cols])]
    for name, d in docs.items():
        vals = [pct(d["acceleration_error"], 2), pct(d["lr_swap_rate"]), pct(d["lr_swapped"]),
                pct(d["lr_collapse_frames"]), pct(d["lr_collapse_pairs"])]
        lines.append("  ".join([str(name).ljust(name_w)] + [v.rjust(9) for v in vals]))
    return "\n".join(lines)
