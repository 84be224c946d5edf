package org.dkdtf.posedemo.core;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * manifest.json of an export (dkd_tf/serving/manifest.py), read and checked: the one place the app takes
 * its constants from (input size, stride, shapes, joints and skeleton, decoding rule, crop margin,
 * tracker constants, graph files with their checksums and tensor names).
 *
 * <p>A manifest the app cannot run is refused with a ManifestException whose message names the
 * file and the problem: another format version, batch other than 1, shapes that disagree, an
 * unknown decoding rule, no TFLite graphs, a graph without a checksum, no tracker entry.
 */
public final class Manifest {
    public static final int SUPPORTED_FORMAT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";

    /** One TFLite graph file: name, sha256 and logical -> tensor names of its signature. */
    public static final class GraphFile {
        public final String file;
        public final String sha256;
        public final String signature;
        public final Map<String, String> inputs;
        public final Map<String, String> outputs;

        GraphFile(String file, String sha256, String signature, Map<String, String> inputs,
                  Map<String, String> outputs) {
            this.file = file;
            this.sha256 = sha256;
            this.signature = signature;
            this.inputs = Collections.unmodifiableMap(inputs);
            this.outputs = Collections.unmodifiableMap(outputs);
        }
    }

    public final String source;
    public final String variant;
    public final int inputSize;
    public final int stride;
    public final int heatmapHeight;
    public final int heatmapWidth;
    public final int numJoints;
    public final int[] stateShape;
    public final String decoding;
    public final HeatmapDecoder decoder;
    public final double cropMargin;
    public final TrackerConfig tracker;
    public final List<String> jointNames;
    public final int[][] edges;
    public final String quantization;
    public final GraphFile initializer;
    public final GraphFile stepper;

    private Manifest(Reader r) throws ManifestException {
        Map<String, Object> m = r.root;
        long version = r.integer(m, "format_version");
        if (version != SUPPORTED_FORMAT_VERSION) {
            throw r.error("format_version is " + version + "; this app reads version "
                    + SUPPORTED_FORMAT_VERSION + " (re-export with a matching dkd_tf, or update"
                    + " the app)");
        }
        source = r.source;
        if (r.integer(m, "batch") != 1) {
            throw r.error("batch is " + m.get("batch") + "; the graphs must have batch 1");
        }
        Map<String, Object> model = r.object(m, "model");
        variant = r.string(model, "variant");
        int h = r.squareRgbInput(r.object(m, "input"), "float32", 1);
        inputSize = h;
        stride = (int) r.integer(m, "stride");
        int[] hm = r.shape(m, "heatmap_shape");
        if (stride <= 0 || hm[1] * stride != h || hm[2] * stride != h) {
            throw r.error("heatmap_shape " + shapeText(hm) + " does not match input " + h + "x"
                    + h + " at stride " + stride);
        }
        heatmapHeight = hm[1];
        heatmapWidth = hm[2];
        numJoints = hm[3];
        stateShape = r.shape(m, "state_shape");
        decoding = r.string(m, "decoding");
        try {
            decoder = HeatmapDecoder.forRule(decoding, stride);
        } catch (IllegalArgumentException e) {
            throw r.error(e.getMessage());
        }
        cropMargin = r.number(r.object(m, "crop"), "margin");
        if (!(cropMargin > 0)) {
            throw r.error("crop.margin " + cropMargin + " is not positive");
        }
        if (!m.containsKey("tracker")) {
            throw r.error("no tracker entry (the tracker's constants); re-export with a current"
                    + " dkd_tf, or copy the export with android_demo/tools/copy_export.py");
        }
        Map<String, Object> t = r.object(m, "tracker");
        List<Object> range = r.list(t, "follow_scale_range");
        if (range.size() != 2) {
            throw r.error("tracker.follow_scale_range must be [low, high], got " + range);
        }
        // Manifests written before follow_smoothing existed lack it: their tracker moved the box
        // centre straight to the keypoints' centre, i.e. no smoothing (0.0).
        double followSmoothing = t.containsKey("follow_smoothing")
                ? r.number(t, "follow_smoothing") : 0.0;
        // Manifests written before follow_velocity existed lack it and its memory: their tracker
        // moved the box without the velocity (0.0), as tracking_policy.follow_velocity_of reads
        // them.
        double followVelocity = t.containsKey("follow_velocity")
                ? r.number(t, "follow_velocity") : 0.0;
        double followVelocityMemory = t.containsKey("follow_velocity_memory")
                ? r.number(t, "follow_velocity_memory") : TrackerConfig.FOLLOW_VELOCITY_MEMORY;
        // Manifests written before motion_prior existed lack it: their stepper's heatmaps were
        // decoded by the plain argmax (0.0), as tracking_policy.motion_prior_of reads them.
        double motionPrior = t.containsKey("motion_prior") ? r.number(t, "motion_prior") : 0.0;
        try {
            tracker = new TrackerConfig(r.number(t, "reinit_threshold"),
                    (int) r.integer(t, "reinit_every"), r.number(t, "keypoint_threshold"),
                    r.number(t, "follow_margin"), r.number(t, "follow_max_resize"),
                    followSmoothing,
                    r.toNumber(range.get(0), "tracker.follow_scale_range"),
                    r.toNumber(range.get(1), "tracker.follow_scale_range"),
                    followVelocity, followVelocityMemory, motionPrior);
        } catch (IllegalArgumentException e) {
            throw r.error("tracker: " + e.getMessage());
        }
        Map<String, Object> joints = r.object(m, "joints");
        List<Object> names = r.list(joints, "names");
        if (names.size() != numJoints) {
            throw r.error("joints.names has " + names.size() + " entries, heatmaps have "
                    + numJoints + " channels");
        }
        List<String> nameList = new ArrayList<String>();
        for (Object n : names) {
            if (!(n instanceof String)) {
                throw r.error("joints.names holds " + n + ", not a string");
            }
            nameList.add((String) n);
        }
        jointNames = Collections.unmodifiableList(nameList);
        List<Object> edgeList = r.list(joints, "edges");
        edges = new int[edgeList.size()][];
        for (int i = 0; i < edges.length; i++) {
            Object e = edgeList.get(i);
            if (!(e instanceof List) || ((List<?>) e).size() != 2) {
                throw r.error("joints.edges[" + i + "] is not a pair");
            }
            List<?> pair = (List<?>) e;
            int a = (int) r.toInteger(pair.get(0), "joints.edges");
            int b = (int) r.toInteger(pair.get(1), "joints.edges");
            if (a < 0 || b < 0 || a >= numJoints || b >= numJoints) {
                throw r.error("skeleton edge [" + a + ", " + b + "] out of range");
            }
            edges[i] = new int[] {a, b};
        }
        Map<String, Object> formats = r.object(m, "formats");
        if (!formats.containsKey("tflite")) {
            throw r.error("this export has no TFLite graphs (formats: " + formats.keySet()
                    + "); run `python -m export.tflite` first");
        }
        Map<String, Object> tflite = r.object(formats, "tflite");
        quantization = r.string(tflite, "quantization");
        String io = tflite.containsKey("io_dtype") ? r.string(tflite, "io_dtype") : "float32";
        if (!"float32".equals(io)) {
            throw r.error("formats.tflite.io_dtype is " + io + "; the app feeds float32 tensors");
        }
        initializer = graphFile(r, tflite, "initializer", new String[] {"frame"});
        stepper = graphFile(r, tflite, "stepper", new String[] {"frame", "state"});
    }

    private static GraphFile graphFile(Reader r, Map<String, Object> tflite, String graph,
                                       String[] inputs) throws ManifestException {
        Map<String, Object> g = r.object(tflite, graph);
        String file = r.string(g, "file");
        if (!g.containsKey("sha256")) {
            throw r.error("formats.tflite." + graph + " has no sha256 checksum; the app runs only"
                    + " files it can check");
        }
        String sha = r.string(g, "sha256");
        if (!sha.matches("[0-9a-f]{64}")) {
            throw r.error("formats.tflite." + graph + ".sha256 " + sha + " is not a sha256");
        }
        Map<String, String> in = r.names(r.object(g, "inputs"), graph + ".inputs");
        Map<String, String> out = r.names(r.object(g, "outputs"), graph + ".outputs");
        for (String name : inputs) {
            if (!in.containsKey(name)) {
                throw r.error("formats.tflite." + graph + ".inputs has no '" + name + "'");
            }
        }
        for (String name : new String[] {"heatmaps", "state"}) {
            if (!out.containsKey(name)) {
                throw r.error("formats.tflite." + graph + ".outputs has no '" + name + "'");
            }
        }
        return new GraphFile(file, sha, r.string(g, "signature"), in, out);
    }

    /** Parses and checks manifest text; {@code source} names it in messages. */
    public static Manifest parse(String text, String source) throws ManifestException {
        return new Manifest(new Reader(JsonFields.parseObject(text, source, "manifest"), source));
    }

    /** Reads (and closes) {@code in} and parses it as {@link #parse} does. */
    public static Manifest read(InputStream in, String source)
            throws ManifestException, IOException {
        return parse(Json.readUtf8(in), source);
    }

    /** Number of floats in the state tensor. */
    public int stateSize() {
        int n = 1;
        for (int d : stateShape) {
            n *= d;
        }
        return n;
    }

    /** Number of floats in the heatmap tensor. */
    public int heatmapSize() {
        return heatmapHeight * heatmapWidth * numJoints;
    }

    /** Reads {@code in} to the end and refuses it unless its sha256 is the manifest's. */
    public static void checkFile(GraphFile graph, InputStream in, String location)
            throws ManifestException, IOException {
        String actual = sha256Hex(in);
        if (!actual.equals(graph.sha256)) {
            throw new ManifestException(location, "checksum " + actual + " differs from the"
                    + " manifest's " + graph.sha256 + " (the file changed after the export;"
                    + " copy the whole export again)");
        }
    }

    public static String sha256Hex(InputStream in) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : md.digest()) {
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    static String shapeText(int[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(']').toString();
    }

    /** manifest.json's fields ({@link JsonFields}), and the shapes and tensor names it holds. */
    private static final class Reader extends JsonFields {
        final Map<String, Object> root;

        Reader(Map<String, Object> root, String source) {
            super(source);
            this.root = root;
        }

        int[] shape(Map<String, Object> m, String key) throws ManifestException {
            List<Object> dims = list(m, key);
            int[] out = new int[dims.size()];
            for (int i = 0; i < out.length; i++) {
                long d = toInteger(dims.get(i), key);
                if (d <= 0 || d > Integer.MAX_VALUE) {
                    throw error(key + " " + dims + " has a dimension that is not positive");
                }
                out[i] = (int) d;
            }
            if (out.length != 4 || out[0] != 1) {
                throw error(key + " " + dims + " is not [1, h, w, c] (batch 1)");
            }
            return out;
        }

        Map<String, String> names(Map<String, Object> m, String key) throws ManifestException {
            Map<String, String> out = new LinkedHashMap<String, String>();
            for (Map.Entry<String, Object> e : m.entrySet()) {
                if (!(e.getValue() instanceof String)) {
                    throw error(key + "." + e.getKey() + " must be a tensor name");
                }
                out.put(e.getKey(), (String) e.getValue());
            }
            return out;
        }
    }
}
