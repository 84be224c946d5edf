package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import org.junit.BeforeClass;
import org.junit.Test;

/** finder.json's checks and MultiPose's decoding (the golden vectors replay real outputs). */
public class PersonFinderTest {
    private static Manifest manifest;
    private static String golden;

    @BeforeClass
    public static void load() throws Exception {
        manifest = Manifest.parse(TestResources.text("/golden/manifest.json"),
                "golden/manifest.json");
        golden = TestResources.text("/golden/finder.json");
    }

    private static PersonFinder parse(String text) throws ManifestException {
        return PersonFinder.parse(text, "assets/finder.json", manifest);
    }

    /** golden finder.json with {@code from} replaced by {@code to} (which must occur once). */
    private static String edited(String from, String to) {
        int at = golden.indexOf(from);
        assertTrue("finder.json has no " + from, at >= 0 && golden.indexOf(from, at + 1) < 0);
        return golden.replace(from, to);
    }

    /** The golden file's rows with joint 0's (the head's) replaced by {@code rows}. */
    private static String headRows(String rows) {
        String rowsKey = "\"rows\": [";
        int at = golden.indexOf(rowsKey) + rowsKey.length();
        int end = golden.indexOf(']', at) + 1; // the head's list
        return golden.substring(0, at) + rows + golden.substring(end);
    }

    @Test
    public void readsTheFinderCopyExportWrites() throws Exception {
        PersonFinder f = parse(golden);
        assertEquals("movenet_multipose", f.key);
        assertEquals("finder.tflite", f.file);
        assertEquals(256, f.inputSize);
        assertEquals(6, f.people);
        assertEquals(56, f.values);
        assertEquals(17, f.keypoints);
        assertEquals(55, f.personScore);
        assertEquals(6 * 56, f.outputSize());
        assertTrue(f.license, f.license.contains("Apache-2.0"));
        assertEquals(manifest.numJoints, f.rows.length);
        // the head is derived from the nose (peers.DERIVED); the shoulders are COCO's own rows
        assertEquals("head", manifest.jointNames.get(0));
        assertArrayEquals(new int[] {0}, f.rows[0]);
        assertEquals("l_shoulder", manifest.jointNames.get(1));
        assertArrayEquals(new int[] {5}, f.rows[1]);
    }

    private static void assertRefused(String text, String problem) {
        try {
            parse(text);
        } catch (ManifestException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("assets/finder.json: "));
            assertTrue(e.getMessage() + " does not say " + problem,
                    e.getMessage().contains(problem));
            return;
        }
        fail("accepted a finder.json with " + problem);
    }

    @Test
    public void refusesBadFiles() {
        assertRefused("{\"format_version\": 1,", "cannot parse");
        assertRefused("[1]", "must be a JSON object");
        assertRefused(edited("\"format_version\": 1", "\"format_version\": 2"),
                "format_version is 2");
        assertRefused(edited("\"sha256\": \"", "\"sha256\": \"x"), "is not a sha256");
        assertRefused(edited("\"sha256\"", "\"sha\""), "missing field 'sha256'");
        assertRefused(edited("\"dtype\": \"int32\"", "\"dtype\": \"float32\""), "int32 RGB");
        assertRefused(edited("\"width\": 256", "\"width\": 192"), "256x192");
        assertRefused(edited("\"person_score\": 55", "\"person_score\": 50"),
                "person_score 50");
        assertRefused(edited("\"keypoints\": 17", "\"keypoints\": 19"), "cannot hold 19");
        assertRefused(edited("\"keypoint_scale\": \"input_size - 1\"",
                "\"keypoint_scale\": \"input_size\""), "keypoint_scale");
        assertRefused(edited("\"y\",\n      \"x\"", "\"x\",\n      \"y\""), "keypoint_values");
        assertRefused(edited("\"head\"", "\"nose\""), "are not the export's");
        assertRefused(headRows("[17]"), "row 17, outside 0..16");
        assertRefused(headRows("[]"), "joints.rows[0] (head) is not a non-empty list");
        assertRefused(headRows("[0], [0]"), "joints.rows has 14 entries for 13 joints");
    }

    /** A raw MultiPose output: every person's keypoints at (y, x) = (0.25, 0.5), score 0.5. */
    private static float[] raw(PersonFinder f, float[] scores) {
        float[] out = new float[f.outputSize()];
        for (int p = 0; p < f.people; p++) {
            for (int k = 0; k < f.keypoints; k++) {
                out[p * f.values + 3 * k] = 0.25f;
                out[p * f.values + 3 * k + 1] = 0.5f;
                out[p * f.values + 3 * k + 2] = 0.5f;
            }
            out[p * f.values + f.personScore] = scores[p];
        }
        return out;
    }

    @Test
    public void choosesTheFirstPersonWithTheHighestScore() throws Exception {
        PersonFinder f = parse(golden);
        // ties: the first, as numpy.argmax
        assertEquals(1, f.choosePerson(raw(f, new float[] {0.3f, 0.5f, 0.5f, 0f, 0f, 0f})));
        // only empty slots (score 0): the first; its keypoints' scores decide whether it is used
        assertEquals(0, f.choosePerson(raw(f, new float[6])));
        assertEquals(5, f.choosePerson(raw(f, new float[] {0f, 0f, 0f, 0f, 0f, 1e-6f})));
        // numpy.argmax takes the first NaN
        assertEquals(2, f.choosePerson(raw(f, new float[] {0.9f, 0.1f, Float.NaN, 1f, Float.NaN,
            0f})));
        try {
            f.choosePerson(new float[f.outputSize() - 1]);
            fail("took an output of the wrong size");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("335 floats"));
        }
    }

    @Test
    public void mapsTheChosenPersonsKeypointsToTheJoints() throws Exception {
        // the head from the hips' mean (as peers.DERIVED's pelvis), to test a two-row joint
        PersonFinder f = parse(headRows("[11, 12]"));
        float[] out = raw(f, new float[] {0.1f, 0.7f, 0f, 0f, 0f, 0f});
        int b = f.values; // person 1, the chosen one
        out[b + 3 * 11] = 0.2f;     // l_hip y
        out[b + 3 * 11 + 1] = 0.4f; // l_hip x
        out[b + 3 * 11 + 2] = 0.9f;
        out[b + 3 * 12] = 0.3f;     // r_hip y
        out[b + 3 * 12 + 1] = 0.6f; // r_hip x
        out[b + 3 * 12 + 2] = 0.6f;
        out[b + 3 * 5 + 2] = 0.8f;  // l_shoulder's score
        out[3 * 5 + 2] = 0.95f;     // person 0's: not chosen
        int k = manifest.numJoints;
        float[] x = new float[k];
        float[] y = new float[k];
        float[] c = new float[k];
        f.decode(out, x, y, c);
        float s = 255f; // input size - 1
        // float32 as numpy: each keypoint scaled, then (a + b) / 2; the confidence the minimum
        assertEquals((0.4f * s + 0.6f * s) / 2f, x[0], 0f);
        assertEquals((0.2f * s + 0.3f * s) / 2f, y[0], 0f);
        assertEquals(0.6f, c[0], 0f);
        assertEquals(0.5f * s, x[1], 0f);
        assertEquals(0.25f * s, y[1], 0f);
        assertEquals(0.8f, c[1], 0f);
        assertEquals(0.5f, c[2], 0f);
    }

    @Test
    public void refusesAFinderGraphWithAnotherChecksum() throws Exception {
        byte[] graph = "a finder graph".getBytes(StandardCharsets.UTF_8);
        String sha = Manifest.sha256Hex(new ByteArrayInputStream(graph));
        int at = golden.indexOf("\"sha256\": \"") + "\"sha256\": \"".length();
        PersonFinder f = parse(golden.substring(0, at) + sha + golden.substring(at + 64));
        f.checkFile(new ByteArrayInputStream(graph), "assets/finder.tflite"); // its own: taken
        byte[] other = "another graph".getBytes(StandardCharsets.UTF_8);
        try {
            f.checkFile(new ByteArrayInputStream(other), "assets/finder.tflite");
            fail("ran a finder graph whose checksum is not finder.json's");
        } catch (ManifestException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("assets/finder.tflite: checksum"));
            assertTrue(e.getMessage(), e.getMessage().contains(sha));
        }
    }
}
