package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;

import org.dkdtf.posedemo.data.CropRegion;
import org.dkdtf.posedemo.ml.PoseModel;
import org.junit.BeforeClass;
import org.junit.Test;

/** The tracker's policies through process() with a fake model (the golden vectors pin the rest). */
public class PoseTrackerTest {
    private static Manifest manifest;

    @BeforeClass
    public static void load() throws Exception {
        manifest = Manifest.parse(TestResources.text("/manifest_fixture.json"), "fixture");
    }

    /** Heatmaps with every joint's peak at one cell and a chosen confidence. */
    private static final class FakeModel implements PoseModel {
        final List<String> calls = new ArrayList<String>();
        float confidence = 0.9f;

        private Output out(String graph) {
            calls.add(graph);
            float[] hm = new float[manifest.heatmapSize()];
            for (int k = 0; k < manifest.numJoints; k++) {
                int row = 1 + k % 6;
                int col = 1 + (k * 5) % 6;
                hm[(row * manifest.heatmapWidth + col) * manifest.numJoints + k] = confidence;
            }
            return new Output(hm, new float[manifest.stateSize()], graph);
        }

        @Override
        public Output initialize(float[] frame) {
            assertEquals(manifest.inputSize * manifest.inputSize * 3, frame.length);
            return out(PoseTracker.INITIALIZER);
        }

        @Override
        public Output step(float[] frame, float[] state) {
            assertEquals(manifest.stateSize(), state.length);
            return out(PoseTracker.STEPPER);
        }

        @Override
        public String describe() {
            return "fake";
        }

        @Override
        public void close() {
        }
    }

    @Test
    public void periodicAndConfidenceReinitialization() {
        PoseTracker t = new PoseTracker(manifest, manifest.tracker.withReinitEvery(3));
        FakeModel model = new FakeModel();
        int[] frame = new int[160 * 120];
        String[] reasons = new String[7];
        for (int i = 0; i < 7; i++) {
            if (i == 4) {
                model.confidence = 0.01f; // below reinit_threshold: next frame re-initializes
            } else if (i == 5) {
                model.confidence = 0.9f;
            }
            PoseTracker.FrameResult r = t.process(frame, 160, 120, model);
            reasons[i] = r.graph + "/" + r.reason;
        }
        assertEquals("initializer/start", reasons[0]);
        assertEquals("stepper/", reasons[1]);
        assertEquals("stepper/", reasons[2]);
        assertEquals("initializer/periodic", reasons[3]);
        assertEquals("stepper/", reasons[4]);
        assertEquals("initializer/confidence", reasons[5]);
        assertEquals("stepper/", reasons[6]);
        assertEquals(2, t.reinitializations());
        assertEquals(3, t.initializerRuns());
    }

    @Test
    public void badFrameReinitializesAndTheBoxFollows() {
        PoseTracker t = new PoseTracker(manifest);
        FakeModel model = new FakeModel();
        int[] frame = new int[160 * 120];
        CropRegion start = PoseTracker.fullFrameBox(160, 120, manifest.cropMargin);
        t.process(frame, 160, 120, model);
        assertTrue("the box should follow confident keypoints", !start.equals(t.box()));
        t.markBadFrame();
        PoseTracker.FrameResult r = t.process(frame, 160, 120, model);
        assertEquals(PoseTracker.INITIALIZER, r.graph);
        assertEquals(PoseTracker.BAD_FRAME, r.reason);
        assertEquals(1, t.badFrames());
        // The followed size changes by at most follow_max_resize per frame.
        float ratio = r.box.width() / start.width();
        assertTrue("resize " + ratio, ratio >= 1 / 1.1f - 1e-6f && ratio <= 1.1f + 1e-6f);
    }

    /** Heatmaps with every joint's peak in the crop's top-left quarter (confidence 0.9). */
    private static float[] topLeftHeatmaps() {
        float[] hm = new float[manifest.heatmapSize()];
        for (int k = 0; k < manifest.numJoints; k++) {
            int row = k % 3;
            int col = (k * 2) % 4;
            hm[(row * manifest.heatmapWidth + col) * manifest.numJoints + k] = 0.9f;
        }
        return hm;
    }

    /** One frame of {@link #topLeftHeatmaps} from {@code start}; the box that follows. */
    private static CropRegion followOnce(TrackerConfig config, CropRegion start) {
        PoseTracker t = new PoseTracker(manifest, config);
        t.reset(start);
        PoseTracker.Plan plan = t.plan(160, 120);
        t.complete(plan, topLeftHeatmaps(), new float[manifest.stateSize()], 0.0);
        return t.box();
    }

    private static double midX(CropRegion b) {
        return (b.x1 + b.x2) / 2.0;
    }

    private static double midY(CropRegion b) {
        return (b.y1 + b.y2) / 2.0;
    }

    @Test
    public void smoothingMovesTheCentreOneMinusSmoothingOfTheWay() {
        CropRegion start = new CropRegion(40f, 20f, 100f, 100f);
        // smoothing 0: the centre jumps to the keypoint box's centre
        CropRegion jump = followOnce(manifest.tracker.withFollowSmoothing(0.0), start);
        double dx = midX(jump) - midX(start);
        double dy = midY(jump) - midY(start);
        assertTrue("the keypoints should pull the box up and left: " + dx + ", " + dy,
                dx < -5 && dy < -5);
        for (double s : new double[] {0.3, 0.7, 0.95}) {
            CropRegion smooth = followOnce(manifest.tracker.withFollowSmoothing(s), start);
            assertEquals("x centre at smoothing " + s, midX(start) + (1 - s) * dx,
                    midX(smooth), 1e-4);
            assertEquals("y centre at smoothing " + s, midY(start) + (1 - s) * dy,
                    midY(smooth), 1e-4);
            // the size does not depend on the smoothing
            assertEquals("width at smoothing " + s, jump.width(), smooth.width(), 1e-4);
            assertEquals("height at smoothing " + s, jump.height(), smooth.height(), 1e-4);
        }
    }

    @Test
    public void refusesSmoothingOutsideZeroToOne() {
        for (double bad : new double[] {1.0, 1.5, -0.1, Double.NaN}) {
            try {
                manifest.tracker.withFollowSmoothing(bad);
                fail("accepted follow_smoothing " + bad);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("follow_smoothing " + bad));
            }
        }
        assertEquals(0.0, manifest.tracker.withFollowSmoothing(0.0).followSmoothing, 0.0);
        assertEquals(0.999, manifest.tracker.withFollowSmoothing(0.999).followSmoothing, 0.0);
    }

    @Test
    public void meanIsNumpysPairwiseFloat32Mean() {
        float[] v = new float[13];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.1f * (i + 1) / 3f;
        }
        // numpy: 8 accumulators over the first 8 (n=13 < 16: no second block), then the rest
        float r = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
        for (int i = 8; i < 13; i++) {
            r += v[i];
        }
        assertEquals(Float.floatToIntBits(r / 13f), Float.floatToIntBits(Numerics.mean(v)));
    }
}
