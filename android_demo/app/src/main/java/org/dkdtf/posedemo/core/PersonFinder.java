package org.dkdtf.posedemo.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * finder.json (android_demo/tools/copy_export.py --finder), read and checked against the export's
 * manifest, and the decoding of the person finder's raw output: the Java twin of dkd_tf's
 * PoseTracker finder (dkd_tf.pretrained.peers.choose_person, map_keypoints and PeerRunner).
 *
 * <p>A finder (MoveNet MultiPose) runs on the whole-frame crop when the tracker looks for a new
 * or lost person; its output holds up to {@code people} people, each {@code keypoints} x (y, x,
 * score) in 0..1 of its input (scaled by input size - 1 to crop pixels), then its box and the
 * person's score at column {@code personScore}. The person with the highest score is taken (the
 * first of equal ones, as numpy.argmax), and its keypoints are mapped to the export's joints by
 * the row lists of finder.json: a joint is the mean of its rows, its confidence the lowest of
 * theirs (a derived joint such as the head from the nose). Nothing of this is a constant here:
 * the sizes, layout and rows come from finder.json, which the Python side writes from the same
 * functions its tracker uses, so that a changed finder is a changed file, not a changed app.
 *
 * <p>Bad content is a ManifestException naming the file and the problem; the .tflite it names is
 * run only after {@link #checkFile} (its sha256).
 */
public final class PersonFinder {
    public static final int SUPPORTED_FORMAT_VERSION = 1;
    public static final String FILE_NAME = "finder.json";
    /** The only keypoint layout decoded: MoveNet's. */
    static final List<String> KEYPOINT_VALUES = Collections.unmodifiableList(
            Arrays.asList("y", "x", "score"));
    /** How the 0..1 coordinates become crop pixels (dkd_tf.pretrained.peers.Peer.predict). */
    static final String KEYPOINT_SCALE = "input_size - 1";

    public final String key;
    public final String source;
    /** The finder graph's file in the assets, and its sha256. */
    public final String file;
    public final String sha256;
    public final String license;
    public final int inputSize;
    public final int people;
    public final int values;
    public final int keypoints;
    public final int personScore;
    /** Per joint of the export (manifest order), the finder's keypoint rows it is made of. */
    public final int[][] rows;
    private final int numJoints;

    private PersonFinder(Map<String, Object> m, String source, Manifest manifest)
            throws ManifestException {
        JsonFields c = new JsonFields(source);
        this.source = source;
        long version = c.integer(m, "format_version");
        if (version != SUPPORTED_FORMAT_VERSION) {
            throw c.error("format_version is " + version + "; this app reads version "
                    + SUPPORTED_FORMAT_VERSION);
        }
        key = c.string(m, "key");
        file = c.string(m, "file");
        sha256 = c.string(m, "sha256");
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw c.error("sha256 " + sha256 + " is not a sha256; the app runs only files it can"
                    + " check");
        }
        license = c.string(m, "license");
        // at least 2 px: keypoints scale by input_size - 1
        inputSize = c.squareRgbInput(c.object(m, "input"), "int32", 2);
        Map<String, Object> output = c.object(m, "output");
        List<Object> shape = c.list(output, "shape");
        if (shape.size() != 3 || c.toInteger(shape.get(0), "output.shape") != 1) {
            throw c.error("output.shape " + shape + " is not [1, people, values]");
        }
        people = c.toInt(shape.get(1), "output.shape");
        values = c.toInt(shape.get(2), "output.shape");
        keypoints = c.integerValue(output, "keypoints");
        if (people < 1 || keypoints < 1 || values < 3 * keypoints + 1) {
            throw c.error("output.shape " + shape + " cannot hold " + keypoints
                    + " keypoints x 3 and a person score");
        }
        List<Object> layout = c.list(output, "keypoint_values");
        if (!KEYPOINT_VALUES.equals(layout)) {
            throw c.error("output.keypoint_values is " + layout + "; the app decodes "
                    + KEYPOINT_VALUES);
        }
        if (!KEYPOINT_SCALE.equals(c.string(output, "keypoint_scale"))) {
            throw c.error("output.keypoint_scale is " + output.get("keypoint_scale")
                    + "; the app decodes '" + KEYPOINT_SCALE + "'");
        }
        personScore = c.integerValue(output, "person_score");
        if (personScore < 3 * keypoints || personScore >= values) {
            throw c.error("output.person_score " + personScore + " is not a column after the "
                    + "keypoints (" + (3 * keypoints) + ".." + (values - 1) + ")");
        }
        Map<String, Object> joints = c.object(m, "joints");
        List<Object> names = c.list(joints, "names");
        if (!manifest.jointNames.equals(names)) {
            throw c.error("joints.names " + names + " are not the export's "
                    + manifest.jointNames + " (copy the export and the finder together with"
                    + " android_demo/tools/copy_export.py)");
        }
        List<Object> rowList = c.list(joints, "rows");
        if (rowList.size() != manifest.numJoints) {
            throw c.error("joints.rows has " + rowList.size() + " entries for "
                    + manifest.numJoints + " joints");
        }
        numJoints = manifest.numJoints;
        rows = new int[numJoints][];
        for (int j = 0; j < numJoints; j++) {
            Object r = rowList.get(j);
            if (!(r instanceof List) || ((List<?>) r).isEmpty()) {
                throw c.error("joints.rows[" + j + "] (" + names.get(j) + ") is not a non-empty"
                        + " list of keypoint rows");
            }
            List<?> list = (List<?>) r;
            rows[j] = new int[list.size()];
            for (int i = 0; i < list.size(); i++) {
                long row = c.toInteger(list.get(i), "joints.rows");
                if (row < 0 || row >= keypoints) {
                    throw c.error("joints.rows[" + j + "] holds row " + row + ", outside 0.."
                            + (keypoints - 1));
                }
                rows[j][i] = (int) row;
            }
        }
    }

    /** Parses and checks finder.json text for {@code manifest}'s export. */
    public static PersonFinder parse(String text, String source, Manifest manifest)
            throws ManifestException {
        return new PersonFinder(JsonFields.parseObject(text, source, "finder file"), source,
                manifest);
    }

    /** Reads (and closes) {@code in} and parses it as {@link #parse} does. */
    public static PersonFinder read(InputStream in, String source, Manifest manifest)
            throws ManifestException, IOException {
        return parse(Json.readUtf8(in), source, manifest);
    }

    /** Reads {@code in} to the end and refuses it unless its sha256 is finder.json's. */
    public void checkFile(InputStream in, String location) throws ManifestException, IOException {
        String actual = Manifest.sha256Hex(in);
        if (!actual.equals(sha256)) {
            throw new ManifestException(location, "checksum " + actual + " differs from "
                    + source + "'s " + sha256 + " (copy the finder again with"
                    + " android_demo/tools/copy_export.py)");
        }
    }

    /** Floats in the finder's raw output ([1, people, values], flat). */
    public int outputSize() {
        return people * values;
    }

    /** Floats in the finder's input crop (S x S x 3). */
    public int inputFloats() {
        return inputSize * inputSize * 3;
    }

    /**
     * The person with the highest score (dkd_tf.pretrained.peers.choose_person, numpy.argmax: the
     * first of equal scores, the first NaN if any). Empty slots score about 0, so some person is
     * always chosen; the tracker judges its keypoints' confidences as any other's.
     */
    public int choosePerson(float[] raw) {
        checkSize(raw);
        int best = 0;
        for (int p = 1; p < people; p++) {
            float top = raw[best * values + personScore];
            if (Float.isNaN(top)) {
                break;
            }
            float v = raw[p * values + personScore];
            if (Float.isNaN(v) || v > top) {
                best = p;
            }
        }
        return best;
    }

    /**
     * The chosen person's keypoints mapped to the export's joints, in crop pixels (of the
     * finder's input): x, y and conf, one per joint. float32 as numpy computes them: a keypoint
     * is (its 0..1 value) x (S - 1); a joint the mean of its rows (summed in row order, then
     * divided), its confidence their minimum.
     */
    public void decode(float[] raw, float[] x, float[] y, float[] conf) {
        int base = choosePerson(raw) * values;
        float scale = (float) (inputSize - 1);
        for (int j = 0; j < numJoints; j++) {
            int[] r = rows[j];
            float sx = 0f;
            float sy = 0f;
            float c = 0f;
            for (int i = 0; i < r.length; i++) {
                int o = base + 3 * r[i];
                float ky = raw[o] * scale;
                float kx = raw[o + 1] * scale;
                float ks = raw[o + 2];
                sx = i == 0 ? kx : sx + kx;
                sy = i == 0 ? ky : sy + ky;
                c = i == 0 ? ks : Math.min(c, ks);
            }
            x[j] = sx / r.length;
            y[j] = sy / r.length;
            conf[j] = c;
        }
    }

    private void checkSize(float[] raw) {
        if (raw == null || raw.length != outputSize()) {
            throw new IllegalArgumentException("the finder's output holds " + (raw == null ? 0
                    : raw.length) + " floats, " + source + " says " + outputSize());
        }
    }
}
