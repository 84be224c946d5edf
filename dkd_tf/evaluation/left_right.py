"""Left/right identity: how much of a model's error is a left/right mix-up, from its own heatmaps.

Why this exists: the synthetic figures draw left and right limbs in one colour, so a model must
tell them apart from the small face cue, the depth order of the limbs, or time. When it cannot,
l2-trained heatmaps put (nearly) the same two bumps in both channels of a pair, and argmax sends
both joints of the pair to the same limb: one of them is always wrong. Three decodings of the
same heatmaps separate that failure from localization:

  'argmax'          the manifest's per-channel rule (what every runtime reports);
  'two_peaks'       the two strongest distinct peaks of h_left + h_right, assigned to left and
                    right by the heatmaps' own evidence h_l(p) + h_r(q) vs h_l(q) + h_r(p);
  'identity_known'  the same two peaks assigned by the ground truth: the PCK the model would
                    have if left/right identity were solved and localization stayed as it is.

If 'two_peaks' is no better than 'argmax', the heatmaps hold no left/right identity; the gap
from 'argmax' to 'identity_known' is what identity costs.

The command: python -m dkd_tf.left_right --model_dir A[,B] [--names ...] --data_dir D
[--max_videos N].
"""
from __future__ import annotations

import dataclasses

import numpy as np

from dkd_tf.core import codec
from dkd_tf.evaluation import metrics

DECODINGS = ("argmax", "two_peaks", "identity_known")
SUPPRESS_RADIUS = 1  # cells around the first peak excluded when looking for the second
SECOND_PEAK_FRACTION = 0.3  # a second peak below this fraction of the first is not a second limb


def two_peaks(hm_left: np.ndarray, hm_right: np.ndarray):
    """The two strongest distinct peaks of hm_left + hm_right [h, w] as (y, x) cells, or None
    when the second is too weak to be a second limb (then the pair is one bump)."""
    s = hm_left + hm_right
    h, w = s.shape
    y1, x1 = np.unravel_index(int(s.argmax()), (h, w))
    rest = s.copy()
    r = SUPPRESS_RADIUS
    rest[max(0, y1 - r):y1 + r + 1, max(0, x1 - r):x1 + r + 1] = -np.inf
    y2, x2 = np.unravel_index(int(rest.argmax()), (h, w))
    if not np.isfinite(rest[y2, x2]) or rest[y2, x2] < SECOND_PEAK_FRACTION * s[y1, x1]:
        return None
    return (int(y1), int(x1)), (int(y2), int(x2))


def argmax_cells(heatmaps: np.ndarray, stride: int) -> np.ndarray:
    """Cells [K, 2] of the manifest's per-channel rule (codec.decode_heatmaps)."""
    xy, _ = codec.decode_heatmaps(heatmaps, stride)
    return codec.pixel_to_cell(xy.astype(np.float64), stride)


def pair_cells(heatmaps: np.ndarray, flip_pairs, stride: int, gt_cells=None,
               base=None) -> np.ndarray:
    """Cells [K, 2] of one frame's heatmaps [h, w, K]: argmax per channel (or `base`, those
    cells already decoded), then each (left, right) pair moved to two distinct peaks, assigned
    by the heatmaps (gt_cells None) or by the ground truth cells [K, 2] (the identity-known
    ceiling)."""
    cells = (argmax_cells(heatmaps, stride) if base is None
             else np.array(base, np.float64, copy=True))
    for a, b in flip_pairs:
        peaks = two_peaks(heatmaps[..., a], heatmaps[..., b])
        if peaks is None:
            continue
        p, q = peaks
        ha, hb = heatmaps[..., a], heatmaps[..., b]
        pa, pb = codec.refine_peak(ha, *p), codec.refine_peak(hb, *q)
        qa, qb = codec.refine_peak(ha, *q), codec.refine_peak(hb, *p)
        if gt_cells is None:
            keep = heatmaps[p + (a,)] + heatmaps[q + (b,)] >= heatmaps[q + (a,)] + heatmaps[p + (b,)]
        else:
            keep = (np.linalg.norm(pa - gt_cells[a]) + np.linalg.norm(pb - gt_cells[b])
                    <= np.linalg.norm(qa - gt_cells[a]) + np.linalg.norm(qb - gt_cells[b]))
        cells[a], cells[b] = (pa, pb) if keep else (qa, qb)
    return cells


@dataclasses.dataclass
class IdentityReport:
    """Per decoding a PCKAccumulator, plus the predicted / true pair distances (person sizes)."""

    accumulators: dict
    pred_pair_distance: list
    true_pair_distance: list

    def median_distances(self) -> tuple[float, float]:
        return (float(np.median(self.pred_pair_distance)) if self.pred_pair_distance else 0.0,
                float(np.median(self.true_pair_distance)) if self.true_pair_distance else 0.0)


def identity_report(predictor, records, joint_set) -> IdentityReport:
    """Streams every record through predictor (protocol.StreamingPredictor) and scores the
    three DECODINGS of the same heatmaps."""
    from dkd_tf.data import transforms
    stride = predictor.stride
    accs = {d: metrics.PCKAccumulator(joint_set) for d in DECODINGS}
    pred_d, true_d = [], []
    for rec in records:
        out = {d: [] for d in DECODINGS}
        sizes = metrics.person_size(rec.bboxes)
        for t, (hm, mat) in enumerate(predictor.stream_heatmaps(rec)):
            m = np.asarray(mat, np.float64)
            gt_in = rec.joints[t] @ m[:2, :2].T + m[:2, 2]  # source pixels -> crop pixels
            gt_cells = codec.pixel_to_cell(gt_in, stride)
            base = argmax_cells(hm, stride)  # decoded once, shared by the three decodings
            cells = {"argmax": base,
                     "two_peaks": pair_cells(hm, joint_set.flip_pairs, stride, base=base),
                     "identity_known": pair_cells(hm, joint_set.flip_pairs, stride, gt_cells,
                                                  base=base)}
            for d in DECODINGS:
                xy = codec.cell_to_pixel(cells[d], stride).astype(np.float32)
                out[d].append(transforms.invert_points(mat, xy))
            src = out["argmax"][-1]
            for a, b in joint_set.flip_pairs:
                if rec.visibility[t, a] and rec.visibility[t, b]:
                    pred_d.append(float(np.linalg.norm(src[a] - src[b])) / sizes[t])
                    true_d.append(float(np.linalg.norm(rec.joints[t, a] - rec.joints[t, b]))
                                  / sizes[t])
        for d in DECODINGS:
            accs[d].add_record(rec, np.stack(out[d]))
    return IdentityReport(accs, pred_d, true_d)


def format_report(name: str, report: IdentityReport) -> str:
    """Paper-style table of the three decodings, then the pair distances."""
    rows = {f"{name} {d}": acc for d, acc in report.accumulators.items()}
    pred, true = report.median_distances()
    return (metrics.format_paper_table(rows) +
            f"\n{name}: median distance between the two joints of a visible left/right pair, "
            f"in person sizes: predicted {pred:.3f}, true {true:.3f}")
