package org.dkdtf.posedemo.core;

/**
 * The tracker's constants, as the manifest's {@code tracker} entry carries them (written from
 * dkd_tf/serving/tracking_policy.py). Meaning as in dkd_tf.tracking.pose_tracker.PoseTracker; the with* methods give a
 * copy with one value overridden (a user setting, a test scenario).
 */
public final class TrackerConfig {
    /**
     * dkd_tf.serving.tracking_policy.FOLLOW_VELOCITY_MEMORY: the velocity's memory of a manifest
     * without {@code follow_velocity_memory} (made before the velocity existed).
     */
    public static final double FOLLOW_VELOCITY_MEMORY = 0.8;

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
    /**
     * Share of the centre's recent velocity by which the old centre moves on before the
     * smoothing average, in [0, 1] (0: off, the box lags a walking person by speed x s / (1 - s);
     * 1: a constant-velocity prediction, no steady lag).
     */
    public final double followVelocity;
    /**
     * The velocity is an exponential average of the centre's moves that keeps this share of its
     * old value each frame, in [0, 1).
     */
    public final double followVelocityMemory;
    /**
     * The stepper looks for each joint near its last position: its heatmap weighted by a Gaussian
     * of this share of the input size around it, in [0, 10) (0: the plain argmax). The export's
     * value (dkd_tf.serving.tracking_policy.motion_prior_of); a {@link PoseTracker} made without
     * an explicit motion prior uses it.
     */
    public final double motionPrior;

    public TrackerConfig(double reinitThreshold, int reinitEvery, double keypointThreshold,
                         double followMargin, double followMaxResize, double followSmoothing,
                         double followScaleLow, double followScaleHigh, double followVelocity,
                         double followVelocityMemory, double motionPrior) {
        if (reinitEvery < 0 || followMargin < 0 || !(followMaxResize > 0)
                || !(followSmoothing >= 0 && followSmoothing < 1)
                || !(followScaleLow > 0) || !(followScaleHigh >= followScaleLow)
                || !(followVelocity >= 0 && followVelocity <= 1)
                || !(followVelocityMemory >= 0 && followVelocityMemory < 1)
                || !(motionPrior >= 0 && motionPrior < 10)) {
            throw new IllegalArgumentException("tracker settings out of range: " + describe(
                    reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                    followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                    followVelocity, followVelocityMemory, motionPrior));
        }
        this.reinitThreshold = reinitThreshold;
        this.reinitEvery = reinitEvery;
        this.keypointThreshold = keypointThreshold;
        this.followMargin = followMargin;
        this.followMaxResize = followMaxResize;
        this.followSmoothing = followSmoothing;
        this.followScaleLow = followScaleLow;
        this.followScaleHigh = followScaleHigh;
        this.followVelocity = followVelocity;
        this.followVelocityMemory = followVelocityMemory;
        this.motionPrior = motionPrior;
    }

    public TrackerConfig withReinitThreshold(double v) {
        return new TrackerConfig(v, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                followVelocity, followVelocityMemory, motionPrior);
    }

    public TrackerConfig withReinitEvery(int v) {
        return new TrackerConfig(reinitThreshold, v, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                followVelocity, followVelocityMemory, motionPrior);
    }

    public TrackerConfig withKeypointThreshold(double v) {
        return new TrackerConfig(reinitThreshold, reinitEvery, v, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                followVelocity, followVelocityMemory, motionPrior);
    }

    public TrackerConfig withFollowSmoothing(double v) {
        return new TrackerConfig(reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, v, followScaleLow, followScaleHigh,
                followVelocity, followVelocityMemory, motionPrior);
    }

    public TrackerConfig withFollowVelocity(double v) {
        return new TrackerConfig(reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                v, followVelocityMemory, motionPrior);
    }

    public TrackerConfig withFollowVelocityMemory(double v) {
        return new TrackerConfig(reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                followVelocity, v, motionPrior);
    }

    public TrackerConfig withMotionPrior(double v) {
        return new TrackerConfig(reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                followVelocity, followVelocityMemory, v);
    }

    private static String describe(double rt, int re, double kt, double fm, double fr,
                                   double fs, double lo, double hi, double fv, double fvm,
                                   double mp) {
        return "reinit_threshold " + rt + ", reinit_every " + re + ", keypoint_threshold " + kt
                + ", follow_margin " + fm + ", follow_max_resize " + fr
                + ", follow_smoothing " + fs
                + ", follow_scale_range [" + lo + ", " + hi + "]"
                + ", follow_velocity " + fv + ", follow_velocity_memory " + fvm
                + ", motion_prior " + mp;
    }

    @Override
    public String toString() {
        return describe(reinitThreshold, reinitEvery, keypointThreshold, followMargin,
                followMaxResize, followSmoothing, followScaleLow, followScaleHigh,
                followVelocity, followVelocityMemory, motionPrior);
    }
}
