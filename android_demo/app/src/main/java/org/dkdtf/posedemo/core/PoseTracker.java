package org.dkdtf.posedemo.core;

import java.util.ArrayList;
import java.util.List;

import org.dkdtf.posedemo.data.CropRegion;
import org.dkdtf.posedemo.data.Keypoint;
import org.dkdtf.posedemo.data.Pose;
import org.dkdtf.posedemo.ml.FinderModel;
import org.dkdtf.posedemo.ml.PoseModel;

/**
 * Frame-by-frame tracking with the two graphs: the Java twin of dkd_tf.tracking.pose_tracker.PoseTracker, with
 * the same policies, constants (from the manifest) and float32 arithmetic, checked against it by
 * the golden vectors.
 *
 * <p>Per frame: crop a square around the current person box (the whole frame at the start
 * unless a start box is given); run the initializer when there is no state, after a
 * low-confidence or unreadable frame, or every {@code reinit_every} frames, else the stepper with
 * the carried state; decode keypoints by the manifest's rule and map them back to the frame (a
 * crop with less than {@link #MIN_FRAME_SHARE} of the frame in it scales the confidences down by
 * that share, and re-initializes on the whole frame when that makes them low). When
 * the frame's mean peak confidence is below {@code reinit_threshold} the next frame re-initializes
 * and the box stays (the whole frame when that re-initialization is below it too: the person
 * left the box); otherwise the box follows the keypoints: their bounding box (when at least
 * max(2, ceil(K/3)) have confidence >= {@code keypoint_threshold}), each side at least 1 px and
 * at least half the longer side, grown by {@code follow_margin} on each side, its size changed by
 * at most {@code follow_max_resize} a frame and kept within {@code follow_scale_range} of a given
 * start box; its centre moves to {@code follow_smoothing} x (the old centre +
 * {@code follow_velocity} x v) + (1 - {@code follow_smoothing}) x the keypoint box's centre, v
 * (frame px a frame) then becoming {@code follow_velocity_memory} x v + (1 -
 * {@code follow_velocity_memory}) x the centre's move. v starts at 0 with every person: at a reset,
 * after an unreadable frame and when the whole frame is looked at (no box); a frame that leaves
 * the box where it was (low confidence, too few confident keypoints) leaves v as it was.
 *
 * <p>After the initializer looked at the whole frame (no box: at the start without a start box,
 * or a person lost), it looks again in the same frame at the box its keypoints span
 * ({@link #refine}, dkd_tf's find_refine): a person far from the camera is a few dozen pixels of
 * the whole-frame crop. That answer is kept, and while the box a look gives is under
 * {@link #REFINE_SHRINK} of the box it looked in, again, up to {@link #MAX_REFINE_LOOKS} looks
 * after the whole frame. The last box looked in becomes the start box (it bounds the follow as a
 * given one does), and the frame's latency is all its looks'.
 *
 * <p>With a person finder ({@link PersonFinder}, dkd_tf's PoseTracker(finder=...), e.g. MoveNet
 * MultiPose for frames of several people), a whole-frame look of the initializer is preceded by
 * the finder's look at the same whole-frame crop (at the finder's input size): the box its
 * chosen person's keypoints span ({@link #keypointBox}) becomes the box the initializer looks in,
 * and the start box, and no refine looks follow; when that gives no box (too few confident
 * keypoints), the initializer looks at the whole frame itself, refine looks and all. The
 * finder's time is part of the frame's latency.
 *
 * <p>An optional {@link OneEuroFilter} smooths the keypoints reported (dkd_tf.stream
 * --smooth_keypoints); the box follows the raw ones, and the filter starts afresh with every
 * person looked for on the whole frame, at a reset and after an unreadable frame.
 *
 * <p>A motion prior (dkd_tf.stream --motion_prior; unless given, the manifest's
 * {@code tracker.motion_prior}, 0 without it) makes the stepper look for each joint near where
 * it was in the last frame ({@link HeatmapDecoder#decodeNear}, sigma = the prior x the input
 * size, for the joints whose last confidence reached {@code keypoint_threshold}); it is
 * forgotten at a reset and after an unreadable frame.
 *
 * <p>Use {@link #process} with a model, or, with heatmaps computed elsewhere (the golden tests
 * replay Python's heatmaps this way): {@link #plan}; when its {@link Plan#finderCrop} is set,
 * {@link #find} with the finder's raw output on that crop, which gives the first look; then for
 * each look {@link #refine} with its heatmaps, which gives the next look at the same frame or
 * null, and {@link #complete} with the last look's.
 */
public final class PoseTracker {
    public static final String INITIALIZER = "initializer";
    public static final String STEPPER = "stepper";
    public static final String START = "start";
    public static final String CONFIDENCE = "confidence";
    public static final String PERIODIC = "periodic";
    public static final String BAD_FRAME = "bad_frame";
    /**
     * dkd_tf.data.frame_crops.MIN_FRAME_SHARE: a crop with less of the frame in it than this
     * (the rest is zero fill) has its confidences scaled down in proportion, so that a box
     * drifted off the frame never reports a confident pose (a model answers about 0.47 on a
     * black crop); when that makes the frame re-initialize, the next crop is the whole frame.
     */
    public static final double MIN_FRAME_SHARE = 0.25;
    /**
     * dkd_tf.tracking.pose_tracker.MAX_REFINE_LOOKS: the most looks at the keypoints' box after
     * a whole-frame look, in the same frame (find_refine).
     */
    public static final int MAX_REFINE_LOOKS = 3;
    /**
     * dkd_tf.tracking.pose_tracker.REFINE_SHRINK: another look follows a refine look only while
     * the keypoints' box (its larger side) is under this share of the box it looked in.
     */
    public static final double REFINE_SHRINK = 0.5;

    /** A look at a frame: which graph runs, and on which crop. */
    public static final class Plan {
        public final String graph;
        /** Why the initializer runs (start, confidence, periodic, bad_frame); "" for the stepper. */
        public final String reason;
        /** The person box the crop is built from. */
        public final CropRegion box;
        public final CropTransform crop;
        public final int frameWidth;
        public final int frameHeight;
        /** 0: the frame's first look ({@link #plan}); n: its n-th refine look ({@link #refine}). */
        public final int look;
        /** The look is at the whole frame: there was no box (a new or lost person). */
        public final boolean wholeFrame;
        /**
         * The crop the person finder looks at before this look (the whole frame at the finder's
         * input size), or null: no finder, or not a whole-frame look of the initializer, or the
         * finder has looked ({@link #find}).
         */
        public final CropTransform finderCrop;
        /** The box is the one the finder's person spans ({@link #find}). */
        public final boolean found;

        Plan(String graph, String reason, CropRegion box, int inputSize, double margin,
             int frameWidth, int frameHeight, int look, boolean wholeFrame) {
            this(graph, reason, box, inputSize, margin, frameWidth, frameHeight, look,
                    wholeFrame, null, false);
        }

        Plan(String graph, String reason, CropRegion box, int inputSize, double margin,
             int frameWidth, int frameHeight, int look, boolean wholeFrame,
             CropTransform finderCrop, boolean found) {
            this.graph = graph;
            this.reason = reason;
            this.box = box;
            this.crop = new CropTransform(box, inputSize, margin);
            this.frameWidth = frameWidth;
            this.frameHeight = frameHeight;
            this.look = look;
            this.wholeFrame = wholeFrame;
            this.finderCrop = finderCrop;
            this.found = found;
        }
    }

    /** What the person finder found: its chosen person's joints in frame pixels, and their box. */
    public static final class Finding {
        public final float[] x;
        public final float[] y;
        public final float[] conf;
        /** The box the keypoints span ({@link #keypointBox}); null: too few are confident. */
        public final CropRegion box;

        Finding(float[] x, float[] y, float[] conf, CropRegion box) {
            this.x = x;
            this.y = y;
            this.conf = conf;
            this.box = box;
        }
    }

    /** One processed frame. */
    public static final class FrameResult {
        public final String graph;
        public final String reason;
        public final Pose pose;
        /** The person box the crop was built from (the last look's). */
        public final CropRegion box;
        /** The frame region the crop covers (the last look's). */
        public final CropRegion crop;
        /** All the frame's looks together (the finder's among them). */
        public final double latencyMs;
        /** The initializer looked in the box the person finder found. */
        public final boolean found;

        FrameResult(String graph, String reason, Pose pose, CropRegion box, CropRegion crop,
                    double latencyMs, boolean found) {
            this.graph = graph;
            this.reason = reason;
            this.pose = pose;
            this.box = box;
            this.crop = crop;
            this.latencyMs = latencyMs;
            this.found = found;
        }
    }

    private final Manifest manifest;
    private final TrackerConfig config;
    private final int minFollowJoints;
    private final float[] x;
    private final float[] y;
    private final float[] conf;
    private float[] state;
    private CropRegion box;
    private CropRegion startBox;
    private String pending;
    private int sinceInit;
    private int startCount;
    private int confidenceCount;
    private int periodicCount;
    private int badFrameCount;
    private int badFrames;
    private float[] cropBuffer;
    private float[] finderBuffer;
    private final PersonFinder finder;
    private int finderRuns;
    private final OneEuroFilter keypointFilter;
    private boolean searched;
    private final double motionPrior;
    private final float[] lastX;
    private final float[] lastY;
    private final float[] lastConf;
    private boolean hasLast;
    private final float[] priorX;
    private final float[] priorY;
    private final boolean[] priorOk;
    /** The box centre's velocity, frame px a frame (follow_velocity). */
    private float velocityX;
    private float velocityY;

    public PoseTracker(Manifest manifest) {
        this(manifest, manifest.tracker);
    }

    public PoseTracker(Manifest manifest, TrackerConfig config) {
        this(manifest, config, null);
    }

    /**
     * keypointFilter: smooths the keypoints reported (null: as decoded). The motion prior is
     * {@code config}'s, i.e. the export's (its manifest's {@code tracker.motion_prior}, 0 when it
     * has none), as dkd_tf's PoseTracker(motion_prior=None).
     */
    public PoseTracker(Manifest manifest, TrackerConfig config, OneEuroFilter keypointFilter) {
        this(manifest, config, keypointFilter, config.motionPrior);
    }

    /**
     * motionPrior: the stepper looks for each joint within a Gaussian of this share of the
     * input size around its last position (0: the plain argmax; dkd_tf.stream --motion_prior);
     * given here, it overrides {@code config.motionPrior}.
     */
    public PoseTracker(Manifest manifest, TrackerConfig config, OneEuroFilter keypointFilter,
                       double motionPrior) {
        this(manifest, config, keypointFilter, motionPrior, null);
    }

    /**
     * finder: the person finder whose box the initializer starts from on a whole frame (null:
     * the initializer looks itself); {@link #process} then needs its graph.
     */
    public PoseTracker(Manifest manifest, TrackerConfig config, OneEuroFilter keypointFilter,
                       double motionPrior, PersonFinder finder) {
        if (!(motionPrior >= 0.0 && motionPrior < 10.0)) {
            throw new IllegalArgumentException("motion_prior must be in [0, 10), got "
                    + motionPrior);
        }
        this.manifest = manifest;
        this.config = config;
        this.keypointFilter = keypointFilter;
        this.motionPrior = motionPrior;
        this.finder = finder;
        int k = manifest.numJoints;
        lastX = new float[k];
        lastY = new float[k];
        lastConf = new float[k];
        priorX = new float[k];
        priorY = new float[k];
        priorOk = new boolean[k];
        minFollowJoints = Math.max(2, (k + 2) / 3);
        x = new float[k];
        y = new float[k];
        conf = new float[k];
        reset(null);
    }

    public TrackerConfig config() {
        return config;
    }

    /** The person finder, or null. */
    public PersonFinder finder() {
        return finder;
    }

    /** The share of the input size the stepper's joints are looked for near (0: off). */
    public double motionPrior() {
        return motionPrior;
    }

    /** Forget the state; the next frame runs the initializer in {@code start} (null: whole frame). */
    public void reset(CropRegion start) {
        state = null;
        box = start;
        startBox = start;
        pending = START;
        sinceInit = 0;
        hasLast = false;
        velocityX = 0f;
        velocityY = 0f;
        if (keypointFilter != null) {
            keypointFilter.reset();
        }
    }

    /** A frame that could not be read: it is skipped and the next good frame re-initializes. */
    public void markBadFrame() {
        badFrames++;
        hasLast = false;
        velocityX = 0f;
        velocityY = 0f;
        if (keypointFilter != null) {
            keypointFilter.reset();
        }
        if (state != null) {
            pending = BAD_FRAME;
        }
        state = null;
    }

    /**
     * Graph, reason and crop of the next frame's first look, the frame of {@code width} x
     * {@code height} pixels.
     */
    public Plan plan(int width, int height) {
        searched = box == null; // no box to look in: a new or lost person, on the whole frame
        if (searched) {
            velocityX = 0f; // a person found afresh has no past motion
            velocityY = 0f;
        }
        if (box == null) {
            box = fullFrameBox(width, height, manifest.cropMargin);
        }
        String graph;
        String reason;
        if (state == null) {
            graph = INITIALIZER;
            reason = pending.length() > 0 ? pending : START;
        } else if (pending.length() > 0) {
            graph = INITIALIZER;
            reason = pending;
        } else if (config.reinitEvery > 0 && sinceInit >= config.reinitEvery) {
            graph = INITIALIZER;
            reason = PERIODIC;
        } else {
            graph = STEPPER;
            reason = "";
        }
        CropTransform finderCrop = searched && finder != null && INITIALIZER.equals(graph)
                ? new CropTransform(box, finder.inputSize, manifest.cropMargin) : null;
        return new Plan(graph, reason, box, manifest.inputSize, manifest.cropMargin, width, height,
                0, searched, finderCrop, false);
    }

    /**
     * The person finder's raw output on {@code plan}'s {@link Plan#finderCrop} decoded: its chosen
     * person's keypoints mapped to the export's joints, in frame pixels, and the box they span.
     */
    public Finding finding(Plan plan, float[] raw) {
        if (plan.finderCrop == null) {
            throw new IllegalStateException("this look has no finder crop");
        }
        int k = manifest.numJoints;
        float[] cx = new float[k];
        float[] cy = new float[k];
        float[] c = new float[k];
        finder.decode(raw, cx, cy, c);
        float[] fx = new float[k];
        float[] fy = new float[k];
        for (int i = 0; i < k; i++) {
            fx[i] = plan.finderCrop.toFrameX(cx[i]);
            fy[i] = plan.finderCrop.toFrameY(cy[i]);
        }
        return new Finding(fx, fy, c, keypointBox(fx, fy, c));
    }

    /**
     * The frame's first look after the finder's, given its raw output on {@code plan}'s
     * {@link Plan#finderCrop} (dkd_tf's PoseTracker.process with a finder): the initializer in the
     * box the finder's person spans, with no refine looks after it; or, when that gives no box,
     * {@code plan}'s own whole-frame look (refine looks and all). Changes no tracker state but
     * {@link #finderRuns}: {@link #complete} takes the found box as the box and the start box.
     */
    public Plan find(Plan plan, float[] raw) {
        Finding f = finding(plan, raw);
        finderRuns++;
        if (f.box == null) {
            return new Plan(plan.graph, plan.reason, plan.box, manifest.inputSize,
                    manifest.cropMargin, plan.frameWidth, plan.frameHeight, 0, plan.wholeFrame);
        }
        return new Plan(plan.graph, plan.reason, f.box, manifest.inputSize, manifest.cropMargin,
                plan.frameWidth, plan.frameHeight, 0, false, null, true);
    }

    /**
     * The next look at the frame of {@code plan}, given the heatmaps its look returned, or null
     * when there is none (dkd_tf.tracking.pose_tracker.PoseTracker._refine): after the
     * initializer's look at the whole frame, the initializer again on the box its keypoints span
     * ({@link #keypointBox}); after such a look, again while that box's larger side is under
     * {@link #REFINE_SHRINK} of the box looked in, up to {@link #MAX_REFINE_LOOKS} looks; null
     * too when too few keypoints are confident for a box. Changes no tracker state:
     * {@link #complete} with the last look takes the box looked in.
     */
    public Plan refine(Plan plan, float[] heatmaps) {
        boolean refines = plan.look > 0 || (plan.wholeFrame && INITIALIZER.equals(plan.graph));
        if (!refines || plan.look >= MAX_REFINE_LOOKS) {
            return null;
        }
        int k = manifest.numJoints;
        float[] fx = new float[k];
        float[] fy = new float[k];
        decode(plan, heatmaps, fx, fy);
        CropRegion found = keypointBox(fx, fy, conf);
        if (found == null) {
            return null;
        }
        if (plan.look > 0 && Math.max(found.width(), found.height())
                >= REFINE_SHRINK * Math.max(plan.box.width(), plan.box.height())) {
            return null; // no longer halving: the person fills this crop
        }
        return new Plan(plan.graph, plan.reason, found, manifest.inputSize, manifest.cropMargin,
                plan.frameWidth, plan.frameHeight, plan.look + 1, false);
    }

    /**
     * Takes the heatmaps and next state of the frame's last look ({@code plan}: {@link #plan}'s,
     * or the last {@link #refine} gave); moves the box. latencyMs: all the frame's looks.
     */
    public FrameResult complete(Plan plan, float[] heatmaps, float[] nextState, double latencyMs) {
        if (nextState == null || nextState.length != manifest.stateSize()) {
            throw new IllegalArgumentException("state holds " + (nextState == null ? 0
                    : nextState.length) + " floats, the manifest says " + manifest.stateSize());
        }
        state = nextState;
        if (INITIALIZER.equals(plan.graph)) {
            if (START.equals(plan.reason)) {
                startCount++;
            } else if (CONFIDENCE.equals(plan.reason)) {
                confidenceCount++;
            } else if (PERIODIC.equals(plan.reason)) {
                periodicCount++;
            } else {
                badFrameCount++;
            }
            sinceInit = 0;
            pending = "";
        }
        sinceInit++;
        if (plan.look > 0 || plan.found) {
            // a refined look's or the finder's box: the start box, which bounds the follow
            box = plan.box;
            startBox = plan.box;
        }
        int k = manifest.numJoints;
        List<Keypoint> keypoints = new ArrayList<Keypoint>(k);
        float[] fx = new float[k];
        float[] fy = new float[k];
        decode(plan, heatmaps, fx, fy);
        CropRegion covered = plan.crop.coveredRegion();
        double share = frameShare(covered, plan.frameWidth, plan.frameHeight);
        if (share < MIN_FRAME_SHARE) {
            float scale = (float) (share / MIN_FRAME_SHARE); // numpy: float32 array x float32
            for (int i = 0; i < k; i++) {
                conf[i] = conf[i] * scale;
            }
        }
        float mean = Numerics.mean(conf);
        boolean low = config.reinitThreshold > 0 && (double) mean < config.reinitThreshold;
        if (low) {
            pending = CONFIDENCE; // keep the box: low-confidence keypoints mislead
            if (share < MIN_FRAME_SHARE || CONFIDENCE.equals(plan.reason)) {
                // ... unless it is mostly off the frame, or the initializer, run in it because
                // the person was lost, found nobody there either: look at all of the frame
                box = null;
            }
        } else {
            box = followBox(fx, fy, conf, box);
        }
        System.arraycopy(fx, 0, lastX, 0, k); // the raw keypoints: the motion prior's
        System.arraycopy(fy, 0, lastY, 0, k);
        System.arraycopy(conf, 0, lastConf, 0, k);
        hasLast = true;
        if (keypointFilter != null) {
            if (searched) {
                keypointFilter.reset(); // a person (re)found: no past to smooth with
            }
            float sideX = plan.box.x2 - plan.box.x1;
            float sideY = plan.box.y2 - plan.box.y1;
            keypointFilter.apply(fx, fy, Math.max(sideX, sideY));
        }
        for (int i = 0; i < k; i++) {
            keypoints.add(new Keypoint(manifest.jointNames.get(i), fx[i], fy[i], conf[i]));
        }
        return new FrameResult(plan.graph, plan.reason, new Pose(keypoints, mean), plan.box,
                covered, latencyMs, plan.found);
    }

    /**
     * A look's heatmaps decoded into {@link #conf} and frame pixels {@code fx, fy} (the stepper's
     * near the last keypoints with the motion prior).
     */
    private void decode(Plan plan, float[] heatmaps, float[] fx, float[] fy) {
        int k = manifest.numJoints;
        if (STEPPER.equals(plan.graph) && motionPrior > 0 && hasLast) {
            float threshold = (float) config.keypointThreshold;
            for (int i = 0; i < k; i++) {
                priorX[i] = plan.crop.toCropX(lastX[i]);
                priorY[i] = plan.crop.toCropY(lastY[i]);
                priorOk[i] = lastConf[i] >= threshold;
            }
            manifest.decoder.decodeNear(heatmaps, manifest.heatmapHeight, manifest.heatmapWidth,
                    k, priorX, priorY, priorOk, motionPrior * manifest.inputSize, x, y, conf);
        } else {
            manifest.decoder.decode(heatmaps, manifest.heatmapHeight, manifest.heatmapWidth, k, x,
                    y, conf);
        }
        for (int i = 0; i < k; i++) {
            fx[i] = plan.crop.toFrameX(x[i]);
            fy[i] = plan.crop.toFrameY(y[i]);
        }
    }

    /**
     * One upright ARGB frame through {@code model}: plan, then crop and run each look (the
     * refine looks after a whole-frame one), complete. A tracker with a person finder needs
     * {@link #process(int[], int, int, PoseModel, FinderModel)}.
     */
    public FrameResult process(int[] argb, int width, int height, PoseModel model) {
        return process(argb, width, height, model, null);
    }

    /**
     * ... with {@code finderModel} running the tracker's person finder on a whole frame first
     * ({@link #find}); its time counts in the frame's latency.
     */
    public FrameResult process(int[] argb, int width, int height, PoseModel model,
                               FinderModel finderModel) {
        Plan p = plan(width, height);
        int n = manifest.inputSize * manifest.inputSize * 3;
        if (cropBuffer == null || cropBuffer.length != n) {
            cropBuffer = new float[n];
        }
        double ms = 0.0;
        if (p.finderCrop != null) {
            if (finderModel == null) {
                throw new IllegalArgumentException("the tracker has a person finder ("
                        + finder.source + ") but no finder model to run it");
            }
            if (finderBuffer == null || finderBuffer.length != finder.inputFloats()) {
                finderBuffer = new float[finder.inputFloats()];
            }
            p.finderCrop.sample(argb, width, height, finderBuffer);
            long t0 = System.nanoTime();
            float[] raw = finderModel.find(finderBuffer);
            ms += (System.nanoTime() - t0) / 1e6;
            p = find(p, raw);
        }
        while (true) {
            p.crop.sample(argb, width, height, cropBuffer);
            long t0 = System.nanoTime();
            PoseModel.Output out = INITIALIZER.equals(p.graph) ? model.initialize(cropBuffer)
                    : model.step(cropBuffer, state);
            ms += (System.nanoTime() - t0) / 1e6;
            Plan next = refine(p, out.heatmaps);
            if (next == null) {
                return complete(p, out.heatmaps, out.state, ms);
            }
            p = next;
        }
    }

    /**
     * The box that follows keypoints {@code kx, ky} with confidences {@code c} from
     * {@code previousBox} (dkd_tf.tracking.pose_tracker.PoseTracker._follow_box); updates the
     * velocity unless the box stays (too few confident keypoints, or a box not finite).
     * Package-private for the tests.
     */
    CropRegion followBox(float[] kx, float[] ky, float[] c, CropRegion previousBox) {
        float[] e = extent(kx, ky, c);
        if (e == null) {
            return previousBox;
        }
        float loX = e[0];
        float loY = e[1];
        float hiX = e[2];
        float hiY = e[3];
        float extentX = e[4];
        float extentY = e[5];
        // As dkd_tf.stream: smoothing * (old centre + follow_velocity * velocity) + (1 -
        // smoothing) * keypoint box centre, then velocity = memory * velocity + (1 - memory) *
        // the centre's move, in float32 (the factors, taken in double, rounded to float32 as
        // numpy does with a Python float times a float32 array).
        float keep = (float) config.followSmoothing;
        float take = (float) (1.0 - config.followSmoothing);
        float lead = (float) config.followVelocity;
        float remember = (float) config.followVelocityMemory;
        float learn = (float) (1.0 - config.followVelocityMemory);
        float oldMidX = (previousBox.x1 + previousBox.x2) / 2.0f;
        float oldMidY = (previousBox.y1 + previousBox.y2) / 2.0f;
        float aheadX = oldMidX + lead * velocityX;
        float aheadY = oldMidY + lead * velocityY;
        float midX = keep * aheadX + take * (loX + hiX) / 2.0f;
        float midY = keep * aheadY + take * (loY + hiY) / 2.0f;
        float sizeX = extentX * grow();
        float sizeY = extentY * grow();
        float resize = (float) (1.0 + config.followMaxResize);
        float prevX = previousBox.x2 - previousBox.x1;
        float prevY = previousBox.y2 - previousBox.y1;
        sizeX = clip(sizeX, prevX / resize, prevX * resize);
        sizeY = clip(sizeY, prevY / resize, prevY * resize);
        if (startBox != null) {
            float startX = startBox.x2 - startBox.x1;
            float startY = startBox.y2 - startBox.y1;
            float low = (float) config.followScaleLow;
            float high = (float) config.followScaleHigh;
            sizeX = clip(sizeX, startX * low, startX * high);
            sizeY = clip(sizeY, startY * low, startY * high);
        }
        CropRegion next = new CropRegion(midX - sizeX / 2.0f, midY - sizeY / 2.0f,
                midX + sizeX / 2.0f, midY + sizeY / 2.0f);
        if (!next.isFinite()) {
            return previousBox;  // and the velocity as it was: a NaN would stick in it
        }
        velocityX = remember * velocityX + learn * (midX - oldMidX);
        velocityY = remember * velocityY + learn * (midY - oldMidY);
        return next;
    }

    /**
     * The box keypoints {@code kx, ky} with confidences {@code c} span, grown by the follow margin
     * on each side, unsmoothed (dkd_tf.tracking.pose_tracker.PoseTracker._keypoint_box: where a
     * whole-frame look is looked at again); null when too few are confident or it is not finite.
     * Package-private for the tests.
     */
    CropRegion keypointBox(float[] kx, float[] ky, float[] c) {
        float[] e = extent(kx, ky, c);
        if (e == null) {
            return null;
        }
        float midX = (e[0] + e[2]) / 2.0f;
        float midY = (e[1] + e[3]) / 2.0f;
        float sizeX = e[4] * grow();
        float sizeY = e[5] * grow();
        CropRegion found = new CropRegion(midX - sizeX / 2.0f, midY - sizeY / 2.0f,
                midX + sizeX / 2.0f, midY + sizeY / 2.0f);
        return found.isFinite() ? found : null;
    }

    /**
     * {loX, loY, hiX, hiY, extentX, extentY} of the box the keypoints span, or null when fewer
     * than max(2, ceil(K/3)) have confidence >= keypoint_threshold or any is not finite
     * (PoseTracker._extent). All joints span it (unconfident ones are often the limbs' ends:
     * dropping them would centre it on the torso and shrink it); each side is at least 1 px and
     * at least half the longer one (a box from a few joints can be a sliver).
     */
    private float[] extent(float[] kx, float[] ky, float[] c) {
        float threshold = (float) config.keypointThreshold;
        int good = 0;
        for (float v : c) {
            if (v >= threshold) {
                good++;
            }
        }
        if (good < minFollowJoints) {
            return null;
        }
        for (int i = 0; i < kx.length; i++) {
            if (Float.isNaN(kx[i]) || Float.isInfinite(kx[i]) || Float.isNaN(ky[i])
                    || Float.isInfinite(ky[i])) {
                return null;
            }
        }
        float loX = Numerics.min(kx);
        float hiX = Numerics.max(kx);
        float loY = Numerics.min(ky);
        float hiY = Numerics.max(ky);
        float extentX = Math.max(hiX - loX, 1.0f);
        float extentY = Math.max(hiY - loY, 1.0f);
        float side = Math.max(extentX, extentY);
        extentX = Math.max(extentX, (float) (0.5 * side));
        extentY = Math.max(extentY, (float) (0.5 * side));
        return new float[] {loX, loY, hiX, hiY, extentX, extentY};
    }

    /** 1 + 2 x follow_margin, the keypoint box's growth, in float32 as numpy takes the factor. */
    private float grow() {
        return (float) (1.0 + 2.0 * config.followMargin);
    }

    /**
     * dkd_tf.data.frame_crops.frame_share: the share of a crop region (frame pixels) inside the
     * frame, whose pixel centres 0..W-1 make it span -0.5..W-0.5; in double as Python's floats.
     */
    public static double frameShare(CropRegion r, int width, int height) {
        double x1 = r.x1;
        double y1 = r.y1;
        double x2 = r.x2;
        double y2 = r.y2;
        double area = Math.max(x2 - x1, 0.0) * Math.max(y2 - y1, 0.0);
        if (area <= 0) {
            return 0.0;
        }
        double ix = Math.max(0.0, Math.min(x2, width - 0.5) - Math.max(x1, -0.5));
        double iy = Math.max(0.0, Math.min(y2, height - 0.5) - Math.max(y1, -0.5));
        return Math.min(1.0, ix * iy / area);
    }

    /** numpy.clip(v, lo, hi) = minimum(maximum(v, lo), hi). */
    private static float clip(float v, float lo, float hi) {
        return Math.min(Math.max(v, lo), hi);
    }

    /** The person box whose crop (box side * margin) just covers the whole frame. */
    public static CropRegion fullFrameBox(int width, int height, double margin) {
        double side = Math.max(height, width) / margin;
        double cx = (width - 1) / 2.0;
        double cy = (height - 1) / 2.0;
        return new CropRegion((float) (cx - side / 2), (float) (cy - side / 2),
                (float) (cx + side / 2), (float) (cy + side / 2));
    }

    public CropRegion box() {
        return box;
    }

    public int initializerRuns() {
        return startCount + confidenceCount + periodicCount + badFrameCount;
    }

    /** Re-initializations: initializer runs after the first (confidence, periodic, bad frame). */
    public int reinitializations() {
        return confidenceCount + periodicCount + badFrameCount;
    }

    public int badFrames() {
        return badFrames;
    }

    /** Looks of the person finder so far (whole frames looked at with a finder). */
    public int finderRuns() {
        return finderRuns;
    }
}
