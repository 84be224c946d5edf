"""The streaming tracker's default constants, in one place for dkd_tf.stream and the manifest.

dkd_tf.tracking.pose_tracker.PoseTracker applies them (its flags default to them); dkd_tf/serving/manifest.py writes them
into every manifest's `tracker` entry, so the Android app reads them from the export instead of
copying them. Their meaning (docs/design.md, "Beyond the paper"):
  reinit_threshold    re-run the initializer when a frame's mean peak confidence is below (0: off)
  reinit_every        re-run the initializer every N frames (0: off)
  keypoint_threshold  confidence from which a keypoint counts for following the person
  follow_margin       the keypoint box grows by this fraction of its size on each side
  follow_max_resize   the followed box's width and height change by at most this fraction a frame
  follow_smoothing    the followed box's centre keeps this share of its old position each frame
                      (an exponential moving average; 0: it jumps to the keypoint box's centre)
  follow_scale_range  ... and stay within these factors of a given start box's size
  follow_velocity     share of the centre's velocity by which the box moves on before the
                      average (0: off; 1: a constant-velocity prediction), the velocity an
                      exponential average of the centre's moves keeping follow_velocity_memory
                      of its old value a frame
  motion_prior        the stepper looks for each joint near where it was in the last frame:
                      its heatmap weighted by a Gaussian of this share of the crop side (0: off)
  finder              the published network (dkd_tf.pretrained.peers key) that finds the person
                      on a frame seen whole, the initializer starting from its keypoints' box
                      ("": none, the initializer looks itself)
"""
from __future__ import annotations

# Confidence scales differ between models (a MoveNet-style sigmoid head, a linear head barely
# trained on stick figures), and so does the value below which a frame has lost its person: an
# export may carry its own (to_json's overrides; the real-world preset's 0.3, chosen on its
# tuning clips: dkd_tf.experiments.video_preset.REINIT_THRESHOLD), read back per export
# (reinit_threshold_of). 0.1 for the others: the quick pair `make demo` trains on stick figures
# re-initializes on 19 of its 40 demo frames at 0.1 and would on 38 at 0.3.
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
# The average above lags a person walking across the frame by v x s / (1 - s) (v: the person's
# speed in px a frame, s: follow_smoothing): 12 px and growing for vtest's pedestrians (5 px a
# frame, boxes 20-30 px wide), who walk out of the crop. Predicting the centre's move from its
# recent velocity (an alpha-beta filter) removes the lag: vtest PCK@0.2 of the C = 32 DKD 64.4
# -> 83.5, Lightning's 96.6 -> 98.1 through the same tracker, the tuning clips unchanged
# (docs/experiments.md, "Following a walking person"). An export carries its value in its
# manifest (exports made before it: 0), so each preset streams as its card was scored.
DEFAULT_FOLLOW_VELOCITY = 1.0
FOLLOW_VELOCITY_MEMORY = 0.8
# Off. The tuning clips chose 0.05 with follow_velocity 1 (pose2sim cameras 1-3 / LSP training
# photos set in motion, PCK@0.2: off 94.9 / 90.2, 0.025 96.8 / 93.5, 0.05 96.9 / 94.0, 0.1 96.6 /
# 93.6), and held-out photo clips gained as much, but on vtest's small, fast walkers it lost two
# of eight people (DKD 83.5 -> 45.7; docs/experiments.md, "Following a walking person"): their
# feet move further between frames than the prior lets them. Like the velocity it is written
# into the export's manifest, so an export made with another value streams with it.
DEFAULT_MOTION_PRIOR = 0.0
# No finder: on a frame seen whole the initializer looks itself. A preset trained on real people
# names one (dkd_tf.experiments.video_preset.FINDER): with several people in view a single-person
# network draws one skeleton over them, where MoveNet MultiPose picks one whole person
# (docs/experiments.md, "Finding one whole person among several").
DEFAULT_FINDER = ""


def to_json(**overrides) -> dict:
    """The manifest's `tracker` entry: the defaults, with `overrides` (existing keys only) for a
    model whose preset chose its own (e.g. reinit_threshold)."""
    entry = {
        "reinit_threshold": DEFAULT_REINIT_THRESHOLD,
        "reinit_every": DEFAULT_REINIT_EVERY,
        "keypoint_threshold": DEFAULT_KEYPOINT_THRESHOLD,
        "follow_margin": DEFAULT_FOLLOW_MARGIN,
        "follow_max_resize": DEFAULT_FOLLOW_MAX_RESIZE,
        "follow_smoothing": DEFAULT_FOLLOW_SMOOTHING,
        "follow_scale_range": list(FOLLOW_SCALE_RANGE),
        "follow_velocity": DEFAULT_FOLLOW_VELOCITY,
        "follow_velocity_memory": FOLLOW_VELOCITY_MEMORY,
        "motion_prior": DEFAULT_MOTION_PRIOR,
        "finder": DEFAULT_FINDER,
        "description": "defaults of dkd_tf.tracking.pose_tracker.PoseTracker (dkd_tf/serving/tracking_policy.py): "
                       "re-initialize when the mean peak confidence is below reinit_threshold, "
                       "every reinit_every frames and after an unreadable frame; the next crop is "
                       "the box of the keypoints when at least max(2, ceil(K/3)) have confidence "
                       ">= keypoint_threshold, grown by follow_margin on each side, its size "
                       "changing by at most follow_max_resize a frame and staying within "
                       "follow_scale_range of a given start box, its centre moving to "
                       "follow_smoothing x (the old centre + follow_velocity x v) + (1 - "
                       "follow_smoothing) x the new one, v (starting at 0 with each person) "
                       "then becoming follow_velocity_memory x v + (1 - "
                       "follow_velocity_memory) x the centre's move; the stepper's heatmaps "
                       "are decoded near each confident joint's last position, weighted by a "
                       "Gaussian of motion_prior x the input size (codec.decode_near); on a frame "
                       "seen whole (no start box, or the person lost) the published network "
                       "`finder` (a dkd_tf.pretrained.peers key; empty: none) finds the person "
                       "and the initializer starts from its keypoints' box",
    }
    unknown = sorted(set(overrides) - set(entry))
    if unknown:
        raise ValueError(f"unknown tracker settings {unknown}; known: {sorted(entry)}")
    entry.update({k: str(v) if k == "finder" else
                  [float(x) for x in v] if isinstance(v, (list, tuple)) else float(v)
                  for k, v in overrides.items()})
    return entry


def follow_velocity_of(manifest: dict) -> tuple:
    """(follow_velocity, follow_velocity_memory) an export was scored with: its manifest's
    tracker entry; (0, FOLLOW_VELOCITY_MEMORY) for an export made before the velocity (or a
    published peer, which carries no tracker entry)."""
    tracker = manifest.get("tracker") or {}
    return (float(tracker.get("follow_velocity", 0.0)),
            float(tracker.get("follow_velocity_memory", FOLLOW_VELOCITY_MEMORY)))


def reinit_threshold_of(manifest: dict) -> float:
    """The reinit_threshold an export was made with (its manifest's tracker entry); the default
    for a runner whose manifest has none (a published peer)."""
    return float((manifest.get("tracker") or {}).get("reinit_threshold",
                                                     DEFAULT_REINIT_THRESHOLD))


def motion_prior_of(manifest: dict) -> float:
    """The motion_prior an export was scored with (its manifest's tracker entry; 0, the plain
    argmax, for exports made before it and for published peers)."""
    return float((manifest.get("tracker") or {}).get("motion_prior", 0.0))


def finder_of(manifest: dict) -> str:
    """The person finder an export names (its manifest's tracker entry; "" for exports made
    before the key, for exports that name none, and for published peers)."""
    return str((manifest.get("tracker") or {}).get("finder", DEFAULT_FINDER))
