package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

/** The keypoint filter's behaviour; its numbers against Python's are in GoldenVectorsTest. */
public class OneEuroFilterTest {

    @Test
    public void stillKeypointsPassUnchanged() {
        OneEuroFilter f = new OneEuroFilter();
        for (int t = 0; t < 5; t++) {
            float[] x = {10f, 30.5f};
            float[] y = {20f, 40.25f};
            f.apply(x, y, 100.0);
            assertEquals(10f, x[0], 1e-5f);
            assertEquals(40.25f, y[1], 1e-5f);
        }
    }

    @Test
    public void aFastJointLagsFarLessThanWithAFixedCutoff() {
        double[] lag = new double[2];
        double[] betas = {0.0, OneEuroFilter.DEFAULT_BETA};
        for (int b = 0; b < 2; b++) {
            OneEuroFilter f = new OneEuroFilter(OneEuroFilter.DEFAULT_MIN_CUTOFF, betas[b],
                    OneEuroFilter.DEFAULT_D_CUTOFF);
            float[] x = new float[1];
            for (int t = 0; t < 40; t++) { // 0.2 person sizes a frame
                x[0] = 20f * t;
                f.apply(x, new float[1], 100.0);
            }
            lag[b] = 20.0 * 39 - x[0];
        }
        assertTrue("fixed cut-off lag " + lag[0], lag[0] > 25.0);
        assertTrue("adaptive lag " + lag[1], lag[1] < 0.2 * lag[0]);
    }

    @Test
    public void resetForgetsThePast() {
        OneEuroFilter f = new OneEuroFilter();
        f.apply(new float[] {0f}, new float[] {0f}, 100.0);
        float[] x = {80f};
        f.apply(x, new float[] {80f}, 100.0);
        assertTrue("smoothed " + x[0], x[0] < 79f);
        f.reset();
        x[0] = -5f;
        f.apply(x, new float[] {-5f}, 100.0);
        assertEquals(-5f, x[0], 0f);
    }

    @Test
    public void settingsOutOfRangeAreRefused() {
        double[][] bad = {{0.0, 4.0, 0.3}, {Double.NaN, 4.0, 0.3}, {0.1, -1.0, 0.3},
            {0.1, 4.0, 0.0}, {0.1, Double.POSITIVE_INFINITY, 0.3}};
        for (double[] b : bad) {
            try {
                new OneEuroFilter(b[0], b[1], b[2]);
                fail("accepted " + b[0] + ", " + b[1] + ", " + b[2]);
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains("min_cutoff"));
            }
        }
    }
}
