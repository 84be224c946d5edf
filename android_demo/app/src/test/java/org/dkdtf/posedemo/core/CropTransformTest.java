package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;

import org.dkdtf.posedemo.data.CropRegion;
import org.junit.Test;

public class CropTransformTest {
    @Test
    public void boxCentreMapsToTheCropCentreAndBack() {
        CropRegion box = new CropRegion(10f, 20f, 50f, 100f); // size 80, crop side 100
        CropTransform t = new CropTransform(box, 64, 1.25);
        assertEquals(80f, t.size, 0f);
        assertEquals(0.64f, t.zoom, 1e-7f);
        assertEquals(31.5f, t.zoom * 30f + t.tx, 1e-5f);
        assertEquals(30f, t.toFrameX(31.5f), 1e-4f);
        assertEquals(60f, t.toFrameY(31.5f), 1e-4f);
        CropRegion covered = t.coveredRegion();
        assertEquals(-20f, covered.x1, 0f);
        assertEquals(110f, covered.y2, 0f);
    }

    @Test
    public void samplesBilinearlyWithBlackOutside() {
        // A 4x4 frame, a box whose crop is exactly the frame at 4x4: pixel-exact copy.
        int[] argb = new int[16];
        for (int i = 0; i < 16; i++) {
            argb[i] = 0xff000000 | (i * 10 << 16) | (i << 8) | 255;
        }
        CropRegion box = new CropRegion(-0.5f, -0.5f, 3.5f - 0.8f, 3.5f - 0.8f);
        // size 3.2 -> crop side 4 frame pixels -> zoom 1
        CropTransform t = new CropTransform(box, 4, 1.25);
        assertEquals(1f, t.zoom, 1e-6f);
        float[] out = new float[4 * 4 * 3];
        t.sample(argb, 4, 4, out);
        float dx = t.toFrameX(0f);
        // every output pixel is the frame at (col + dx, row + dy): check one interior value
        int col = 1;
        int row = 2;
        float sx = col + dx;
        float sy = row + t.toFrameY(0f);
        int x0 = (int) Math.floor(sx);
        int y0 = (int) Math.floor(sy);
        float fx = sx - x0;
        float fy = sy - y0;
        float r00 = (argb[y0 * 4 + x0] >> 16) & 0xff;
        float r01 = (argb[y0 * 4 + x0 + 1] >> 16) & 0xff;
        float r10 = (argb[(y0 + 1) * 4 + x0] >> 16) & 0xff;
        float r11 = (argb[(y0 + 1) * 4 + x0 + 1] >> 16) & 0xff;
        float expected = (1 - fy) * ((1 - fx) * r00 + fx * r01) + fy * ((1 - fx) * r10 + fx * r11);
        assertEquals(expected, out[(row * 4 + col) * 3], 1e-3f);
        assertEquals(255f, out[(row * 4 + col) * 3 + 2], 1e-3f);
        // far outside the frame: black
        CropTransform away = new CropTransform(new CropRegion(100f, 100f, 104f, 104f), 4, 1.25);
        away.sample(argb, 4, 4, out);
        for (float v : out) {
            assertEquals(0f, v, 0f);
        }
    }
}
