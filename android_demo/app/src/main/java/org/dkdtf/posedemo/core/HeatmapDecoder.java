package org.dkdtf.posedemo.core;

/**
 * Keypoints from heatmaps by the rule the manifest names in its {@code decoding} entry: the Java
 * twin of dkd_tf.core.codec.decode_heatmaps, checked against it by the golden vectors. Float32
 * arithmetic in the order numpy does it, so that results agree to the bit wherever numpy's own
 * float32 functions are correctly rounded.
 *
 * <p>Rules (dkd_tf.core.codec.DECODING_RULES):
 * <ul>
 * <li>{@code argmax_log_parabola} (what new exports name): argmax per joint, then on each axis the
 *     vertex of the parabola through the logs of the peak and its two neighbours, each neighbour
 *     floored at 1 % of the peak; no shift at the border or when the peak is not positive.</li>
 * <li>{@code argmax_quarter_offset} (older exports): argmax, a quarter-cell shift towards the
 *     larger neighbour.</li>
 * <li>{@code argmax_smoothed_log_parabola} (the real-world preset's): argmax and peak value as
 *     above, the log-parabola taken on the heatmap smoothed by a Gaussian of
 *     {@link #SMOOTH_SIGMA} cells (edge cells repeated beyond the border), which steadies the
 *     step on a coarse map resized up.</li>
 * </ul>
 *
 * <p>Heatmaps are one frame's NHWC tensor flattened: value of joint c at cell (row i, column j)
 * is {@code heatmaps[(i * w + j) * k + c]}. Output positions are input (crop) pixels, integer
 * coordinates being pixel centres.
 */
public abstract class HeatmapDecoder {
    /** The rule names this class implements (dkd_tf/core/codec.py DECODING_RULES). */
    public static final String ARGMAX_LOG_PARABOLA = "argmax_log_parabola";
    public static final String ARGMAX_QUARTER_OFFSET = "argmax_quarter_offset";
    public static final String ARGMAX_SMOOTHED_LOG_PARABOLA = "argmax_smoothed_log_parabola";
    /** Every rule {@link #forRule} accepts, the default of new exports first. */
    public static final String[] RULES = {ARGMAX_LOG_PARABOLA, ARGMAX_QUARTER_OFFSET,
            ARGMAX_SMOOTHED_LOG_PARABOLA};
    /** dkd_tf.core.codec.PARABOLA_FLOOR: neighbours are floored at this fraction of the peak. */
    public static final float PARABOLA_FLOOR = 0.01f;
    /** dkd_tf.core.codec.SMOOTH_SIGMA (cells) and SMOOTH_RADIUS (taps each side). */
    public static final double SMOOTH_SIGMA = 1.5;
    public static final int SMOOTH_RADIUS = 5;

    protected final int stride;

    protected HeatmapDecoder(int stride) {
        this.stride = stride;
    }

    /** The decoder of {@code rule}; IllegalArgumentException for a rule this app lacks. */
    public static HeatmapDecoder forRule(String rule, int stride) {
        if (ARGMAX_LOG_PARABOLA.equals(rule)) {
            return new LogParabola(stride);
        }
        if (ARGMAX_QUARTER_OFFSET.equals(rule)) {
            return new QuarterOffset(stride);
        }
        if (ARGMAX_SMOOTHED_LOG_PARABOLA.equals(rule)) {
            return new SmoothedLogParabola(stride);
        }
        StringBuilder known = new StringBuilder();
        for (String r : RULES) {
            known.append(known.length() == 0 ? "'" : ", '").append(r).append('\'');
        }
        throw new IllegalArgumentException("unknown decoding rule '" + rule + "' (this app"
                + " implements " + known + "); update the app's HeatmapDecoder with the rule of"
                + " dkd_tf/core/codec.py");
    }

    public abstract String rule();

    /**
     * Decodes {@code heatmaps} [h, w, k] into x, y (input pixels) and confidence, each of
     * length k.
     */
    public void decode(float[] heatmaps, int h, int w, int k, float[] x, float[] y,
                       float[] confidence) {
        checkSize(heatmaps, h, w, k);
        for (int c = 0; c < k; c++) {
            refine(heatmaps, h, w, k, c, argmax(heatmaps, h * w, k, c), x, y, confidence);
        }
    }

    /**
     * dkd_tf.core.codec.decode_near: each joint c with {@code priorOk[c]} takes the cell that
     * maximizes heatmap x exp(-d^2 / (2 sigma^2)), d the distance (input pixels) from the cell's
     * centre to (priorX[c], priorY[c]); the others the argmax. Position and confidence as
     * {@link #decode} refines them at that cell, on the unweighted heatmap. float32 as numpy:
     * d^2 = dx * dx + dy * dy, the exponent -d^2 / (float) (2 sigma^2), exp correctly rounded.
     */
    public void decodeNear(float[] heatmaps, int h, int w, int k, float[] priorX,
                           float[] priorY, boolean[] priorOk, double sigma, float[] x,
                           float[] y, float[] confidence) {
        checkSize(heatmaps, h, w, k);
        float twoSigma2 = (float) (2.0 * sigma * sigma);
        for (int c = 0; c < k; c++) {
            if (!priorOk[c]) {
                refine(heatmaps, h, w, k, c, argmax(heatmaps, h * w, k, c), x, y, confidence);
                continue;
            }
            int best = 0;
            float bestValue = Float.NEGATIVE_INFINITY;
            for (int idx = 0; idx < h * w; idx++) {
                float dx = cellToPixel((float) (idx % w)) - priorX[c];
                float dy = cellToPixel((float) (idx / w)) - priorY[c];
                float d2 = dx * dx + dy * dy;
                float weighted = heatmaps[idx * k + c] * (float) StrictMath.exp(-d2 / twoSigma2);
                if (Float.isNaN(weighted)) {
                    best = idx; // numpy.argmax: the first NaN wins
                    break;
                }
                if (idx == 0 || weighted > bestValue) {
                    bestValue = weighted;
                    best = idx;
                }
            }
            refine(heatmaps, h, w, k, c, best, x, y, confidence);
        }
    }

    /** Joint c's position and confidence at flat cell {@code idx}, by this rule. */
    protected abstract void refine(float[] hm, int h, int w, int k, int c, int idx, float[] x,
                                   float[] y, float[] confidence);

    /** Row-major index of the first maximum of joint c (numpy.argmax: first NaN wins). */
    protected static int argmax(float[] hm, int cells, int k, int c) {
        int best = 0;
        float bestValue = hm[c];
        if (Float.isNaN(bestValue)) {
            return 0;
        }
        for (int idx = 1; idx < cells; idx++) {
            float v = hm[idx * k + c];
            if (Float.isNaN(v)) {
                return idx;
            }
            if (v > bestValue) {
                bestValue = v;
                best = idx;
            }
        }
        return best;
    }

    protected static void checkSize(float[] hm, int h, int w, int k) {
        if (hm.length != h * w * k) {
            throw new IllegalArgumentException("heatmaps hold " + hm.length + " values, not "
                    + h + " x " + w + " x " + k);
        }
    }

    /** numpy: int64 index + float32 shift -> float64, then cast to float32. */
    protected static float cell(int index, float shift) {
        return (float) ((double) index + (double) shift);
    }

    /** Cell coordinate -> input pixel: (cell + 0.5) * stride - 0.5, in float32. */
    protected float cellToPixel(float cell) {
        return (cell + 0.5f) * (float) stride - 0.5f;
    }

    /**
     * argmax per joint; a quarter-cell shift towards the larger neighbour along x and y when the
     * peak is not on the border; x = (x_cell + 0.5) * stride - 0.5; confidence = peak value.
     */
    static final class QuarterOffset extends HeatmapDecoder {
        QuarterOffset(int stride) {
            super(stride);
        }

        @Override
        public String rule() {
            return ARGMAX_QUARTER_OFFSET;
        }

        @Override
        protected void refine(float[] hm, int h, int w, int k, int c, int idx, float[] x,
                              float[] y, float[] confidence) {
            int row = idx / w;
            int col = idx % w;
            confidence[c] = hm[idx * k + c];
            float dx = 0.0f;
            if (col > 0 && col < w - 1) {
                dx = Math.signum(hm[(row * w + col + 1) * k + c]
                        - hm[(row * w + col - 1) * k + c]);
            }
            float dy = 0.0f;
            if (row > 0 && row < h - 1) {
                dy = Math.signum(hm[((row + 1) * w + col) * k + c]
                        - hm[((row - 1) * w + col) * k + c]);
            }
            x[c] = cellToPixel(cell(col, 0.25f * dx));
            y[c] = cellToPixel(cell(row, 0.25f * dy));
        }
    }

    /**
     * argmax per joint; confidence c = peak value; on each axis, when the peak is not on the
     * border and c &gt; 0: the neighbours l, r floored at 0.01 * c, a = ln c - ln l,
     * b = ln c - ln r, offset = 0.5 * (a - b) / (a + b) (0 when a + b is not positive), else
     * offset 0; x = (x_cell + 0.5) * stride - 0.5.
     *
     * <p>Precision: float32 throughout, in numpy's order of operations (dkd_tf.core.codec computes on
     * float32 arrays: the floor, the logs, a, b, a + b, the quotient are all float32), with each
     * log correctly rounded to float32 ({@code (float) StrictMath.log(v)}, fdlibm, the same on
     * every JVM and Android). numpy's float32 log is a vectorized one that is up to 4 ulp off on
     * some CPUs (AVX-512), so on a flat peak (small a + b) the two may differ in the last bits
     * of the offset; the golden vectors bound that difference (1e-4 px). Double arithmetic would
     * differ from numpy on every shifted keypoint; float32 agrees to the bit whenever numpy's
     * logs are correctly rounded.
     */
    static class LogParabola extends HeatmapDecoder {
        LogParabola(int stride) {
            super(stride);
        }

        @Override
        public String rule() {
            return ARGMAX_LOG_PARABOLA;
        }

        /** float32 natural log, correctly rounded (np.log on float32, up to numpy's error). */
        static float log(float v) {
            return (float) StrictMath.log(v);
        }

        /**
         * dkd_tf.core.codec._parabola_offset: the log-parabola vertex from the peak and its two
         * neighbours, in cells (within [-0.5, 0.5] at a maximum); 0 when the peak is not
         * positive.
         */
        static float offset(float left, float center, float right) {
            if (!(center > 0.0f)) {
                return 0.0f;
            }
            float floor = PARABOLA_FLOOR * center;
            float co = log(center);
            float a = co - log(Math.max(left, floor));
            float b = co - log(Math.max(right, floor));
            float denom = a + b;
            if (!(denom > 0.0f)) {
                return 0.0f;
            }
            return 0.5f * (a - b) / denom;
        }

        /** The value the parabola goes through at (row, col) of joint c: the heatmap's own. */
        float valueAt(float[] hm, int h, int w, int k, int c, int row, int col) {
            return hm[(row * w + col) * k + c];
        }

        /** At an argmax the offset lies within half a cell; decodeNear's cell need not be a
         * local maximum, so it is clipped to that half cell (numpy.clip, as codec does). The
         * confidence is the heatmap's own peak value whatever valueAt reads. */
        @Override
        protected void refine(float[] hm, int h, int w, int k, int c, int idx, float[] x,
                              float[] y, float[] confidence) {
            int row = idx / w;
            int col = idx % w;
            confidence[c] = hm[idx * k + c];
            float centre = valueAt(hm, h, w, k, c, row, col);
            float dx = 0.0f;
            if (col > 0 && col < w - 1) {
                dx = clipHalf(offset(valueAt(hm, h, w, k, c, row, col - 1), centre,
                        valueAt(hm, h, w, k, c, row, col + 1)));
            }
            float dy = 0.0f;
            if (row > 0 && row < h - 1) {
                dy = clipHalf(offset(valueAt(hm, h, w, k, c, row - 1, col), centre,
                        valueAt(hm, h, w, k, c, row + 1, col)));
            }
            x[c] = cellToPixel(cell(col, dx));
            y[c] = cellToPixel(cell(row, dy));
        }

        static float clipHalf(float v) {
            return Math.min(Math.max(v, -0.5f), 0.5f);
        }
    }

    /**
     * dkd_tf.core.codec 'argmax_smoothed_log_parabola': the argmax and its peak value as
     * {@link LogParabola}; the offsets from the heatmap smoothed by the Gaussian of
     * {@link #taps()} on both axes (cells beyond the border repeat the edge cell), needed only
     * at the peak and its four neighbours. The smoothed values are summed in double, as codec
     * sums them in float64 (columns first, then rows), and rounded to float32 once; the offset
     * is then LogParabola's float32 step, clipped to half a cell (its refine, reading valueAt).
     */
    static final class SmoothedLogParabola extends LogParabola {
        private final double[] taps = taps();

        SmoothedLogParabola(int stride) {
            super(stride);
        }

        @Override
        public String rule() {
            return ARGMAX_SMOOTHED_LOG_PARABOLA;
        }

        /** dkd_tf.core.codec.smoothing_taps: exp(-d^2 / (2 sigma^2)), |d| &lt;= R, sum 1. */
        static double[] taps() {
            double[] t = new double[2 * SMOOTH_RADIUS + 1];
            double sum = 0.0;
            for (int i = 0; i < t.length; i++) {
                double d = i - SMOOTH_RADIUS;
                t[i] = StrictMath.exp(-d * d / (2.0 * SMOOTH_SIGMA * SMOOTH_SIGMA));
                sum += t[i];
            }
            for (int i = 0; i < t.length; i++) {
                t[i] /= sum;
            }
            return t;
        }

        /** The smoothed heatmap of joint c at (row, col), the edge cells repeated. */
        @Override
        float valueAt(float[] hm, int h, int w, int k, int c, int row, int col) {
            double total = 0.0;
            for (int j = 0; j < taps.length; j++) {
                int x = Math.min(Math.max(col + j - SMOOTH_RADIUS, 0), w - 1);
                double column = 0.0;
                for (int i = 0; i < taps.length; i++) {
                    int y = Math.min(Math.max(row + i - SMOOTH_RADIUS, 0), h - 1);
                    column += taps[i] * hm[(y * w + x) * k + c];
                }
                total += taps[j] * column;
            }
            return (float) total;
        }
    }
}
