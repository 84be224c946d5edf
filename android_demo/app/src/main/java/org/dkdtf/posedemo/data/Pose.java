package org.dkdtf.posedemo.data;

import java.util.Collections;
import java.util.List;

/** The keypoints of one person in one frame, in the manifest's joint order. */
public final class Pose {
    public final List<Keypoint> keypoints;
    /** Mean of the keypoints' peak values (float32 pairwise sum, as numpy.mean). */
    public final float meanScore;

    public Pose(List<Keypoint> keypoints, float meanScore) {
        this.keypoints = Collections.unmodifiableList(keypoints);
        this.meanScore = meanScore;
    }
}
