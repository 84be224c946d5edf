package org.dkdtf.posedemo.data;

/** One joint: position in frame pixels (0-based pixel centres) and its heatmap peak value. */
public final class Keypoint {
    public final String name;
    public final float x;
    public final float y;
    public final float score;

    public Keypoint(String name, float x, float y, float score) {
        this.name = name;
        this.x = x;
        this.y = y;
        this.score = score;
    }

    @Override
    public String toString() {
        return name + "(" + x + ", " + y + ", " + score + ")";
    }
}
