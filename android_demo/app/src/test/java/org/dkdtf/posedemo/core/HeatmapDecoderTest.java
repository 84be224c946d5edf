package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

/**
 * Both decoding rules on hand-made heatmaps, the cases of tests/test_codec.py (the golden vectors
 * test real ones).
 */
public class HeatmapDecoderTest {
    private static final int H = 4;
    private static final int W = 5;
    private static final int K = 2;

    private static void set(float[] hm, int row, int col, int joint, float v) {
        hm[(row * W + col) * K + joint] = v;
    }

    @Test
    public void quarterCellTowardsTheLargerNeighbour() {
        float[] hm = new float[H * W * K];
        set(hm, 1, 2, 0, 0.9f); // interior peak, right and lower neighbours larger
        set(hm, 1, 3, 0, 0.5f);
        set(hm, 1, 1, 0, 0.2f);
        set(hm, 2, 2, 0, 0.4f);
        set(hm, 0, 2, 0, 0.1f);
        set(hm, 3, 4, 1, 0.7f); // corner peak: no shift
        set(hm, 3, 3, 1, 0.6f);
        HeatmapDecoder d = HeatmapDecoder.forRule("argmax_quarter_offset", 8);
        float[] x = new float[K];
        float[] y = new float[K];
        float[] c = new float[K];
        d.decode(hm, H, W, K, x, y, c);
        assertEquals((2.25f + 0.5f) * 8 - 0.5f, x[0], 0f);
        assertEquals((1.25f + 0.5f) * 8 - 0.5f, y[0], 0f);
        assertEquals(0.9f, c[0], 0f);
        assertEquals(4.5f * 8 - 0.5f, x[1], 0f);
        assertEquals(3.5f * 8 - 0.5f, y[1], 0f);
        assertEquals(0.7f, c[1], 0f);
    }

    @Test
    public void tiesGoToTheFirstCellAsNumpyArgmax() {
        float[] hm = new float[H * W * K];
        set(hm, 2, 1, 0, 1f);
        set(hm, 1, 3, 0, 1f); // earlier in row-major order
        float[] x = new float[K];
        float[] y = new float[K];
        float[] c = new float[K];
        HeatmapDecoder.forRule("argmax_quarter_offset", 8).decode(hm, H, W, K, x, y, c);
        assertEquals((3 + 0.5f) * 8 - 0.5f, x[0], 0f);
        assertEquals((1 + 0.5f) * 8 - 0.5f, y[0], 0f);
    }

    @Test
    public void unknownRuleIsRefused() {
        try {
            HeatmapDecoder.forRule("argmax_subpixel", 8);
            fail("accepted an unknown rule");
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            assertTrue(m, m.contains("unknown decoding rule 'argmax_subpixel'"));
            assertTrue(m, m.contains("'argmax_log_parabola', 'argmax_quarter_offset'"));
        }
    }

    @Test
    public void bothRulesAreKnown() {
        assertEquals("argmax_log_parabola", HeatmapDecoder.forRule("argmax_log_parabola", 8).rule());
        assertEquals("argmax_quarter_offset",
                HeatmapDecoder.forRule("argmax_quarter_offset", 8).rule());
        assertEquals("argmax_smoothed_log_parabola",
                HeatmapDecoder.forRule("argmax_smoothed_log_parabola", 8).rule());
    }

    // --- argmax_smoothed_log_parabola

    /**
     * test_smoothed_rule_recovers_gaussian_centres_and_reads_the_raw_peak: a Gaussian smoothed
     * by a Gaussian keeps its centre (away from the border, where the repeated edge cells pull
     * it); the confidence is the unsmoothed peak; the taps sum to 1.
     */
    @Test
    public void smoothedRuleRecoversGaussianCentresAndReadsTheRawPeak() {
        int size = 32;
        int k = 3;
        double[][] pts = {{77.3, 101.9}, {120.0, 155.5}, {180.8, 70.25}};
        for (double sigma : new double[] {1.0, 2.0}) {
            float[] hm = gaussians(size, pts, sigma);
            float[][] s = decode("argmax_smoothed_log_parabola", hm, size, size, k, 8);
            float[][] r = decode("argmax_log_parabola", hm, size, size, k, 8);
            for (int j = 0; j < k; j++) {
                assertEquals("sigma " + sigma + " joint " + j + " x", pts[j][0], s[0][j], 2e-3);
                assertEquals("sigma " + sigma + " joint " + j + " y", pts[j][1], s[1][j], 2e-3);
                assertEquals(r[2][j], s[2][j], 0.0f);
            }
        }
        double sum = 0.0;
        for (double t : HeatmapDecoder.SmoothedLogParabola.taps()) {
            sum += t;
        }
        assertEquals(1.0, sum, 1e-12);
        assertEquals(2 * HeatmapDecoder.SMOOTH_RADIUS + 1,
                HeatmapDecoder.SmoothedLogParabola.taps().length);
    }

    /** On the border no shift, as the other rules, though the smoothed map leans inwards. */
    @Test
    public void smoothedRuleDoesNotShiftOnTheBorder() {
        int size = 6;
        float[] hm = new float[size * size];
        hm[3] = 1.0f; // row 0, column 3
        hm[4] = 0.6f;
        float[][] s = decode("argmax_smoothed_log_parabola", hm, size, size, 1, 8);
        assertEquals(pixel(0), s[1][0], 0.0);
        assertTrue("x " + s[0][0], s[0][0] > pixel(3));
    }

    // --- argmax_log_parabola

    private static float[][] decode(String rule, float[] hm, int h, int w, int k, int stride) {
        float[] x = new float[k];
        float[] y = new float[k];
        float[] c = new float[k];
        HeatmapDecoder.forRule(rule, stride).decode(hm, h, w, k, x, y, c);
        return new float[][] {x, y, c};
    }

    /** encode_heatmaps' Gaussians: one channel per point (input pixels, stride 8), [size, size, k]. */
    private static float[] gaussians(int size, double[][] pts, double sigma) {
        int k = pts.length;
        float[] hm = new float[size * size * k];
        for (int j = 0; j < k; j++) {
            double cx = (pts[j][0] + 0.5) / 8 - 0.5; // pixel_to_cell
            double cy = (pts[j][1] + 0.5) / 8 - 0.5;
            for (int row = 0; row < size; row++) {
                for (int col = 0; col < size; col++) {
                    double d2 = (col - cx) * (col - cx) + (row - cy) * (row - cy);
                    hm[(row * size + col) * k + j] = (float) Math.exp(-d2 / (2 * sigma * sigma));
                }
            }
        }
        return hm;
    }

    private static double pixel(double cell) {
        return (cell + 0.5) * 8 - 0.5;
    }

    /** test_log_parabola_recovers_gaussian_centres_exactly: encode_heatmaps' Gaussians. */
    @Test
    public void logParabolaRecoversGaussianCentres() {
        int size = 16;
        int k = 3;
        double[][] pts = {{37.3, 61.9}, {12.0, 115.5}, {88.8, 20.25}};
        for (double sigma : new double[] {1.0, 1.5, 2.0}) {
            float[] hm = gaussians(size, pts, sigma);
            float[][] r = decode("argmax_log_parabola", hm, size, size, k, 8);
            float[][] q = decode("argmax_quarter_offset", hm, size, size, k, 8);
            double quarterWorst = 0;
            for (int j = 0; j < k; j++) {
                assertEquals("sigma " + sigma + " joint " + j + " x", pts[j][0], r[0][j], 1e-3);
                assertEquals("sigma " + sigma + " joint " + j + " y", pts[j][1], r[1][j], 1e-3);
                quarterWorst = Math.max(quarterWorst, Math.abs(q[0][j] - pts[j][0]));
                quarterWorst = Math.max(quarterWorst, Math.abs(q[1][j] - pts[j][1]));
            }
            assertTrue("the quarter rule is off by " + quarterWorst, quarterWorst > 0.5);
        }
    }

    /** A Gaussian whose centre is a cell centre: no shift at all, to the bit. */
    @Test
    public void logParabolaSymmetricPeakHasNoShift() {
        float[] hm = new float[H * W * K];
        set(hm, 2, 2, 0, 1.0f);
        set(hm, 2, 1, 0, (float) Math.exp(-0.5));
        set(hm, 2, 3, 0, (float) Math.exp(-0.5));
        set(hm, 1, 2, 0, (float) Math.exp(-0.5));
        set(hm, 3, 2, 0, (float) Math.exp(-0.5));
        float[][] r = decode("argmax_log_parabola", hm, H, W, K, 8);
        assertEquals(2.5f * 8 - 0.5f, r[0][0], 0f);
        assertEquals(2.5f * 8 - 0.5f, r[1][0], 0f);
    }

    /**
     * test_log_parabola_rule_golden: x from exp(-2) and exp(-0.5) (a = 2, b = 0.5); y with the
     * upper neighbour 0 floored at 0.01 * peak (a = -ln 0.01) and the lower one 0.5 (b = ln 2);
     * channel 1 has no positive value (-1 everywhere, -1.5 at (0, 3)): the first cell, no shift,
     * confidence -1.
     */
    @Test
    public void logParabolaHandComputedFlooredAndNonPositive() {
        int h = 4;
        int w = 4;
        int k = 2;
        float[] hm = new float[h * w * k];
        hm[(1 * w + 2) * k] = 1.0f;
        hm[(1 * w + 1) * k] = (float) Math.exp(-2.0);
        hm[(1 * w + 3) * k] = (float) Math.exp(-0.5);
        hm[(0 * w + 2) * k] = 0.0f;
        hm[(2 * w + 2) * k] = 0.5f;
        hm[(0 * w + 3) * k + 1] = -0.5f;
        for (int i = 0; i < h * w; i++) {
            hm[i * k + 1] -= 1.0f;
        }
        float[][] r = decode("argmax_log_parabola", hm, h, w, k, 8);
        double a = 2.0;
        double b = 0.5;
        double ay = -Math.log(0.01);
        double by = Math.log(2.0);
        assertEquals(pixel(2 + 0.5 * (a - b) / (a + b)), r[0][0], 1e-5);
        assertEquals(pixel(1 + 0.5 * (ay - by) / (ay + by)), r[1][0], 1e-5);
        assertEquals(1.0f, r[2][0], 0f);
        assertEquals(pixel(0), r[0][1], 0.0);
        assertEquals(pixel(0), r[1][1], 0.0);
        assertEquals(-1.0f, r[2][1], 0f);
    }

    /** A neighbour below 1 % of the peak counts as 1 % of the peak (here the left one, 0.001). */
    @Test
    public void logParabolaFloorsASmallNeighbour() {
        float[] hm = new float[H * W * K];
        set(hm, 2, 2, 0, 0.8f);
        set(hm, 2, 1, 0, 0.001f); // floored at 0.008
        set(hm, 2, 3, 0, 0.4f);
        set(hm, 2, 2, 1, 0.8f);
        set(hm, 2, 1, 1, 0.008f); // the floor itself: the same result
        set(hm, 2, 3, 1, 0.4f);
        float[][] r = decode("argmax_log_parabola", hm, H, W, K, 8);
        double a = Math.log(100.0); // ln 0.8 - ln 0.008
        double b = Math.log(2.0);
        assertEquals(pixel(2 + 0.5 * (a - b) / (a + b)), r[0][0], 1e-5);
        assertEquals(r[0][1], r[0][0], 0f);
        assertEquals(pixel(2), r[1][0], 0.0); // rows 1 and 3 are 0 for both: floored alike
    }

    /** Border peaks are not shifted on the axis they are on the border of; the other axis is. */
    @Test
    public void logParabolaBorderPeak() {
        float[] hm = new float[H * W * K];
        set(hm, 0, 4, 0, 0.9f); // corner: no shift at all
        set(hm, 0, 3, 0, 0.8f);
        set(hm, 1, 4, 0, 0.8f);
        set(hm, 2, 0, 1, 0.9f); // left column, interior row: y shifts, x does not
        set(hm, 2, 1, 1, 0.85f);
        set(hm, 1, 0, 1, 0.3f);
        set(hm, 3, 0, 1, 0.6f);
        float[][] r = decode("argmax_log_parabola", hm, H, W, K, 8);
        assertEquals(pixel(4), r[0][0], 0.0);
        assertEquals(pixel(0), r[1][0], 0.0);
        assertEquals(0.9f, r[2][0], 0f);
        double a = Math.log(0.9 / 0.3);
        double b = Math.log(0.9 / 0.6);
        assertEquals(pixel(0), r[0][1], 0.0);
        assertEquals(pixel(2 + 0.5 * (a - b) / (a + b)), r[1][1], 1e-5);
    }

    /** A peak of 0 or below: no shift on either axis; confidence is the peak. */
    @Test
    public void logParabolaNonPositivePeak() {
        float[] hm = new float[H * W * K];
        java.util.Arrays.fill(hm, -2.0f);
        set(hm, 2, 2, 0, -0.1f);
        set(hm, 2, 3, 0, -0.5f);
        set(hm, 1, 2, 0, -0.2f);
        // joint 1: all zeros (a peak of exactly 0)
        for (int i = 0; i < H * W; i++) {
            hm[i * K + 1] = 0.0f;
        }
        float[][] r = decode("argmax_log_parabola", hm, H, W, K, 8);
        assertEquals(pixel(2), r[0][0], 0.0);
        assertEquals(pixel(2), r[1][0], 0.0);
        assertEquals(-0.1f, r[2][0], 0f);
        assertEquals(pixel(0), r[0][1], 0.0); // all equal: the first cell, no shift
        assertEquals(pixel(0), r[1][1], 0.0);
        assertEquals(0.0f, r[2][1], 0f);
    }

    /**
     * A neighbour equal to the peak (possible only after it in row-major order: the first max is
     * the argmax) gives the largest shift, half a cell towards it.
     */
    @Test
    public void logParabolaEqualNeighbourShiftsHalfACell() {
        float[] hm = new float[H * W * K];
        set(hm, 1, 1, 0, 0.5f);
        set(hm, 1, 2, 0, 0.5f); // later in row-major order: argmax stays at (1, 1)
        set(hm, 1, 0, 0, 0.2f);
        set(hm, 0, 1, 0, 0.2f);
        set(hm, 2, 1, 0, 0.2f);
        float[][] r = decode("argmax_log_parabola", hm, H, W, K, 8);
        assertEquals(pixel(1.5), r[0][0], 0.0);
        assertEquals(pixel(1), r[1][0], 0.0);
    }

    @Test
    public void logParabolaOffsetStaysWithinHalfACell() {
        assertEquals(-0.5f, HeatmapDecoder.LogParabola.offset(0.5f, 0.5f, 0.0f), 0f);
        assertEquals(0.5f, HeatmapDecoder.LogParabola.offset(0.0f, 0.5f, 0.5f), 0f);
        assertEquals(0.0f, HeatmapDecoder.LogParabola.offset(0.0f, 0.5f, 0.0f), 0f);
        // a + b = 0 (only with a neighbour above the peak, which an argmax never has): no shift
        assertEquals(0.0f, HeatmapDecoder.LogParabola.offset(0.5f, 0.5f, 0.5f), 0f);
        // not a positive peak: no shift, whatever the neighbours
        assertEquals(0.0f, HeatmapDecoder.LogParabola.offset(-1.0f, 0.0f, -0.5f), 0f);
        assertEquals(0.0f, HeatmapDecoder.LogParabola.offset(Float.NaN, Float.NaN, 1.0f), 0f);
    }
}
