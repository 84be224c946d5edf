package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.dkdtf.posedemo.data.CropRegion;
import org.dkdtf.posedemo.data.Keypoint;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Replays the heatmaps that the Python tracker got from the real exported graphs
 * (android_demo/tools/golden.py) through the Java core: keypoints must agree to 1e-4 px, the
 * confidences, mean confidences, person boxes and crop regions (to 1e-4 px) and every graph / re-initialization
 * decision exactly, and so must the looks of each frame (the refine looks after a whole-frame
 * one, find_refine): as many as Python's, each in Python's box. With the person finder
 * (MoveNet MultiPose, golden/finder.json), the finder's raw output Python got must give the same
 * chosen keypoints (1e-4 px, confidences exactly) and box, and the initializer then looks where
 * Python's did.
 */
public class GoldenVectorsTest {
    private static final double KEYPOINT_TOLERANCE_PX = 1e-4;
    private static Manifest manifest;
    private static Map<String, Object> vectors;
    private static PersonFinder finder;

    @BeforeClass
    @SuppressWarnings("unchecked")
    public static void load() throws Exception {
        manifest = Manifest.parse(TestResources.text("/golden/manifest.json"),
                "golden/manifest.json");
        vectors = (Map<String, Object>) Json.parse(TestResources.text("/golden/vectors.json"));
        finder = PersonFinder.parse(TestResources.text("/golden/finder.json"),
                "golden/finder.json", manifest);
    }

    /** The person finder the scenario streamed with (its 'finder' key), or null. */
    private static PersonFinder finderOf(Map<String, Object> scenario) {
        Object key = scenario.get("finder");
        if (key == null || key == Json.NULL) {
            return null;
        }
        assertEquals("golden/finder.json is another finder", finder.key, key);
        return finder;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> scenario(String name) {
        Map<String, Object> all = (Map<String, Object>) vectors.get("scenarios");
        assertTrue("golden vectors lack scenario " + name, all.containsKey(name));
        return (Map<String, Object>) all.get(name);
    }

    private static double num(Map<String, Object> m, String key) {
        assertTrue("golden settings lack " + key + "; regenerate them", m.containsKey(key));
        return ((Number) m.get(key)).doubleValue();
    }

    private static float f(Object o) {
        return (float) ((Number) o).doubleValue();
    }

    private static CropRegion region(Object o) {
        List<?> v = (List<?>) o;
        return new CropRegion(f(v.get(0)), f(v.get(1)), f(v.get(2)), f(v.get(3)));
    }

    private static float[] heatmaps(String base64) {
        ByteBuffer buf = ByteBuffer.wrap(Base64.getDecoder().decode(base64))
                .order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[buf.remaining() / 4];
        buf.asFloatBuffer().get(out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static TrackerConfig settings(Map<String, Object> scenario) {
        Map<String, Object> s = (Map<String, Object>) scenario.get("settings");
        return new TrackerConfig(num(s, "reinit_threshold"), (int) num(s, "reinit_every"),
                num(s, "keypoint_threshold"), num(s, "follow_margin"),
                num(s, "follow_max_resize"), num(s, "follow_smoothing"),
                manifest.tracker.followScaleLow, manifest.tracker.followScaleHigh,
                num(s, "follow_velocity"), num(s, "follow_velocity_memory"),
                num(s, "motion_prior"));
    }

    /**
     * Boxes and crops are made from the decoded keypoints, so they inherit the keypoints' 1e-4 px
     * tolerance: numpy's float32 log is not correctly rounded (off by up to 4 ulp), and a box
     * edge on a keypoint then differs from Java's in the last float bits.
     */
    private static void assertRegion(String where, CropRegion expected, CropRegion actual) {
        if (expected == null || actual == null) {
            assertEquals(where, expected, actual);
            return;
        }
        assertEquals(where + " x1", expected.x1, actual.x1, KEYPOINT_TOLERANCE_PX);
        assertEquals(where + " y1", expected.y1, actual.y1, KEYPOINT_TOLERANCE_PX);
        assertEquals(where + " x2", expected.x2, actual.x2, KEYPOINT_TOLERANCE_PX);
        assertEquals(where + " y2", expected.y2, actual.y2, KEYPOINT_TOLERANCE_PX);
    }

    /** The scenario's keypoint smoothing (dkd_tf.stream --smooth_keypoints), or null. */
    @SuppressWarnings("unchecked")
    private static OneEuroFilter smoothing(Map<String, Object> scenario) {
        Map<String, Object> s = (Map<String, Object>) scenario.get("settings");
        if (!s.containsKey("smoothing")) {
            return null;
        }
        Map<String, Object> f = (Map<String, Object>) s.get("smoothing");
        return new OneEuroFilter(num(f, "min_cutoff"), num(f, "beta"), num(f, "d_cutoff"));
    }

    /** Streams one scenario; returns the largest keypoint difference in pixels. */
    private static double replay(String name) {
        return replay(name, settings(scenario(name)));
    }

    /**
     * The motion prior the Python tracker streamed the scenario with (dkd_tf.stream
     * --motion_prior; golden.py records it, the manifest's where the scenario sets none).
     */
    @SuppressWarnings("unchecked")
    private static double motionPrior(Map<String, Object> scenario) {
        Map<String, Object> s = (Map<String, Object>) scenario.get("settings");
        return num(s, "motion_prior");
    }

    /** Streams one scenario's frames with {@code config} instead of its settings. */
    private static double replay(String name, TrackerConfig config) {
        return replay(name, config, smoothing(scenario(name)));
    }

    /** ... and with {@code filter} (null: none) instead of its keypoint smoothing. */
    private static double replay(String name, TrackerConfig config, OneEuroFilter filter) {
        return replay(name, config, filter, motionPrior(scenario(name)));
    }

    /** ... and with {@code prior} instead of its motion prior. */
    private static double replay(String name, TrackerConfig config, OneEuroFilter filter,
                                 double prior) {
        return replay(name, new PoseTracker(manifest, config, filter, prior,
                finderOf(scenario(name))));
    }

    /** Streams one scenario's frames through {@code tracker}, with its refine looks. */
    private static double replay(String name, PoseTracker tracker) {
        return replay(name, tracker, true);
    }

    /**
     * ... refine false: as a tracker without find_refine would, each frame completed with its
     * first look's heatmaps (and no refine asked for).
     */
    @SuppressWarnings("unchecked")
    private static double replay(String name, PoseTracker tracker, boolean refine) {
        Map<String, Object> sc = scenario(name);
        Object start = sc.get("start_box");
        tracker.reset(start == Json.NULL ? null : region(start));
        int width = (int) num(sc, "frame_width");
        int height = (int) num(sc, "frame_height");
        double worst = 0;
        int ok = 0;
        for (Object fo : (List<Object>) sc.get("frames")) {
            Map<String, Object> frame = (Map<String, Object>) fo;
            String where = name + " frame " + frame.get("index");
            if ("bad_frame".equals(frame.get("status"))) {
                tracker.markBadFrame();
                continue;
            }
            PoseTracker.Plan plan = tracker.plan(width, height);
            assertEquals(where + ": graph", frame.get("graph"), plan.graph);
            assertEquals(where + ": re-initialization reason", frame.get("reason"), plan.reason);
            if (plan.finderCrop != null) {
                assertTrue(where + ": the Java tracker runs the finder, Python did not",
                        frame.containsKey("finder"));
                plan = replayFinder(where, tracker, plan, (Map<String, Object>) frame.get(
                        "finder"));
            } else {
                assertFalse(where + ": Python ran the finder, the Java tracker does not",
                        frame.containsKey("finder"));
            }
            List<Object> looks = (List<Object>) frame.get("looks");
            assertTrue(where + ": no looks", looks != null && !looks.isEmpty());
            float[] hm = null;
            for (int i = 0; i < (refine ? looks.size() : 1); i++) {
                Map<String, Object> look = (Map<String, Object>) looks.get(i);
                String at = where + " look " + i;
                assertEquals(at, i, plan.look);
                assertRegion(at + ": person box", region(look.get("box")), plan.box);
                hm = heatmaps((String) look.get("heatmaps"));
                assertEquals(at + ": heatmap size", manifest.heatmapSize(), hm.length);
                if (!refine) {
                    break;
                }
                PoseTracker.Plan next = tracker.refine(plan, hm);
                if (i + 1 < looks.size()) {
                    assertTrue(at + ": Python looked again, the Java tracker does not",
                            next != null);
                    plan = next;
                } else {
                    assertNull(at + ": the Java tracker looks again, Python did not", next);
                }
            }
            PoseTracker.FrameResult r = tracker.complete(plan, hm, new float[manifest.stateSize()],
                    0.0);
            assertRegion(where + ": person box", region(frame.get("box")), r.box);
            List<Object> expected = (List<Object>) frame.get("keypoints");
            assertEquals(where + ": keypoint count", expected.size(), r.pose.keypoints.size());
            for (int k = 0; k < expected.size(); k++) {
                List<Object> e = (List<Object>) expected.get(k);
                Keypoint kp = r.pose.keypoints.get(k);
                worst = Math.max(worst, Math.abs(kp.x - f(e.get(0))));
                worst = Math.max(worst, Math.abs(kp.y - f(e.get(1))));
                assertEquals(where + " joint " + k + ": x", f(e.get(0)), kp.x,
                        KEYPOINT_TOLERANCE_PX);
                assertEquals(where + " joint " + k + ": y", f(e.get(1)), kp.y,
                        KEYPOINT_TOLERANCE_PX);
                assertEquals(where + " joint " + k + ": confidence",
                        Float.floatToIntBits(f(e.get(2))), Float.floatToIntBits(kp.score));
            }
            assertEquals(where + ": mean confidence",
                    Float.floatToIntBits(f(frame.get("mean_confidence"))),
                    Float.floatToIntBits(r.pose.meanScore));
            assertRegion(where + ": crop region", region(frame.get("crop")), r.crop);
            ok++;
        }
        assertTrue(name + ": no frames", ok > 0);
        return worst;
    }

    /**
     * The finder's look at a frame: its crop's box, the chosen person's keypoints and their box
     * as Python's; returns the look that follows it.
     */
    @SuppressWarnings("unchecked")
    private static PoseTracker.Plan replayFinder(String where, PoseTracker tracker,
                                                 PoseTracker.Plan plan,
                                                 Map<String, Object> look) {
        assertRegion(where + ": finder box", region(look.get("box")), plan.box);
        float[] raw = heatmaps((String) look.get("raw"));
        assertEquals(where + ": finder output size", tracker.finder().outputSize(), raw.length);
        PoseTracker.Finding found = tracker.finding(plan, raw);
        List<Object> expected = (List<Object>) look.get("keypoints");
        assertEquals(where + ": finder keypoint count", expected.size(), found.x.length);
        for (int k = 0; k < expected.size(); k++) {
            List<Object> e = (List<Object>) expected.get(k);
            assertEquals(where + " finder joint " + k + ": x", f(e.get(0)), found.x[k],
                    KEYPOINT_TOLERANCE_PX);
            assertEquals(where + " finder joint " + k + ": y", f(e.get(1)), found.y[k],
                    KEYPOINT_TOLERANCE_PX);
            assertEquals(where + " finder joint " + k + ": confidence",
                    Float.floatToIntBits(f(e.get(2))), Float.floatToIntBits(found.conf[k]));
        }
        Object box = look.get("found");
        assertRegion(where + ": the finder's box", box == Json.NULL ? null : region(box),
                found.box);
        PoseTracker.Plan next = tracker.find(plan, raw);
        assertEquals(where + ": the initializer looks in the finder's box", found.box != null,
                next.found);
        return next;
    }

    /** The finder's look, on the first frame of the two people: the box it finds, one look. */
    @Test
    @SuppressWarnings("unchecked")
    public void finderFindsOneOfTwoPeople() {
        String name = "finder_two_people";
        Map<String, Object> first = (Map<String, Object>) ((List<Object>) scenario(name)
                .get("frames")).get(0);
        Map<String, Object> look = (Map<String, Object>) first.get("finder");
        assertTrue(name + " frame 0 has no finder look", look != null);
        assertTrue(name + " frame 0: the finder found nobody", look.get("found") != Json.NULL);
        List<Object> looks = (List<Object>) first.get("looks");
        assertEquals(name + " frame 0: no refine looks after the finder's", 1, looks.size());
        assertRegion(name + " frame 0", region(look.get("found")),
                region(((Map<String, Object>) looks.get(0)).get("box")));
        double worst = replay(name);
        System.out.println("golden " + name + ": max keypoint difference " + worst + " px");
    }

    /** The finder finds nobody: the initializer looks at the whole frame, refine looks after. */
    @Test
    @SuppressWarnings("unchecked")
    public void finderFindingNobodyLeavesTheWholeFrameToTheInitializer() {
        String name = "finder_finds_nobody";
        Map<String, Object> first = (Map<String, Object>) ((List<Object>) scenario(name)
                .get("frames")).get(0);
        Map<String, Object> look = (Map<String, Object>) first.get("finder");
        assertEquals(name + " frame 0: the finder found someone", Json.NULL, look.get("found"));
        List<Object> looks = (List<Object>) first.get("looks");
        assertTrue(name + " frame 0: no refine looks", looks.size() >= 2);
        assertRegion(name + " frame 0: the initializer's whole-frame look",
                region(look.get("box")), region(((Map<String, Object>) looks.get(0)).get("box")));
        double worst = replay(name);
        System.out.println("golden " + name + ": max keypoint difference " + worst + " px");
    }

    /** Without the finder, the finder scenarios do not replay (their first look differs). */
    @Test
    public void vectorsPinTheFinder() {
        for (String name : new String[] {"finder_two_people", "finder_finds_nobody"}) {
            assertPinned(name, "without the finder",
                    () -> replay(name, new PoseTracker(manifest, settings(scenario(name)),
                            smoothing(scenario(name)), motionPrior(scenario(name)))));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    public void defaultScenarioUsesTheManifestsTrackerConstants() {
        Map<String, Object> s = (Map<String, Object>) scenario("manifest_defaults_start_box")
                .get("settings");
        TrackerConfig t = manifest.tracker;
        assertEquals(t.reinitThreshold, num(s, "reinit_threshold"), 0.0);
        assertEquals(t.reinitEvery, (int) num(s, "reinit_every"));
        assertEquals(t.keypointThreshold, num(s, "keypoint_threshold"), 0.0);
        assertEquals(t.followMargin, num(s, "follow_margin"), 0.0);
        assertEquals(t.followMaxResize, num(s, "follow_max_resize"), 0.0);
        assertEquals(t.followSmoothing, num(s, "follow_smoothing"), 0.0);
        assertEquals(t.followVelocity, num(s, "follow_velocity"), 0.0);
        assertEquals(t.followVelocityMemory, num(s, "follow_velocity_memory"), 0.0);
        // the Python tracker's motion_prior=None: the manifest's, as Manifest reads it
        assertEquals(t.motionPrior, num(s, "motion_prior"), 0.0);
    }

    /**
     * The app's first tracker, made from the manifest alone (its motion prior the manifest's
     * too), streams the manifest-defaults scenario as the Python tracker did.
     */
    @Test
    public void theManifestsTrackerReplaysTheDefaultScenario() {
        PoseTracker t = new PoseTracker(manifest);
        assertEquals(manifest.tracker.motionPrior, t.motionPrior(), 0.0);
        replay("manifest_defaults_start_box", t);
    }

    /** Every scenario records the motion prior it streamed with, in the manifest's range. */
    @Test
    @SuppressWarnings("unchecked")
    public void everyScenarioRecordsItsMotionPrior() {
        for (Map.Entry<String, Object> e
                : ((Map<String, Object>) vectors.get("scenarios")).entrySet()) {
            double prior = motionPrior((Map<String, Object>) e.getValue());
            assertTrue(e.getKey() + ": motion_prior " + prior, prior >= 0 && prior < 10);
        }
    }

    /** Every scenario streams with the manifest's velocity memory (Python takes it from there). */
    @Test
    @SuppressWarnings("unchecked")
    public void everyScenarioUsesTheManifestsVelocityMemory() {
        for (Map.Entry<String, Object> e
                : ((Map<String, Object>) vectors.get("scenarios")).entrySet()) {
            Map<String, Object> s = (Map<String, Object>) ((Map<String, Object>) e.getValue())
                    .get("settings");
            assertEquals(e.getKey(), manifest.tracker.followVelocityMemory,
                    num(s, "follow_velocity_memory"), 0.0);
        }
    }

    /** Some scenario smooths the box centre, and its boxes depend on it (smoothing 0 fails). */
    @Test
    @SuppressWarnings("unchecked")
    public void vectorsPinTheCentreSmoothing() {
        String smoothed = null;
        for (Map.Entry<String, Object> e
                : ((Map<String, Object>) vectors.get("scenarios")).entrySet()) {
            Map<String, Object> s = (Map<String, Object>) ((Map<String, Object>) e.getValue())
                    .get("settings");
            if (num(s, "follow_smoothing") > 0) {
                smoothed = e.getKey();
            }
        }
        assertTrue("no golden scenario smooths the box centre", smoothed != null);
        String name = smoothed;
        TrackerConfig unsmoothed = settings(scenario(name)).withFollowSmoothing(0.0);
        assertPinned(name, "without smoothing", () -> replay(name, unsmoothed));
    }

    /** The vectors pin a setting: replaying {@code name} {@code without} it must fail. */
    private static void assertPinned(String name, String without, Runnable replayWithout) {
        try {
            replayWithout.run();
        } catch (AssertionError expected) {
            return;
        }
        fail(name + " replays " + without + " too: the vectors do not pin it");
    }

    @Test
    public void manifestDefaultsWithStartBox() {
        double worst = replay("manifest_defaults_start_box");
        System.out.println("golden manifest_defaults_start_box: max keypoint difference "
                + worst + " px");
    }

    @Test
    public void reinitializationAndBadFrame() {
        double worst = replay("reinit_full_frame_bad_frame");
        System.out.println("golden reinit_full_frame_bad_frame: max keypoint difference "
                + worst + " px");
    }

    @Test
    public void smoothedKeypoints() {
        double worst = replay("smoothed_keypoints");
        System.out.println("golden smoothed_keypoints: max keypoint difference " + worst + " px");
    }

    @Test
    public void vectorsPinTheKeypointSmoothing() {
        String name = "smoothed_keypoints";
        OneEuroFilter made = smoothing(scenario(name));
        assertTrue(name + " does not smooth its keypoints", made != null);
        // golden.py smooths with dkd_tf.tracking.keypoint_filter's defaults: the app's are those.
        assertEquals(OneEuroFilter.DEFAULT_MIN_CUTOFF, made.minCutoff, 0.0);
        assertEquals(OneEuroFilter.DEFAULT_BETA, made.beta, 0.0);
        assertEquals(OneEuroFilter.DEFAULT_D_CUTOFF, made.dCutoff, 0.0);
        assertPinned(name, "without smoothing",
                () -> replay(name, settings(scenario(name)), null));
    }

    @Test
    public void followVelocity() {
        double worst = replay("follow_velocity");
        System.out.println("golden follow_velocity: max keypoint difference " + worst + " px");
    }

    /** The box moves on with the person's velocity there, and its boxes depend on it. */
    @Test
    public void vectorsPinTheFollowVelocity() {
        String name = "follow_velocity";
        TrackerConfig config = settings(scenario(name));
        assertEquals(name + " follows with the full velocity", 1.0, config.followVelocity, 0.0);
        assertPinned(name, "without the velocity",
                () -> replay(name, config.withFollowVelocity(0.0)));
        assertPinned(name, "with another velocity memory",
                () -> replay(name, config.withFollowVelocityMemory(0.5)));
    }

    @Test
    public void motionPrior() {
        double worst = replay("motion_prior");
        System.out.println("golden motion_prior: max keypoint difference " + worst + " px");
    }

    /** The re-initialization reason the Python tracker recorded for a scenario's frame. */
    @SuppressWarnings("unchecked")
    private Object reason(String name, int frame) {
        List<Object> frames = (List<Object>) scenario(name).get("frames");
        return ((Map<String, Object>) frames.get(frame)).get("reason");
    }

    /** A start box mostly off the frame: scaled confidences, then the whole frame. */
    @Test
    public void offFrameStart() {
        String name = "off_frame_start";
        assertEquals(PoseTracker.CONFIDENCE, reason(name, 1));
        double worst = replay(name);
        System.out.println("golden off_frame_start: max keypoint difference " + worst + " px");
    }

    /** A start box on the background: its look and the re-initialization in it are low, so the
     * third frame looks at the whole frame (the person left the box). */
    @Test
    public void lostPersonIsLookedForOnTheWholeFrame() {
        String name = "lost_person";
        assertEquals(PoseTracker.START, reason(name, 0));
        assertEquals(PoseTracker.CONFIDENCE, reason(name, 1));
        assertEquals(PoseTracker.CONFIDENCE, reason(name, 2));
        double worst = replay(name);
        System.out.println("golden lost_person: max keypoint difference " + worst + " px");
    }

    @Test
    public void vectorsPinTheMotionPrior() {
        String name = "motion_prior";
        assertTrue(name + " has no motion prior", motionPrior(scenario(name)) > 0);
        assertPinned(name, "without the prior",
                () -> replay(name, settings(scenario(name)), smoothing(scenario(name)), 0.0));
    }

    /** The small person: two refine looks or more after the whole frame's, each box halving. */
    @Test
    @SuppressWarnings("unchecked")
    public void smallPersonIsLookedAtAgainWhileTheBoxHalves() {
        String name = "small_person";
        Map<String, Object> first = (Map<String, Object>) ((List<Object>) scenario(name)
                .get("frames")).get(0);
        List<Object> looks = (List<Object>) first.get("looks");
        assertTrue(name + " frame 0 takes " + (looks.size() - 1) + " refine looks",
                looks.size() >= 3);
        CropRegion whole = PoseTracker.fullFrameBox((int) num(scenario(name), "frame_width"),
                (int) num(scenario(name), "frame_height"), manifest.cropMargin);
        assertRegion(name + " frame 0 look 0", whole,
                region(((Map<String, Object>) looks.get(0)).get("box")));
        for (int i = 2; i < looks.size(); i++) {
            CropRegion before = region(((Map<String, Object>) looks.get(i - 1)).get("box"));
            CropRegion box = region(((Map<String, Object>) looks.get(i)).get("box"));
            assertTrue(name + " look " + i + " " + box + " after " + before,
                    Math.max(box.width(), box.height()) < PoseTracker.REFINE_SHRINK
                            * Math.max(before.width(), before.height()));
        }
        double worst = replay(name);
        System.out.println("golden small_person: max keypoint difference " + worst + " px");
    }

    /** Without the refine looks (as before find_refine), the whole-frame scenarios fail. */
    @Test
    public void vectorsPinTheRefineLooks() {
        for (String name : new String[] {"small_person", "reinit_full_frame_bad_frame",
            "lost_person"}) {
            assertPinned(name, "without the refine looks",
                    () -> replay(name, new PoseTracker(manifest, settings(scenario(name)),
                            smoothing(scenario(name)), motionPrior(scenario(name))), false));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    public void vectorsCoverEveryDecision() {
        boolean[] seen = new boolean[4];
        String[] reasons = {PoseTracker.START, PoseTracker.CONFIDENCE, PoseTracker.PERIODIC,
            PoseTracker.BAD_FRAME};
        boolean stepper = false;
        int mostLooks = 0;
        boolean shrinkStops = false;
        for (Object so : ((Map<String, Object>) vectors.get("scenarios")).values()) {
            for (Object fo : (List<Object>) ((Map<String, Object>) so).get("frames")) {
                Map<String, Object> frame = (Map<String, Object>) fo;
                for (int i = 0; i < reasons.length; i++) {
                    seen[i] |= reasons[i].equals(frame.get("reason"));
                }
                stepper |= PoseTracker.STEPPER.equals(frame.get("graph"));
                if (frame.containsKey("looks")) {
                    mostLooks = Math.max(mostLooks, ((List<Object>) frame.get("looks")).size());
                }
                shrinkStops |= "shrink".equals(frame.get("refine_stop"));
            }
        }
        for (int i = 0; i < reasons.length; i++) {
            assertTrue("no golden frame re-initializes for " + reasons[i], seen[i]);
        }
        assertTrue("no golden frame runs the stepper", stepper);
        assertTrue("no golden frame takes two refine looks", mostLooks >= 3);
        assertTrue("no golden frame's refine looks stop for REFINE_SHRINK", shrinkStops);
    }
}
