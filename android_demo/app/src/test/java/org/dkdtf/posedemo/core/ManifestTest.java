package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;

import org.junit.BeforeClass;
import org.junit.Test;

/** manifest.json is read with every constant the app uses, and refused with a clear message. */
public class ManifestTest {
    private static final String SOURCE = "assets/manifest.json";
    private static String text;

    @BeforeClass
    public static void load() throws Exception {
        text = TestResources.text("/manifest_fixture.json"); // a fixed 64-px export
    }

    private static String replaceOnce(String s, String regex, String replacement) {
        String out = s.replaceFirst(regex, replacement);
        assertTrue("pattern " + regex + " not in the manifest", !out.equals(s));
        return out;
    }

    private static void assertRefused(String manifestText, String expected) {
        try {
            Manifest.parse(manifestText, SOURCE);
            fail("accepted a manifest that should fail with: " + expected);
        } catch (ManifestException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(SOURCE + ": "));
            assertTrue("message '" + e.getMessage() + "' lacks '" + expected + "'",
                    e.getMessage().contains(expected));
        }
    }

    @Test
    public void readsTheConstants() throws Exception {
        Manifest m = Manifest.parse(text, SOURCE);
        assertEquals(64, m.inputSize);
        assertEquals(8, m.stride);
        assertEquals(8, m.heatmapHeight);
        assertEquals(13, m.numJoints);
        assertArrayEquals(new int[] {1, 3, 3, 8}, m.stateShape);
        assertEquals(72, m.stateSize());
        assertEquals("argmax_quarter_offset", m.decoder.rule());
        assertEquals(1.25, m.cropMargin, 0.0);
        assertEquals(0.1, m.tracker.reinitThreshold, 0.0);
        assertEquals(0, m.tracker.reinitEvery);
        assertEquals(0.2, m.tracker.keypointThreshold, 0.0);
        assertEquals(0.15, m.tracker.followMargin, 0.0);
        assertEquals(0.1, m.tracker.followMaxResize, 0.0);
        assertEquals(0.7, m.tracker.followSmoothing, 0.0);
        assertEquals(0.7, m.tracker.followScaleLow, 0.0);
        assertEquals(1.5, m.tracker.followScaleHigh, 0.0);
        assertEquals(0.0, m.tracker.followVelocity, 0.0); // the fixture predates it
        assertEquals(0.8, m.tracker.followVelocityMemory, 0.0);
        assertEquals(0.0, m.tracker.motionPrior, 0.0); // likewise
        assertEquals("head", m.jointNames.get(0));
        assertEquals(14, m.edges.length);
        assertEquals("initializer.tflite", m.initializer.file);
        assertEquals("step", m.stepper.signature);
        assertEquals("state", m.stepper.inputs.get("state"));
    }

    @Test
    public void refusesAnotherFormatVersion() {
        assertRefused(replaceOnce(text, "\"format_version\": 1", "\"format_version\": 2"),
                "format_version is 2");
    }

    @Test
    public void refusesAnUnknownDecodingRule() {
        assertRefused(replaceOnce(text, "\"decoding\": \"argmax_quarter_offset\"",
                "\"decoding\": \"soft_argmax\""), "unknown decoding rule 'soft_argmax'");
    }

    @Test
    public void picksTheDecoderTheManifestNames() throws Exception {
        Manifest m = Manifest.parse(replaceOnce(text, "\"decoding\": \"argmax_quarter_offset\"",
                "\"decoding\": \"argmax_log_parabola\""), SOURCE);
        assertEquals("argmax_log_parabola", m.decoding);
        assertEquals("argmax_log_parabola", m.decoder.rule());
    }

    @Test
    public void refusesShapesThatDisagree() {
        assertRefused(replaceOnce(text, "\"heatmap_shape\": \\[\\s*1,\\s*8,",
                "\"heatmap_shape\": [1, 7,"), "does not match input 64x64");
        assertRefused(replaceOnce(text, "\"state_shape\": \\[\\s*1,",
                "\"state_shape\": [2,"), "batch 1");
        assertRefused(replaceOnce(text, "\"batch\": 1", "\"batch\": 4"), "batch is 4");
    }

    @Test
    public void refusesAGraphWithoutChecksum() {
        assertRefused(replaceOnce(text, "\"sha256\": \"da1d43e[0-9a-f]*\",", ""),
                "formats.tflite.initializer has no sha256");
    }

    @Test
    public void refusesAManifestWithoutTrackerConstants() {
        assertRefused(replaceOnce(text, "\"tracker\":", "\"tracker_old\":"), "no tracker entry");
    }

    @Test
    public void aManifestWithoutFollowSmoothingDoesNotSmooth() throws Exception {
        // written before the key existed, when the tracker did not smooth the centre
        Manifest m = Manifest.parse(replaceOnce(text, "\"follow_smoothing\": 0.7,", ""), SOURCE);
        assertEquals(0.0, m.tracker.followSmoothing, 0.0);
        assertEquals(0.1, m.tracker.followMaxResize, 0.0);
    }

    @Test
    public void refusesAnInvalidFollowSmoothing() throws Exception {
        for (String bad : new String[] {"1.0", "1", "1.5", "-0.1"}) {
            assertRefused(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                    "\"follow_smoothing\": " + bad + ","), "follow_smoothing " + bad);
        }
        assertRefused(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": \"strong\","), "'follow_smoothing' must be a number");
        assertRefused(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": null,"), "'follow_smoothing' must be a number");
        // the edges of [0, 1): 0 is allowed, just below 1 too
        assertEquals(0.0, Manifest.parse(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": 0,"), SOURCE).tracker.followSmoothing, 0.0);
        assertEquals(0.999, Manifest.parse(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": 0.999,"), SOURCE).tracker.followSmoothing, 0.0);
    }

    /** The fixture's tracker entry with the velocity keys (as exports made since carry them). */
    private static String withVelocity(String velocity, String memory) {
        return replaceOnce(text, "\"follow_smoothing\": 0.7,", "\"follow_smoothing\": 0.7, "
                + "\"follow_velocity\": " + velocity + ", \"follow_velocity_memory\": " + memory
                + ",");
    }

    @Test
    public void readsTheFollowVelocity() throws Exception {
        Manifest m = Manifest.parse(withVelocity("1.0", "0.8"), SOURCE);
        assertEquals(1.0, m.tracker.followVelocity, 0.0);
        assertEquals(0.8, m.tracker.followVelocityMemory, 0.0);
        m = Manifest.parse(withVelocity("0.25", "0.5"), SOURCE);
        assertEquals(0.25, m.tracker.followVelocity, 0.0);
        assertEquals(0.5, m.tracker.followVelocityMemory, 0.0);
        assertEquals(0.7, m.tracker.followSmoothing, 0.0);
        // the edges: [0, 1] for the velocity, [0, 1) for its memory
        m = Manifest.parse(withVelocity("0", "0"), SOURCE);
        assertEquals(0.0, m.tracker.followVelocity, 0.0);
        assertEquals(0.0, m.tracker.followVelocityMemory, 0.0);
        m = Manifest.parse(withVelocity("1", "0.999"), SOURCE);
        assertEquals(1.0, m.tracker.followVelocity, 0.0);
        assertEquals(0.999, m.tracker.followVelocityMemory, 0.0);
    }

    @Test
    public void aManifestWithoutFollowVelocityDoesNotMoveOn() throws Exception {
        // written before the keys existed (the fixture), when the box did not move on with the
        // person: velocity 0, memory dkd_tf.serving.tracking_policy.FOLLOW_VELOCITY_MEMORY
        Manifest m = Manifest.parse(text, SOURCE);
        assertTrue("the fixture predates follow_velocity", !text.contains("follow_velocity"));
        assertEquals(0.0, m.tracker.followVelocity, 0.0);
        assertEquals(0.8, m.tracker.followVelocityMemory, 0.0);
        assertEquals(TrackerConfig.FOLLOW_VELOCITY_MEMORY, m.tracker.followVelocityMemory, 0.0);
        // either key alone: the other as when absent
        m = Manifest.parse(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": 0.7, \"follow_velocity\": 1.0,"), SOURCE);
        assertEquals(1.0, m.tracker.followVelocity, 0.0);
        assertEquals(0.8, m.tracker.followVelocityMemory, 0.0);
        m = Manifest.parse(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": 0.7, \"follow_velocity_memory\": 0.5,"), SOURCE);
        assertEquals(0.0, m.tracker.followVelocity, 0.0);
        assertEquals(0.5, m.tracker.followVelocityMemory, 0.0);
    }

    @Test
    public void refusesAnInvalidFollowVelocity() {
        for (String bad : new String[] {"1.5", "1.01", "-0.1"}) {
            assertRefused(withVelocity(bad, "0.8"), "follow_velocity " + bad);
        }
        assertRefused(withVelocity("\"full\"", "0.8"), "'follow_velocity' must be a number");
        assertRefused(withVelocity("null", "0.8"), "'follow_velocity' must be a number");
        // at 1 the velocity would never change
        for (String bad : new String[] {"1.0", "1", "1.5", "-0.1"}) {
            assertRefused(withVelocity("1.0", bad), "follow_velocity_memory " + bad);
        }
        assertRefused(withVelocity("1.0", "null"), "'follow_velocity_memory' must be a number");
    }

    /** The fixture's tracker entry with a motion_prior (as exports made since carry it). */
    private static String withMotionPrior(String prior) {
        return replaceOnce(text, "\"follow_smoothing\": 0.7,", "\"follow_smoothing\": 0.7, "
                + "\"motion_prior\": " + prior + ",");
    }

    @Test
    public void readsTheMotionPrior() throws Exception {
        Manifest m = Manifest.parse(withMotionPrior("0.05"), SOURCE);
        assertEquals(0.05, m.tracker.motionPrior, 0.0);
        assertEquals(0.7, m.tracker.followSmoothing, 0.0);
        assertEquals(0.0, m.tracker.followVelocity, 0.0);
        // the edges of [0, 10)
        assertEquals(0.0, Manifest.parse(withMotionPrior("0"), SOURCE).tracker.motionPrior, 0.0);
        assertEquals(9.99, Manifest.parse(withMotionPrior("9.99"), SOURCE).tracker.motionPrior,
                0.0);
        // with the velocity keys, as the default preset's re-export writes them
        m = Manifest.parse(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": 0.7, \"follow_velocity\": 1.0, "
                + "\"follow_velocity_memory\": 0.8, \"motion_prior\": 0.05,"), SOURCE);
        assertEquals(0.05, m.tracker.motionPrior, 0.0);
        assertEquals(1.0, m.tracker.followVelocity, 0.0);
        // a tracker made from the manifest alone uses it; one given a prior, that one
        assertEquals(0.05, new PoseTracker(m).motionPrior(), 0.0);
        assertEquals(0.05, new PoseTracker(m, m.tracker, null).motionPrior(), 0.0);
        assertEquals(0.1, new PoseTracker(m, m.tracker, null, 0.1).motionPrior(), 0.0);
        assertEquals(0.0, new PoseTracker(m, m.tracker, null, 0.0).motionPrior(), 0.0);
    }

    @Test
    public void aManifestWithoutMotionPriorDecodesThePlainArgmax() throws Exception {
        // written before the key existed (the fixture): the stepper's plain argmax, 0, as
        // dkd_tf.serving.tracking_policy.motion_prior_of reads it
        assertTrue("the fixture predates motion_prior", !text.contains("motion_prior"));
        Manifest m = Manifest.parse(text, SOURCE);
        assertEquals(0.0, m.tracker.motionPrior, 0.0);
        assertEquals(0.0, new PoseTracker(m).motionPrior(), 0.0);
        // the velocity keys alone do not bring a prior
        m = Manifest.parse(replaceOnce(text, "\"follow_smoothing\": 0.7,",
                "\"follow_smoothing\": 0.7, \"follow_velocity\": 1.0,"), SOURCE);
        assertEquals(0.0, m.tracker.motionPrior, 0.0);
    }

    @Test
    public void refusesAnInvalidMotionPrior() {
        // [0, 10), as dkd_tf.serving.manifest.validate: the message names the key and value
        String[][] bad = {{"10", "motion_prior 10.0"}, {"10.0", "motion_prior 10.0"},
            {"12.5", "motion_prior 12.5"}, {"-0.05", "motion_prior -0.05"},
            {"1e3", "motion_prior 1000.0"}};
        for (String[] b : bad) {
            assertRefused(withMotionPrior(b[0]), b[1]);
        }
        assertRefused(withMotionPrior("\"near\""), "'motion_prior' must be a number");
        assertRefused(withMotionPrior("null"), "'motion_prior' must be a number");
        assertRefused(withMotionPrior("true"), "'motion_prior' must be a number");
        try {
            Manifest.parse(text, SOURCE).tracker.withMotionPrior(10.0);
            fail("accepted motion_prior 10.0");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("motion_prior 10.0"));
        } catch (ManifestException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    public void refusesBrokenJson() {
        assertRefused(text.substring(0, text.length() / 2), "cannot parse the manifest");
    }

    @Test
    public void checksGraphFilesAgainstTheirSha256() throws Exception {
        Manifest m = Manifest.parse(text, SOURCE);
        try {
            Manifest.checkFile(m.initializer, new ByteArrayInputStream(new byte[] {1, 2, 3}),
                    "assets/initializer.tflite");
            fail("accepted a file with another checksum");
        } catch (ManifestException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("assets/initializer.tflite: "
                    + "checksum"));
        }
        // sha256 of the empty input, a known value
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Manifest.sha256Hex(new ByteArrayInputStream(new byte[0])));
    }
}
