package org.dkdtf.posedemo.data;

/** An axis-aligned box (x1, y1, x2, y2) in frame pixels, float32 like the Python tracker's. */
public final class CropRegion {
    public final float x1;
    public final float y1;
    public final float x2;
    public final float y2;

    public CropRegion(float x1, float y1, float x2, float y2) {
        this.x1 = x1;
        this.y1 = y1;
        this.x2 = x2;
        this.y2 = y2;
    }

    public float width() {
        return x2 - x1;
    }

    public float height() {
        return y2 - y1;
    }

    public boolean isFinite() {
        return !(Float.isNaN(x1) || Float.isInfinite(x1) || Float.isNaN(y1) || Float.isInfinite(y1)
                || Float.isNaN(x2) || Float.isInfinite(x2) || Float.isNaN(y2)
                || Float.isInfinite(y2));
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CropRegion)) {
            return false;
        }
        CropRegion c = (CropRegion) o;
        return Float.floatToIntBits(x1) == Float.floatToIntBits(c.x1)
                && Float.floatToIntBits(y1) == Float.floatToIntBits(c.y1)
                && Float.floatToIntBits(x2) == Float.floatToIntBits(c.x2)
                && Float.floatToIntBits(y2) == Float.floatToIntBits(c.y2);
    }

    @Override
    public int hashCode() {
        int h = Float.floatToIntBits(x1);
        h = 31 * h + Float.floatToIntBits(y1);
        h = 31 * h + Float.floatToIntBits(x2);
        return 31 * h + Float.floatToIntBits(y2);
    }

    @Override
    public String toString() {
        return "[" + x1 + ", " + y1 + ", " + x2 + ", " + y2 + "]";
    }
}
