package org.dkdtf.posedemo.ml;

/**
 * A person finder's graph (finder.json, {@link org.dkdtf.posedemo.core.PersonFinder}): the whole
 * frame's crop in, its raw output out, decoded by PersonFinder. No Android types, so the tracker
 * runs on the desktop JVM in tests with a fake finder.
 */
public interface FinderModel {
    /**
     * crop: float32 S x S x 3 RGB 0..255, flat NHWC, as {@code CropTransform.sample} fills it;
     * returns the raw output, flat ([1, people, values] for MoveNet MultiPose).
     */
    float[] find(float[] crop);

    /** e.g. "MultiPose CPU x2". */
    String describe();

    void close();
}
