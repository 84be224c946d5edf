package org.dkdtf.posedemo.core;

/**
 * The tracker's constants, as the manifest's {@code tracker} entry carries them (written from
 * dkd_tf/serving/tracking_policy.py). Meaning as in dkd_tf.tracking.pose_tracker.PoseTracker; the with* methods give a
 * copy with one value overridden (a user setting, a test scenario).
 */
public final class TrackerConfig {
    /** Re-run the initializer after a frame whose mean peak confidence is below this (0: off). */
    public final double reinitThreshold;
    /** Re-run the initializer every N frames (0: off). */
    public final int reinitEvery;
    /** Confidence from which a keypoint counts for following the person. */
    public final double keypointThreshold;
    /** The keypoint box grows by this fraction of its size on each side. */
    public final double followMargin;
    /** The followed box's width and height change by at most this fraction per frame. */
    public final double followMaxResize;
    /**
     * Share of its old position the followed box's centre keeps each frame, in [0, 1) (0: it
     * jumps to the keypoint box's centre).
     */
    public final double followSmoothing;
    /** ... and stay within [low, high] times a given start box's size. */
    public final double followScaleLow;
    public final double followScaleHigh;

    public TrackerConfig(double reinitThreshold, int reinitEvery, double keypointThreshold,
                         double followMargin, double followMaxResize, double followSmoothing,
                         double followScaleLow, double followScaleHigh) {
        if (reinitEvery < 0 || followMargin < 0 || !(followMaxResize > 0)
                || !(followSmoothing >= 0 && followSmoothing < 1)
                || !(followScaleLow > 0) || !(followScaleHigh >= followScaleLow)) {
            throw new IllegalArgumentException("tracker settings out of range: " + describe(
                    reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                    followMaxResize, followSmoothing, followScaleLow, followScaleHigh));
        }
        this.reinitThreshold = reinitThreshold;
        this.reinitEvery = reinitEvery;
        this.keypointThreshold = keypointThreshold;
        this.followMargin = followMargin;
        this.followMaxResize = followMaxResize;
        this.followSmoothing = followSmoothing;
        this.followScaleLow = followScaleLow;
        this.followScaleHigh = followScaleHigh;
    }

    public TrackerConfig withReinitThreshold(double v) {
        return new TrackerConfig(v, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh);
    }

    public TrackerConfig withReinitEvery(int v) {
        return new TrackerConfig(reinitThreshold, v, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh);
    }

    public TrackerConfig withKeypointThreshold(double v) {
        return new TrackerConfig(reinitThreshold, reinitEvery, v, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh);
    }

    public TrackerConfig withFollowSmoothing(double v) {
        return new TrackerConfig(reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, v, followScaleLow, followScaleHigh);
    }

    private static String describe(double rt, int re, double kt, double fm, double fr,
                                   double fs, double lo, double hi) {
        return "reinit_threshold " + rt + ", reinit_every " + re + ", keypoint_threshold " + kt
                + ", follow_margin " + fm + ", follow_max_resize " + fr
                + ", follow_smoothing " + fs
                + ", follow_scale_range [" + lo + ", " + hi + "]";
    }

    @Override
    public String toString() {
        return describe(reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh);
    }
}
