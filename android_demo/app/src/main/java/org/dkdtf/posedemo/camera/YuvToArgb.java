package org.dkdtf.posedemo.camera;

import java.nio.ByteBuffer;

/**
 * YUV_420_888 planes (as an android.media.Image gives them) -> upright ARGB pixels: full-range
 * BT.601 (JFIF) colour conversion, then the clockwise rotation that makes the sensor image
 * upright, then a horizontal mirror for the front camera (what the user sees in a mirror).
 * Pure Java (no Android types), so it is tested on the desktop JVM.
 */
public final class YuvToArgb {
    private YuvToArgb() {
    }

    /** Width of the output for a source of {@code width} x {@code height} at {@code rotation}. */
    public static int outWidth(int width, int height, int rotation) {
        return rotation == 90 || rotation == 270 ? height : width;
    }

    public static int outHeight(int width, int height, int rotation) {
        return rotation == 90 || rotation == 270 ? width : height;
    }

    /**
     * The clockwise rotation (0, 90, 180, 270) that makes a camera's image upright on screen.
     *
     * @param sensorOrientation CameraCharacteristics.SENSOR_ORIENTATION
     * @param displayDegrees the display rotation in degrees (Surface.ROTATION_* times 90)
     * @param front a front (mirrored) camera
     */
    public static int uprightRotation(int sensorOrientation, int displayDegrees, boolean front) {
        if (front) {
            return (sensorOrientation + displayDegrees) % 360;
        }
        return (sensorOrientation - displayDegrees + 360) % 360;
    }

    /**
     * Converts one frame.
     *
     * @param out ARGB pixels, outWidth x outHeight, row-major
     */
    public static void convert(ByteBuffer yPlane, int yRowStride, int yPixelStride,
                               ByteBuffer uPlane, ByteBuffer vPlane, int uvRowStride,
                               int uvPixelStride, int width, int height, int rotation,
                               boolean mirror, int[] out) {
        if (rotation != 0 && rotation != 90 && rotation != 180 && rotation != 270) {
            throw new IllegalArgumentException("rotation " + rotation + " is not 0/90/180/270");
        }
        int ow = outWidth(width, height, rotation);
        int oh = outHeight(width, height, rotation);
        if (out.length < ow * oh) {
            throw new IllegalArgumentException("output holds " + out.length + " pixels, needs "
                    + (ow * oh));
        }
        for (int sy = 0; sy < height; sy++) {
            int yRow = sy * yRowStride;
            int uvRow = (sy >> 1) * uvRowStride;
            for (int sx = 0; sx < width; sx++) {
                int yv = yPlane.get(yRow + sx * yPixelStride) & 0xff;
                int uvIndex = uvRow + (sx >> 1) * uvPixelStride;
                int u = (uPlane.get(uvIndex) & 0xff) - 128;
                int v = (vPlane.get(uvIndex) & 0xff) - 128;
                // Fixed point (x 1024): 1.402, 0.344136, 0.714136, 1.772.
                int r = clamp(yv + ((1436 * v) >> 10));
                int g = clamp(yv - ((352 * u + 731 * v) >> 10));
                int b = clamp(yv + ((1815 * u) >> 10));
                int dx;
                int dy;
                switch (rotation) {
                    case 90:
                        dx = height - 1 - sy;
                        dy = sx;
                        break;
                    case 180:
                        dx = width - 1 - sx;
                        dy = height - 1 - sy;
                        break;
                    case 270:
                        dx = sy;
                        dy = width - 1 - sx;
                        break;
                    default:
                        dx = sx;
                        dy = sy;
                        break;
                }
                if (mirror) {
                    dx = ow - 1 - dx;
                }
                out[dy * ow + dx] = 0xff000000 | (r << 16) | (g << 8) | b;
            }
        }
    }

    private static int clamp(int c) {
        return c < 0 ? 0 : (c > 255 ? 255 : c);
    }
}
