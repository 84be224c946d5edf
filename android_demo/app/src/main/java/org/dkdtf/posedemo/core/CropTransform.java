package org.dkdtf.posedemo.core;

import org.dkdtf.posedemo.data.CropRegion;

/**
 * The square crop around a person box, as dkd_tf.data.transforms builds it for streaming (no
 * scale, rotation or flip): centre = box centre, person size = max side (at least 1), the crop
 * covers size * margin frame pixels and is resized to the model's input size.
 *
 * <p>Forward matrix (frame -> input pixels) in float32 as TensorFlow computes crop_matrix:
 * zoom = S / (size * margin), t = (S - 1) / 2 - zoom * centre. The inverse (input -> frame) in
 * float64 as numpy.linalg.inv gives it (1 / zoom, -t * (1 / zoom)), points cast to float32 as
 * transforms.invert_points does.
 */
public final class CropTransform {
    public final int inputSize;
    public final double margin;
    public final float centerX;
    public final float centerY;
    /** Person size: the box's larger side, at least 1 pixel. */
    public final float size;
    public final float zoom;
    public final float tx;
    public final float ty;
    private final double invScale;
    private final double invTx;
    private final double invTy;

    public CropTransform(CropRegion box, int inputSize, double margin) {
        this.inputSize = inputSize;
        this.margin = margin;
        centerX = (box.x1 + box.x2) / 2.0f;
        centerY = (box.y1 + box.y2) / 2.0f;
        size = Math.max(Math.max(box.x2 - box.x1, box.y2 - box.y1), 1.0f);
        zoom = (float) inputSize / ((size * (float) margin) * 1.0f);
        float half = (float) ((inputSize - 1) / 2.0);
        tx = half - (zoom * centerX + 0.0f * centerY);
        ty = half - (-0.0f * centerX + zoom * centerY);
        invScale = 1.0 / (double) zoom;
        invTx = -(double) tx * invScale;
        invTy = -(double) ty * invScale;
    }

    /** Frame pixel x -> input (crop) pixel x, in float64 as numpy maps the last keypoints
     * through crop_frame's matrix (dkd_tf PoseTracker's motion prior), cast to float32. */
    public float toCropX(float x) {
        return (float) ((double) x * (double) zoom + (double) tx);
    }

    /** Frame pixel y -> input (crop) pixel y (as {@link #toCropX}). */
    public float toCropY(float y) {
        return (float) ((double) y * (double) zoom + (double) ty);
    }

    /** Input (crop) pixel x -> frame pixel x. */
    public float toFrameX(float x) {
        return (float) ((double) x * invScale + invTx);
    }

    /** Input (crop) pixel y -> frame pixel y. */
    public float toFrameY(float y) {
        return (float) ((double) y * invScale + invTy);
    }

    /** The frame region the crop covers (FrameResult.crop of dkd_tf.stream). */
    public CropRegion coveredRegion() {
        double half = (double) size * margin / 2.0;
        return new CropRegion((float) (centerX - half), (float) (centerY - half),
                (float) (centerX + half), (float) (centerY + half));
    }

    /**
     * Fills {@code out} (S * S * 3 floats, RGB 0..255, row-major) with the crop of an ARGB frame,
     * sampled bilinearly at the inverse-mapped pixel centres with black outside the frame, as
     * tf.raw_ops.ImageProjectiveTransformV3 (BILINEAR, CONSTANT 0) does in dkd_tf.
     */
    public void sample(int[] argb, int width, int height, float[] out) {
        int s = inputSize;
        if (out.length != s * s * 3 || argb.length < width * height) {
            throw new IllegalArgumentException("crop buffer holds " + out.length + " floats, needs "
                    + (s * s * 3) + "; frame " + width + "x" + height + " has " + argb.length);
        }
        float scale = (float) invScale;
        float offX = (float) invTx;
        float offY = (float) invTy;
        int o = 0;
        for (int row = 0; row < s; row++) {
            float y = row * scale + offY;
            for (int col = 0; col < s; col++) {
                float x = col * scale + offX;
                if (x < -1f || x > width || y < -1f || y > height) {
                    out[o++] = 0f;
                    out[o++] = 0f;
                    out[o++] = 0f;
                    continue;
                }
                int x0 = (int) Math.floor(x);
                int y0 = (int) Math.floor(y);
                float fx = x - x0;
                float fy = y - y0;
                for (int ch = 0; ch < 3; ch++) {
                    int shift = 16 - 8 * ch;
                    float top = (1f - fx) * pixel(argb, width, height, x0, y0, shift)
                            + fx * pixel(argb, width, height, x0 + 1, y0, shift);
                    float bottom = (1f - fx) * pixel(argb, width, height, x0, y0 + 1, shift)
                            + fx * pixel(argb, width, height, x0 + 1, y0 + 1, shift);
                    out[o++] = (1f - fy) * top + fy * bottom;
                }
            }
        }
    }

    private static float pixel(int[] argb, int width, int height, int x, int y, int shift) {
        if (x < 0 || y < 0 || x >= width || y >= height) {
            return 0f;
        }
        return (argb[y * width + x] >> shift) & 0xff;
    }
}
