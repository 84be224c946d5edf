package org.dkdtf.posedemo.camera;

import static org.junit.Assert.assertEquals;

import java.nio.ByteBuffer;

import org.junit.Test;

public class YuvToArgbTest {
    /** A 4x2 frame whose luma is its pixel index, neutral chroma (grey), NV21-like strides. */
    private static int[] convert(int rotation, boolean mirror) {
        int w = 4;
        int h = 2;
        ByteBuffer y = ByteBuffer.allocate(w * h);
        for (int i = 0; i < w * h; i++) {
            y.put(i, (byte) (i * 10));
        }
        ByteBuffer uv = ByteBuffer.allocate(4);
        for (int i = 0; i < 4; i++) {
            uv.put(i, (byte) 128);
        }
        int[] out = new int[w * h];
        YuvToArgb.convert(y, w, 1, uv, uv, 4, 2, w, h, rotation, mirror, out);
        return out;
    }

    private static int grey(int[] px, int i) {
        return px[i] & 0xff;
    }

    @Test
    public void greyLumaPassesThrough() {
        int[] px = convert(0, false);
        for (int i = 0; i < 8; i++) {
            assertEquals(i * 10, grey(px, i));
            assertEquals(0xff, px[i] >>> 24);
            assertEquals(grey(px, i), (px[i] >> 16) & 0xff);
        }
    }

    @Test
    public void rotatesClockwiseAndMirrors() {
        // Source rows: [0 1 2 3] [4 5 6 7]; 90 degrees clockwise -> 2 wide, 4 high:
        // [4 0] [5 1] [6 2] [7 3].
        int[] px = convert(90, false);
        int[] expected = {4, 0, 5, 1, 6, 2, 7, 3};
        for (int i = 0; i < 8; i++) {
            assertEquals(expected[i] * 10, grey(px, i));
        }
        int[] mirrored = convert(90, true);
        assertEquals(0, grey(mirrored, 0));
        assertEquals(40, grey(mirrored, 1));
        int[] upside = convert(180, false);
        assertEquals(70, grey(upside, 0));
        int[] left = convert(270, false); // [3 7] [2 6] [1 5] [0 4]
        assertEquals(30, grey(left, 0));
        assertEquals(40, grey(left, 7));
    }

    @Test
    public void uprightRotation() {
        assertEquals(90, YuvToArgb.uprightRotation(90, 0, false));
        assertEquals(0, YuvToArgb.uprightRotation(90, 90, false));
        assertEquals(270, YuvToArgb.uprightRotation(270, 0, true));
        assertEquals(0, YuvToArgb.uprightRotation(270, 90, true));
    }
}
