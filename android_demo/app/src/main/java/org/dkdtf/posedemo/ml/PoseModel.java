package org.dkdtf.posedemo.ml;

/**
 * The streaming contract (DESIGN.md) as the app sees it: two graphs, both batch 1.
 * <ul>
 *   <li>{@code initialize(frame) -> (heatmaps, state)}</li>
 *   <li>{@code step(frame, state) -> (heatmaps, state)}</li>
 * </ul>
 * frame: float32 [1, S, S, 3] RGB 0..255 (normalization is inside the graph); heatmaps: float32
 * [1, S/stride, S/stride, K]; state: the manifest's state_shape. Arrays are flat, NHWC. No
 * Android types, so the tracker runs on the desktop JVM in tests with a fake model.
 */
public interface PoseModel {
    /** Heatmaps and next state of one graph run; {@code graph} says which graph ran. */
    final class Output {
        public final float[] heatmaps;
        public final float[] state;
        public final String graph;

        public Output(float[] heatmaps, float[] state, String graph) {
            this.heatmaps = heatmaps;
            this.state = state;
            this.graph = graph;
        }
    }

    Output initialize(float[] frame);

    Output step(float[] frame, float[] state);

    /** e.g. "TFLite CPU x4" or "TFLite GPU". */
    String describe();

    void close();
}
