"""The streaming tracker's default constants, in one place for dkd_tf.stream and the manifest.

dkd_tf.tracking.pose_tracker.PoseTracker applies them (its flags default to them); dkd_tf/serving/manifest.py writes them
into every manifest's `tracker` entry, so the Android app reads them from the export instead of
copying them. Their meaning (DESIGN.md, "Beyond the paper"):
  reinit_threshold    re-run the initializer when a frame's mean peak confidence is below (0: off)
  reinit_every        re-run the initializer every N frames (0: off)
  keypoint_threshold  confidence from which a keypoint counts for following the person
  follow_margin       the keypoint box grows by this fraction of its size on each side
  follow_max_resize   the followed box's width and height change by at most this fraction a frame
  follow_smoothing    the followed box's centre keeps this share of its old position each frame
                      (an exponential moving average; 0: it jumps to the keypoint box's centre)
  follow_scale_range  ... and stay within these factors of a given start box's size
"""
from __future__ import annotations

DEFAULT_REINIT_THRESHOLD = 0.1
DEFAULT_REINIT_EVERY = 0
DEFAULT_KEYPOINT_THRESHOLD = 0.2
DEFAULT_FOLLOW_MARGIN = 0.15
DEFAULT_FOLLOW_MAX_RESIZE = 0.1  # the followed box's size changes by at most 10 % a frame
# A left/right pair collapsed onto one limb pulls the keypoint box's centre towards that limb, and
# the next crop, off-centre, repeats the bias until the person is lost. Averaging the centre over
# frames damps that loop; chosen on the 192 training videos of the synthetic set with the
# reference DKD (follow-crop PCK 73.5 at 0, 75.6 at 0.3, 77.2 at 0.5, 77.8 at 0.7 and 0.8, 76.3
# at 0.9): docs/experiments.md, "Following the person".
DEFAULT_FOLLOW_SMOOTHING = 0.7
FOLLOW_SCALE_RANGE = (0.7, 1.5)  # ... and stays within this range of a given start box's size


def to_json() -> dict:
    """The manifest's `tracker` entry."""
    return {
        "reinit_threshold": DEFAULT_REINIT_THRESHOLD,
        "reinit_every": DEFAULT_REINIT_EVERY,
        "keypoint_threshold": DEFAULT_KEYPOINT_THRESHOLD,
        "follow_margin": DEFAULT_FOLLOW_MARGIN,
        "follow_max_resize": DEFAULT_FOLLOW_MAX_RESIZE,
        "follow_smoothing": DEFAULT_FOLLOW_SMOOTHING,
        "follow_scale_range": list(FOLLOW_SCALE_RANGE),
        "description": "defaults of dkd_tf.tracking.pose_tracker.PoseTracker (dkd_tf/serving/tracking_policy.py): "
                       "re-initialize when the mean peak confidence is below reinit_threshold, "
                       "every reinit_every frames and after an unreadable frame; the next crop is "
                       "the box of the keypoints when at least max(2, ceil(K/3)) have confidence "
                       ">= keypoint_threshold, grown by follow_margin on each side, its size "
                       "changing by at most follow_max_resize a frame and staying within "
                       "follow_scale_range of a given start box, its centre moving to "
                       "follow_smoothing x the old centre + (1 - follow_smoothing) x the new one",
    }
