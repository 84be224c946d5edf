package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

/** The argmax_quarter_offset rule on hand-made heatmaps (the golden vectors test real ones). */
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
            assertTrue(e.getMessage(), e.getMessage().contains("unknown decoding rule"));
        }
    }
}
