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

    // A person walking at a constant velocity (frame px a frame): the joints spread over a 20 x 60
    // px box, moved on by WALK each frame; the start box is their box with the follow margin.
    private static final float[] WALK = {5f, 1f};
    private static final double SMOOTHING = 0.7;
    private static final CropRegion WALK_START = new CropRegion(30.5f, 21f, 69.5f, 99f);

    private static float[] walkX(int frame) {
        float[] x = new float[manifest.numJoints];
        for (int i = 0; i < x.length; i++) {
            x[i] = 40f + 20f * i / (x.length - 1) + frame * WALK[0];
        }
        return x;
    }

    private static float[] walkY(int frame) {
        float[] y = new float[manifest.numJoints];
        for (int i = 0; i < y.length; i++) {
            y[i] = 30f + 60f * i / (y.length - 1) + frame * WALK[1];
        }
        return y;
    }

    private static float[] confidences(float c) {
        float[] out = new float[manifest.numJoints];
        java.util.Arrays.fill(out, c);
        return out;
    }

    /** The manifest's tracker with smoothing 0.7 and the given velocity share. */
    private static PoseTracker walker(double followVelocity) {
        PoseTracker t = new PoseTracker(manifest, manifest.tracker
                .withFollowSmoothing(SMOOTHING).withFollowVelocity(followVelocity));
        t.reset(WALK_START);
        return t;
    }

    /** Follows frames first .. first + n - 1 of the walk from {@code box}; the last box. */
    private static CropRegion walk(PoseTracker t, CropRegion box, int first, int n) {
        for (int i = first; i < first + n; i++) {
            box = t.followBox(walkX(i), walkY(i), confidences(1f), box);
        }
        return box;
    }

    /** How far the box centre trails the keypoint box's centre of {@code frame}, x and y. */
    private static double[] lag(CropRegion box, int frame) {
        return new double[] {
            (Numerics.min(walkX(frame)) + Numerics.max(walkX(frame))) / 2.0 - midX(box),
            (Numerics.min(walkY(frame)) + Numerics.max(walkY(frame))) / 2.0 - midY(box)};
    }

    /** One plain follow (no velocity) of frame {@code frame} from {@code from}: its centre. */
    private static void assertPlainAverage(String what, CropRegion from, CropRegion box,
                                           int frame) {
        double[] plain = lag(from, frame);
        assertEquals(what + ": x centre", midX(from) + (1 - SMOOTHING) * plain[0], midX(box),
                1e-3);
        assertEquals(what + ": y centre", midY(from) + (1 - SMOOTHING) * plain[1], midY(box),
                1e-3);
    }

    @Test
    public void theBoxKeepsUpWithAWalkingPerson() {
        // follow_velocity 0: the moving average lags by v s / (1 - s) (11.67, 2.33 px)
        double[] still = lag(walk(walker(0.0), WALK_START, 0, 60), 59);
        for (int a = 0; a < 2; a++) {
            assertEquals("lag without the velocity, axis " + a,
                    WALK[a] * SMOOTHING / (1 - SMOOTHING), still[a], 1e-3);
        }
        // follow_velocity 1: a constant-velocity prediction, no steady lag
        double[] moving = lag(walk(walker(1.0), WALK_START, 0, 60), 59);
        for (int a = 0; a < 2; a++) {
            assertTrue("lag with the velocity, axis " + a + ": " + moving[a],
                    Math.abs(moving[a]) < 0.01);
        }
        // in between: less lag than without
        double[] half = lag(walk(walker(0.5), WALK_START, 0, 60), 59);
        for (int a = 0; a < 2; a++) {
            assertTrue("lag at 0.5, axis " + a + ": " + half[a],
                    half[a] > 0.01 && half[a] < WALK[a] * SMOOTHING / (1 - SMOOTHING));
        }
        // the size does not depend on the velocity
        CropRegion box = walk(walker(1.0), WALK_START, 0, 60);
        assertEquals(WALK_START.width(), box.width(), 1e-4);
        assertEquals(WALK_START.height(), box.height(), 1e-4);
    }

    @Test
    public void theVelocityStartsAtZeroWithEveryPerson() {
        // at a reset: the first move is the plain average's again
        PoseTracker t = walker(1.0);
        walk(t, WALK_START, 0, 20);
        t.reset(WALK_START);
        assertPlainAverage("after a reset", WALK_START, walk(t, WALK_START, 1, 1), 1);
        // after an unreadable frame
        t = walker(1.0);
        CropRegion box = walk(t, WALK_START, 0, 20);
        t.markBadFrame();
        assertPlainAverage("after a bad frame", box, walk(t, box, 21, 1), 21);
        // when the whole frame is looked at (no box: a new or lost person)
        t = walker(1.0);
        t.reset(null);
        box = walk(t, WALK_START, 0, 20);
        t.plan(160, 120);
        assertPlainAverage("after a whole-frame search", box, walk(t, box, 20, 1), 20);
        // ... but not when the next frame has a box to look in
        t = walker(1.0);
        box = walk(t, WALK_START, 0, 20);
        t.plan(160, 120);
        double[] kept = lag(walk(t, box, 20, 1), 20);
        assertTrue("the velocity should carry on: lag " + kept[0], Math.abs(kept[0]) < 0.5);
    }

    @Test
    public void aFrameThatLeavesTheBoxLeavesTheVelocity() {
        PoseTracker twin = walker(1.0);
        CropRegion expected = walk(twin, walk(twin, WALK_START, 0, 20), 20, 1);
        // too few confident keypoints: the box stays, the velocity too
        PoseTracker t = walker(1.0);
        assertTrue(manifest.tracker.keypointThreshold > 0);
        CropRegion box = walk(t, WALK_START, 0, 20);
        assertEquals(box, t.followBox(walkX(20), walkY(20), confidences(0f), box));
        assertEquals(expected, walk(t, box, 20, 1));
        // a low-confidence frame (no follow): likewise
        t = walker(1.0);
        box = walk(t, WALK_START, 0, 20);
        PoseTracker.Plan plan = t.plan(160, 120);
        t.complete(plan, new float[manifest.heatmapSize()], new float[manifest.stateSize()],
                0.0);
        assertEquals("a low-confidence frame keeps the box", WALK_START, t.box());
        assertEquals(expected, walk(t, box, 20, 1));
        // non-finite keypoints: the box stays, and no NaN sticks in the velocity
        t = walker(1.0);
        box = walk(t, WALK_START, 0, 20);
        float[] inf = new float[manifest.numJoints];
        java.util.Arrays.fill(inf, Float.POSITIVE_INFINITY);
        assertEquals(box, t.followBox(inf, walkY(20), confidences(1f), box));
        assertEquals(expected, walk(t, box, 20, 1));
    }

    @Test
    public void refusesFollowVelocityOutsideItsRange() {
        for (double bad : new double[] {1.5, -0.1, Double.NaN}) {
            try {
                manifest.tracker.withFollowVelocity(bad);
                fail("accepted follow_velocity " + bad);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("follow_velocity " + bad));
            }
        }
        for (double bad : new double[] {1.0, 1.5, -0.1, Double.NaN}) {
            try {
                manifest.tracker.withFollowVelocityMemory(bad);
                fail("accepted follow_velocity_memory " + bad);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(),
                        e.getMessage().contains("follow_velocity_memory " + bad));
            }
        }
        assertEquals(1.0, manifest.tracker.withFollowVelocity(1.0).followVelocity, 0.0);
        assertEquals(0.0, manifest.tracker.withFollowVelocityMemory(0.0).followVelocityMemory,
                0.0);
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
