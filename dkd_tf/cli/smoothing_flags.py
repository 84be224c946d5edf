"""The flags of `python -m dkd_tf.stream` and `python -m export.evaluate_stream` that use the
past frames' keypoints: smoothing them (dkd_tf.tracking.keypoint_filter) and looking for each
joint near where it was (PoseTracker's motion_prior), and the box moving on with the person's
velocity (its follow_velocity); defined in one place so that both mean
the same."""
from __future__ import annotations

from absl import flags

from dkd_tf.tracking.keypoint_filter import DEFAULT_BETA, DEFAULT_MIN_CUTOFF


def define_flags() -> None:
    flags.DEFINE_bool("smooth_keypoints", False, "Smooth the reported keypoints over time with "
                      "the One Euro filter (dkd_tf.tracking.keypoint_filter): slow joints are "
                      "smoothed hard, fast ones pass; the crop follows the raw keypoints.")
    flags.DEFINE_float("smooth_min_cutoff", DEFAULT_MIN_CUTOFF, "--smooth_keypoints: cut-off of "
                       "a joint at rest, in cycles per frame (0.1 = 3 Hz at 30 fps); lower is "
                       "smoother.", lower_bound=1e-6)
    flags.DEFINE_float("smooth_beta", DEFAULT_BETA, "--smooth_keypoints: how fast the cut-off "
                       "rises with a joint's speed (person sizes a frame); higher lags less.",
                       lower_bound=0.0)
    flags.DEFINE_float("motion_prior", None, "The stepper looks for each joint near where it "
                       "was in the last frame: its heatmap weighted by a Gaussian of this share "
                       "of the crop side around the last keypoint; keeps a joint on its person "
                       "when another walks past in front. 0: the plain argmax. Default: the "
                       "export's manifest's (0, off, in every shipped export).",
                       lower_bound=0.0, upper_bound=9.99)
    flags.DEFINE_float("follow_velocity", None, "The followed box moves on by this share of its "
                       "centre's recent velocity before averaging (0: off, 1: a constant-velocity "
                       "prediction), so it keeps up with a walking person. Default: the export's "
                       "manifest's (1 for exports made since it came, 0 before; peers take ours).",
                       lower_bound=0.0, upper_bound=1.0)


def smoothing(f) -> dict | None:
    """The filter settings the flags ask for (keypoint_filter.make's argument), or None."""
    if not f.smooth_keypoints:
        return None
    return {"min_cutoff": f.smooth_min_cutoff, "beta": f.smooth_beta}
