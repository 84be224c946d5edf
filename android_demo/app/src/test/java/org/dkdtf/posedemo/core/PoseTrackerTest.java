package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;

import org.dkdtf.posedemo.data.CropRegion;
import org.dkdtf.posedemo.ml.FinderModel;
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

    /**
     * Heatmaps with every joint's peak at one cell and a chosen confidence: spread over rows and
     * columns 1..6 of the 8 x 8 cells (the keypoints span most of the crop), or clustered in
     * rows and columns 3..5 (a small person in the middle of the crop).
     */
    private static float[] peaks(boolean clustered, float confidence) {
        float[] hm = new float[manifest.heatmapSize()];
        for (int k = 0; k < manifest.numJoints; k++) {
            int row = clustered ? 3 + k % 3 : 1 + k % 6;
            int col = clustered ? 3 + (k / 3) % 3 : 1 + (k * 5) % 6;
            hm[(row * manifest.heatmapWidth + col) * manifest.numJoints + k] = confidence;
        }
        return hm;
    }

    /** Answers every crop with {@link #peaks}. */
    private static final class FakeModel implements PoseModel {
        final List<String> calls = new ArrayList<String>();
        float confidence = 0.9f;
        boolean clustered;

        private Output out(String graph) {
            calls.add(graph);
            return new Output(peaks(clustered, confidence), new float[manifest.stateSize()],
                    graph);
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
        PoseTracker.FrameResult first = t.process(frame, 160, 120, model);
        assertTrue("the box should follow confident keypoints", !first.box.equals(t.box()));
        t.markBadFrame();
        PoseTracker.FrameResult r = t.process(frame, 160, 120, model);
        assertEquals(PoseTracker.INITIALIZER, r.graph);
        assertEquals(PoseTracker.BAD_FRAME, r.reason);
        assertEquals(1, t.badFrames());
        // The followed size changes by at most follow_max_resize per frame (from the box the
        // first frame last looked in).
        float ratio = r.box.width() / first.box.width();
        assertTrue("resize " + ratio, ratio >= 1 / 1.1f - 1e-6f && ratio <= 1.1f + 1e-6f);
    }

    private static double side(CropRegion b) {
        return Math.max(b.width(), b.height());
    }

    /**
     * dkd_tf's PoseTracker._keypoint_box written out, for the keypoints {@code hm} gives in
     * {@code look}'s crop (all joints confident): their box, each side at least 1 px and half the
     * longer one, grown by follow_margin on each side.
     */
    private static CropRegion keypointBoxOf(PoseTracker.Plan look, float[] hm) {
        int k = manifest.numJoints;
        float[] x = new float[k];
        float[] y = new float[k];
        float[] c = new float[k];
        manifest.decoder.decode(hm, manifest.heatmapHeight, manifest.heatmapWidth, k, x, y, c);
        for (int i = 0; i < k; i++) {
            x[i] = look.crop.toFrameX(x[i]);
            y[i] = look.crop.toFrameY(y[i]);
        }
        double ex = Math.max(Numerics.max(x) - Numerics.min(x), 1.0);
        double ey = Math.max(Numerics.max(y) - Numerics.min(y), 1.0);
        double half = 0.5 * Math.max(ex, ey);
        double grow = 1.0 + 2.0 * manifest.tracker.followMargin;
        double w = Math.max(ex, half) * grow;
        double h = Math.max(ey, half) * grow;
        double cx = (Numerics.min(x) + Numerics.max(x)) / 2.0;
        double cy = (Numerics.min(y) + Numerics.max(y)) / 2.0;
        return new CropRegion((float) (cx - w / 2), (float) (cy - h / 2), (float) (cx + w / 2),
                (float) (cy + h / 2));
    }

    private static void assertBox(String where, CropRegion expected, CropRegion actual) {
        assertEquals(where + " x1", expected.x1, actual.x1, 1e-3);
        assertEquals(where + " y1", expected.y1, actual.y1, 1e-3);
        assertEquals(where + " x2", expected.x2, actual.x2, 1e-3);
        assertEquals(where + " y2", expected.y2, actual.y2, 1e-3);
    }

    @Test
    public void wholeFrameLookIsRefinedWhileTheBoxHalves() {
        // A small person: each look's keypoints' box is about 0.4 of the box looked in.
        float[] hm = peaks(true, 0.9f);
        PoseTracker t = new PoseTracker(manifest);
        PoseTracker.Plan look = t.plan(160, 120);
        assertEquals(0, look.look);
        assertTrue(look.wholeFrame);
        assertEquals(PoseTracker.fullFrameBox(160, 120, manifest.cropMargin), look.box);
        for (int i = 1; i <= PoseTracker.MAX_REFINE_LOOKS; i++) {
            PoseTracker.Plan next = t.refine(look, hm);
            assertTrue("refine look " + i + " after " + look.box, next != null);
            assertEquals(i, next.look);
            assertEquals(PoseTracker.INITIALIZER, next.graph);
            assertEquals(PoseTracker.START, next.reason);
            // the initializer again, in the same frame, on the box the keypoints span
            assertBox("refine look " + i, keypointBoxOf(look, hm), next.box);
            assertTrue("refine look " + i + " " + next.box + " after " + look.box,
                    side(next.box) < PoseTracker.REFINE_SHRINK * side(look.box));
            look = next;
        }
        // MAX_REFINE_LOOKS taken: no more, though the box would halve again
        assertTrue(side(keypointBoxOf(look, hm)) < PoseTracker.REFINE_SHRINK * side(look.box));
        assertNull(t.refine(look, hm));
        PoseTracker.FrameResult r = t.complete(look, hm, new float[manifest.stateSize()], 7.0);
        assertEquals("the last box looked in", look.box, r.box);
        assertEquals(look.crop.coveredRegion(), r.crop);
        assertEquals(7.0, r.latencyMs, 0.0);
        assertEquals(1, t.initializerRuns());

        // process() takes the same looks, and the last box looked in is the start box: the
        // followed box shrinks towards the small person down to 0.7 of it (follow_scale_range).
        FakeModel model = new FakeModel();
        model.clustered = true;
        PoseTracker p = new PoseTracker(manifest);
        int[] frame = new int[160 * 120];
        PoseTracker.FrameResult first = p.process(frame, 160, 120, model);
        List<String> looks = new ArrayList<String>();
        for (int i = 0; i <= PoseTracker.MAX_REFINE_LOOKS; i++) {
            looks.add(PoseTracker.INITIALIZER);
        }
        assertEquals(looks, model.calls);
        assertEquals(look.box, first.box);
        for (int i = 0; i < 20; i++) {
            p.process(frame, 160, 120, model);
        }
        assertEquals(PoseTracker.STEPPER, model.calls.get(model.calls.size() - 1));
        assertEquals(manifest.tracker.followScaleLow * look.box.width(), p.box().width(), 1e-3);
        assertEquals(manifest.tracker.followScaleLow * look.box.height(), p.box().height(),
                1e-3);
    }

    @Test
    public void refineStopsWhenTheBoxNoLongerHalves() {
        // The keypoints span most of the crop: after the first refine look (which always
        // follows a whole-frame look) the box is not under REFINE_SHRINK of the last.
        float[] hm = peaks(false, 0.9f);
        PoseTracker t = new PoseTracker(manifest);
        PoseTracker.Plan whole = t.plan(160, 120);
        PoseTracker.Plan once = t.refine(whole, hm);
        assertTrue("no refine look after the whole frame", once != null);
        assertBox("refine look 1", keypointBoxOf(whole, hm), once.box);
        CropRegion again = keypointBoxOf(once, hm);
        assertTrue(again + " after " + once.box,
                side(again) >= PoseTracker.REFINE_SHRINK * side(once.box));
        assertNull(t.refine(once, hm));
        FakeModel model = new FakeModel();
        PoseTracker.FrameResult r = new PoseTracker(manifest).process(new int[160 * 120], 160,
                120, model);
        assertEquals(2, model.calls.size());
        assertEquals(once.box, r.box);
    }

    @Test
    public void onlyAWholeFrameLookIsRefined() {
        float[] hm = peaks(true, 0.9f);
        // too few confident keypoints for a box
        PoseTracker t = new PoseTracker(manifest);
        assertNull(t.refine(t.plan(160, 120), peaks(true, 0.01f)));
        // a given start box, then the stepper in the followed box
        t.reset(new CropRegion(40f, 20f, 100f, 100f));
        PoseTracker.Plan given = t.plan(160, 120);
        assertTrue(!given.wholeFrame);
        assertNull(t.refine(given, hm));
        t.complete(given, hm, new float[manifest.stateSize()], 0.0);
        PoseTracker.Plan step = t.plan(160, 120);
        assertEquals(PoseTracker.STEPPER, step.graph);
        assertNull(t.refine(step, hm));
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

    /** golden/finder.json (MultiPose) for the fixture's joints (the golden export's). */
    private static PersonFinder finder() throws Exception {
        return PersonFinder.parse(TestResources.text("/golden/finder.json"), "finder.json",
                manifest);
    }

    /**
     * Answers every crop with person 0 (score 0.8) whose 17 keypoints have {@code score}, at
     * x in 0.40..0.56 and y in 0.30..0.62 of the crop, the other slots empty.
     */
    private static final class FakeFinder implements FinderModel {
        final PersonFinder spec;
        float score;
        int calls;

        FakeFinder(PersonFinder spec, float score) {
            this.spec = spec;
            this.score = score;
        }

        float[] raw() {
            float[] out = new float[spec.outputSize()];
            for (int k = 0; k < spec.keypoints; k++) {
                out[3 * k] = 0.30f + 0.02f * k;
                out[3 * k + 1] = 0.40f + 0.01f * k;
                out[3 * k + 2] = score;
            }
            out[spec.personScore] = 0.8f;
            return out;
        }

        @Override
        public float[] find(float[] crop) {
            assertEquals(spec.inputFloats(), crop.length);
            calls++;
            return raw();
        }

        @Override
        public String describe() {
            return "fake finder";
        }

        @Override
        public void close() {
        }
    }

    @Test
    public void theInitializerLooksInTheBoxTheFinderFinds() throws Exception {
        PersonFinder spec = finder();
        FakeFinder finderModel = new FakeFinder(spec, 0.9f);
        FakeModel model = new FakeModel();
        model.clustered = true; // would take refine looks after a whole-frame look
        PoseTracker t = new PoseTracker(manifest, manifest.tracker, null,
                manifest.tracker.motionPrior, spec);
        int[] frame = new int[160 * 120];
        PoseTracker.Plan whole = t.plan(160, 120);
        assertTrue(whole.finderCrop != null);
        assertEquals(spec.inputSize, whole.finderCrop.inputSize);
        // the same whole frame as the initializer's crop, at the finder's input size
        assertEquals(whole.crop.coveredRegion(), whole.finderCrop.coveredRegion());
        PoseTracker.Finding found = t.finding(whole, finderModel.raw());
        assertTrue("too few confident keypoints for a box", found.box != null);
        // the finder's keypoints' box, as a refine look's (keypointBox: the same rule)
        assertEquals(t.keypointBox(found.x, found.y, found.conf), found.box);
        t.reset(null);

        PoseTracker.FrameResult r = t.process(frame, 160, 120, model, finderModel);
        assertEquals(1, finderModel.calls);
        assertEquals(1, t.finderRuns());
        List<String> one = new ArrayList<String>();
        one.add(PoseTracker.INITIALIZER);
        assertEquals("no refine looks after the finder's", one, model.calls);
        assertTrue(r.found);
        assertEquals(PoseTracker.START, r.reason);
        assertEquals(found.box, r.box);
        // the found box is the start box: the follow stays within follow_scale_range of it
        for (int i = 0; i < 20; i++) {
            r = t.process(frame, 160, 120, model, finderModel);
            assertEquals(PoseTracker.STEPPER, r.graph);
            assertTrue(!r.found);
        }
        assertEquals(1, finderModel.calls);
        assertEquals(manifest.tracker.followScaleLow * found.box.width(), t.box().width(), 1e-3);

        // a tracker with a finder needs its graph
        try {
            new PoseTracker(manifest, manifest.tracker, null, 0.0, spec).process(frame, 160, 120,
                    model);
            fail("processed a whole frame without the finder's graph");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("finder"));
        }
    }

    @Test
    public void aFinderThatFindsNobodyLeavesTheWholeFrameToTheInitializer() throws Exception {
        PersonFinder spec = finder();
        FakeFinder finderModel = new FakeFinder(spec, 0.1f); // below keypoint_threshold 0.2
        FakeModel model = new FakeModel();
        model.clustered = true;
        PoseTracker t = new PoseTracker(manifest, manifest.tracker, null,
                manifest.tracker.motionPrior, spec);
        int[] frame = new int[160 * 120];
        PoseTracker.Plan whole = t.plan(160, 120);
        PoseTracker.Plan next = t.find(whole, finderModel.raw());
        assertTrue(next.wholeFrame);
        assertEquals(whole.box, next.box);
        assertTrue("the finder looks once a frame", next.finderCrop == null);
        t.reset(null);

        PoseTracker.FrameResult r = t.process(frame, 160, 120, model, finderModel);
        FakeModel alone = new FakeModel();
        alone.clustered = true;
        PoseTracker.FrameResult without = new PoseTracker(manifest).process(frame, 160, 120,
                alone);
        assertEquals(1, finderModel.calls);
        assertEquals("the whole frame, then the refine looks", alone.calls, model.calls);
        assertTrue(model.calls.size() > 1);
        assertTrue(!r.found);
        assertEquals(without.box, r.box);
        assertEquals(without.pose.meanScore, r.pose.meanScore, 0f);
    }
}
