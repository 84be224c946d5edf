package org.dkdtf.posedemo.core;

/**
 * Keypoints from heatmaps by the rule the manifest names in its {@code decoding} entry: the Java
 * twin of dkd_tf.codec.decode_heatmaps, checked against it by the golden vectors. Float32
 * arithmetic in the order numpy does it, so that results agree to the bit.
 *
 * <p>Heatmaps are one frame's NHWC tensor flattened: value of joint c at cell (row i, column j)
 * is {@code heatmaps[(i * w + j) * k + c]}. Output positions are input (crop) pixels, integer
 * coordinates being pixel centres.
 */
public abstract class HeatmapDecoder {
    /** The rule names this class implements (export/manifest.py DECODING). */
    public static final String ARGMAX_QUARTER_OFFSET = "argmax_quarter_offset";

    protected final int stride;

    protected HeatmapDecoder(int stride) {
        this.stride = stride;
    }

    /** The decoder of {@code rule}; IllegalArgumentException for a rule this app lacks. */
    public static HeatmapDecoder forRule(String rule, int stride) {
        if (ARGMAX_QUARTER_OFFSET.equals(rule)) {
            return new QuarterOffset(stride);
        }
        throw new IllegalArgumentException("unknown decoding rule '" + rule + "' (this app"
                + " implements '" + ARGMAX_QUARTER_OFFSET + "'); update the app's"
                + " HeatmapDecoder with the rule of dkd_tf/codec.py");
    }

    public abstract String rule();

    /**
     * Decodes {@code heatmaps} [h, w, k] into x, y (input pixels) and confidence, each of
     * length k.
     */
    public abstract void decode(float[] heatmaps, int h, int w, int k, float[] x, float[] y,
                                float[] confidence);

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
        public void decode(float[] hm, int h, int w, int k, float[] x, float[] y,
                           float[] confidence) {
            if (hm.length != h * w * k) {
                throw new IllegalArgumentException("heatmaps hold " + hm.length + " values, not "
                        + h + " x " + w + " x " + k);
            }
            for (int c = 0; c < k; c++) {
                int idx = argmax(hm, h * w, k, c);
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
                // numpy: int64 index + float32 shift -> float64, then cast to float32.
                float cellX = (float) ((double) col + (double) (0.25f * dx));
                float cellY = (float) ((double) row + (double) (0.25f * dy));
                x[c] = cellToPixel(cellX);
                y[c] = cellToPixel(cellY);
            }
        }
    }
}
