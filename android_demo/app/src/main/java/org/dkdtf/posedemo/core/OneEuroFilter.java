package org.dkdtf.posedemo.core;

/**
 * Temporal smoothing of the reported keypoints: the Java twin of
 * dkd_tf.tracking.keypoint_filter.OneEuroFilter (Casiez, Roussel and Vogel, CHI 2012), in double
 * precision as numpy computes it there, checked against it by the golden vectors.
 *
 * <p>Per joint and frame (one frame = 1 time unit, cut-offs in cycles per frame):
 * alpha(f) = 1 / (1 + 1 / (2 pi f)); dx = alpha(dCutoff) (x - s) + (1 - alpha(dCutoff)) dx;
 * f = minCutoff + beta |dx| / size; s = alpha(f) x + (1 - alpha(f)) s, where size is the
 * person box's longer side. A joint at rest is smoothed hard, a fast one passes.
 */
public final class OneEuroFilter {
    /** Defaults of dkd_tf.tracking.keypoint_filter (dkd_tf.stream --smooth_keypoints). */
    public static final double DEFAULT_MIN_CUTOFF = 0.1;
    public static final double DEFAULT_BETA = 4.0;
    public static final double DEFAULT_D_CUTOFF = 0.3;

    public final double minCutoff;
    public final double beta;
    public final double dCutoff;
    private double[] valueX;
    private double[] valueY;
    private double[] speedX;
    private double[] speedY;

    public OneEuroFilter() {
        this(DEFAULT_MIN_CUTOFF, DEFAULT_BETA, DEFAULT_D_CUTOFF);
    }

    public OneEuroFilter(double minCutoff, double beta, double dCutoff) {
        if (!(minCutoff > 0) || Double.isInfinite(minCutoff) || !(dCutoff > 0)
                || Double.isInfinite(dCutoff) || !(beta >= 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("keypoint smoothing out of range: min_cutoff "
                    + minCutoff + ", beta " + beta + ", d_cutoff " + dCutoff);
        }
        this.minCutoff = minCutoff;
        this.beta = beta;
        this.dCutoff = dCutoff;
    }

    /** Forget the past: the next keypoints pass unchanged (a new person, or a lost one). */
    public void reset() {
        valueX = null;
        valueY = null;
    }

    private static double alpha(double cutoff) {
        return 1.0 / (1.0 + 1.0 / (2.0 * Math.PI * cutoff));
    }

    private static boolean finite(double[] v) {
        for (double d : v) {
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return false;
            }
        }
        return true;
    }

    /** Smooths keypoints x, y (frame pixels) in place; size: the person box's longer side. */
    public void apply(float[] x, float[] y, double size) {
        int k = x.length;
        if (valueX == null || valueX.length != k || !finite(valueX) || !finite(valueY)) {
            valueX = new double[k];
            valueY = new double[k];
            speedX = new double[k];
            speedY = new double[k];
            for (int i = 0; i < k; i++) {
                valueX[i] = x[i];
                valueY[i] = y[i];
            }
            return;
        }
        double ad = alpha(dCutoff);
        double scale = Math.max(size, 1.0);
        for (int i = 0; i < k; i++) {
            speedX[i] = ad * (x[i] - valueX[i]) + (1.0 - ad) * speedX[i];
            speedY[i] = ad * (y[i] - valueY[i]) + (1.0 - ad) * speedY[i];
            double speed = Math.sqrt(speedX[i] * speedX[i] + speedY[i] * speedY[i]) / scale;
            double a = alpha(minCutoff + beta * speed);
            valueX[i] = a * x[i] + (1.0 - a) * valueX[i];
            valueY[i] = a * y[i] + (1.0 - a) * valueY[i];
            x[i] = (float) valueX[i];
            y[i] = (float) valueY[i];
        }
    }

    @Override
    public String toString() {
        return "one_euro min_cutoff " + minCutoff + ", beta " + beta + ", d_cutoff " + dCutoff;
    }
}
