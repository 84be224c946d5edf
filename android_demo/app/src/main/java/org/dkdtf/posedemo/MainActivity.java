package org.dkdtf.posedemo;

import android.Manifest.permission;
import android.app.Activity;
import android.content.pm.PackageManager;
import android.graphics.Bitmap;
import android.os.Bundle;
import android.view.View;
import android.widget.Button;
import android.widget.CompoundButton;
import android.widget.Switch;
import android.widget.TextView;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;

import org.dkdtf.posedemo.camera.CameraSource;
import org.dkdtf.posedemo.core.Manifest;
import org.dkdtf.posedemo.core.ManifestException;
import org.dkdtf.posedemo.core.OneEuroFilter;
import org.dkdtf.posedemo.core.PersonFinder;
import org.dkdtf.posedemo.core.PoseTracker;
import org.dkdtf.posedemo.ml.FinderModel;
import org.dkdtf.posedemo.ml.PoseModel;
import org.dkdtf.posedemo.ml.TfliteFinderModel;
import org.dkdtf.posedemo.ml.TflitePoseModel;

/**
 * Camera -> PoseTracker (initializer / stepper TFLite graphs) -> live skeleton.
 *
 * <p>At start the manifest in the assets is read and checked, and both graph files are checked
 * against its sha256 entries; a problem is shown on screen instead of the camera. Camera frames
 * are processed on the camera thread; the screen shows frames per second, the last per-frame
 * latency, which graph ran and the re-initialization count. The switch moves between CPU threads
 * and the GPU delegate (the model is reopened and the tracker re-initialized on the next frame).
 *
 * <p>When the assets hold a person finder (finder.json and finder.tflite, copied by
 * tools/copy_export.py: MoveNet MultiPose), it is checked as the graphs are, and the "Finder"
 * switch (on by default) has it find the person on every frame the tracker looks at whole (the
 * start, a lost person): the initializer starts from the box of its best-scored person instead of
 * looking at the whole frame itself, which picks one whole person where several are in view.
 */
public final class MainActivity extends Activity implements CameraSource.Listener {
    private static final int CAMERA_REQUEST = 1;
    private static final int[] THREAD_CHOICES = {1, 2, 4};

    private OverlayView overlay;
    private TextView status;
    private TextView error;
    private Switch gpuSwitch;
    private Switch smoothSwitch;
    private Switch priorSwitch;
    private Switch finderSwitch;
    private Button threadsButton;
    private CameraSource camera;
    private Manifest manifest;
    private PoseTracker tracker;
    private PoseModel model;
    /** finder.json of the assets, checked with its graph; null: the assets hold no finder. */
    private PersonFinder finder;
    /** The finder's graph, opened with the model on the camera thread; null when not open. */
    private FinderModel finderModel;
    /** Look for the person with the finder ("Finder" switch); read by the camera thread. */
    private volatile boolean useFinder;
    private boolean front;
    private boolean resumed;
    private int threadChoice = 1;
    private volatile boolean modelSettingsChanged = true;
    private volatile boolean useGpu;
    /** Smooth the keypoints shown (dkd_tf.stream --smooth_keypoints); read by the camera thread. */
    private volatile boolean smoothKeypoints;
    private volatile boolean trackerSettingsChanged;
    /** The stepper looks for each joint near its last position (dkd_tf.stream --motion_prior,
     * {@link #motionPriorShare}); read by the camera thread. */
    private volatile boolean motionPrior;
    /** The share of the crop the app's "Near last" switch uses for an export without a
     * motion_prior in its manifest: the one measured in docs/experiments.md ("Looking for each
     * joint near where it was"). */
    private static final double MOTION_PRIOR = 0.1;
    private volatile int threads = THREAD_CHOICES[1];
    private long windowStart;
    private int windowFrames;
    private double fps;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        setContentView(R.layout.activity_main);
        overlay = (OverlayView) findViewById(R.id.overlay);
        status = (TextView) findViewById(R.id.status);
        error = (TextView) findViewById(R.id.error);
        gpuSwitch = (Switch) findViewById(R.id.gpu);
        smoothSwitch = (Switch) findViewById(R.id.smooth);
        smoothSwitch.setOnCheckedChangeListener(new CompoundButton.OnCheckedChangeListener() {
            @Override
            public void onCheckedChanged(CompoundButton button, boolean checked) {
                smoothKeypoints = checked;
                trackerSettingsChanged = true;
            }
        });
        priorSwitch = (Switch) findViewById(R.id.prior);
        priorSwitch.setOnCheckedChangeListener(new CompoundButton.OnCheckedChangeListener() {
            @Override
            public void onCheckedChanged(CompoundButton button, boolean checked) {
                motionPrior = checked;
                trackerSettingsChanged = true;
            }
        });
        finderSwitch = (Switch) findViewById(R.id.finder);
        finderSwitch.setEnabled(false); // until the assets are known to hold a finder
        finderSwitch.setOnCheckedChangeListener(new CompoundButton.OnCheckedChangeListener() {
            @Override
            public void onCheckedChanged(CompoundButton button, boolean checked) {
                useFinder = checked;
                trackerSettingsChanged = true;
            }
        });
        threadsButton = (Button) findViewById(R.id.threads);
        Button flip = (Button) findViewById(R.id.flip);
        gpuSwitch.setOnCheckedChangeListener(new CompoundButton.OnCheckedChangeListener() {
            @Override
            public void onCheckedChanged(CompoundButton button, boolean checked) {
                useGpu = checked;
                threadsButton.setEnabled(!checked);
                modelSettingsChanged = true;
            }
        });
        threadsButton.setText(getString(R.string.threads, threads));
        threadsButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                threadChoice = (threadChoice + 1) % THREAD_CHOICES.length;
                threads = THREAD_CHOICES[threadChoice];
                threadsButton.setText(getString(R.string.threads, threads));
                modelSettingsChanged = true;
            }
        });
        flip.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                front = !front;
                startCamera();
            }
        });
        status.setText(R.string.loading);
        // Checking the graphs' sha256 reads them whole: off the UI thread.
        new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    final Manifest m = loadManifest();
                    final PersonFinder f = loadFinder(m);
                    runOnUiThread(new Runnable() {
                        @Override
                        public void run() {
                            onManifestReady(m, f);
                        }
                    });
                } catch (ManifestException e) {
                    onError(e.getMessage());
                } catch (IOException e) {
                    onError("assets: " + e.getMessage() + " (copy an export with"
                            + " android_demo/tools/copy_export.py)");
                }
            }
        }, "manifest").start();
    }

    /**
     * UI thread: the export (and the finder, when there is one) is usable; start the camera if
     * the activity is in front.
     */
    private void onManifestReady(Manifest m, PersonFinder f) {
        manifest = m;
        finder = f;
        // "Finder" starts on when the assets hold one (the listener asks for a new tracker).
        finderSwitch.setEnabled(f != null);
        finderSwitch.setChecked(f != null);
        useFinder = f != null;
        overlay.setSkeleton(m.edges, m.tracker.keypointThreshold);
        // "Near last" starts as the export was scored: on with its manifest's motion_prior, off
        // for an export without one (the listener sets motionPrior and asks for a new tracker).
        priorSwitch.setChecked(m.tracker.motionPrior > 0);
        tracker = new PoseTracker(m); // the manifest's motion prior, as the switch shows
        camera = new CameraSource(this, this);
        status.setText("");
        if (resumed) {
            startCameraWithPermission();
        }
    }

    /** The "Near last" switch's motion prior: the manifest's, else MOTION_PRIOR. */
    private static double motionPriorShare(Manifest m) {
        return m.tracker.motionPrior > 0 ? m.tracker.motionPrior : MOTION_PRIOR;
    }

    /** manifest.json from the assets, checked, with both graph files checked against it. */
    private Manifest loadManifest() throws ManifestException, IOException {
        Manifest m = Manifest.read(getAssets().open(Manifest.FILE_NAME),
                "assets/" + Manifest.FILE_NAME);
        Manifest.GraphFile[] graphs = {m.initializer, m.stepper};
        for (Manifest.GraphFile g : graphs) {
            InputStream in = getAssets().open(g.file);
            try {
                Manifest.checkFile(g, in, "assets/" + g.file);
            } finally {
                in.close();
            }
        }
        return m;
    }

    /**
     * finder.json from the assets, checked against the manifest, with finder.tflite checked
     * against its sha256; null when the assets hold no finder.json (copied with --finder none).
     */
    private PersonFinder loadFinder(Manifest m) throws ManifestException, IOException {
        InputStream json;
        try {
            json = getAssets().open(PersonFinder.FILE_NAME);
        } catch (FileNotFoundException e) {
            return null;
        }
        PersonFinder f = PersonFinder.read(json, "assets/" + PersonFinder.FILE_NAME, m);
        InputStream in = getAssets().open(f.file);
        try {
            f.checkFile(in, "assets/" + f.file);
        } finally {
            in.close();
        }
        return f;
    }

    @Override
    protected void onResume() {
        super.onResume();
        resumed = true;
        startCameraWithPermission();
    }

    private void startCameraWithPermission() {
        if (camera == null) {
            return; // the manifest is still being checked, or could not be used
        }
        if (checkSelfPermission(permission.CAMERA) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(new String[] {permission.CAMERA}, CAMERA_REQUEST);
        } else {
            startCamera();
        }
    }

    @Override
    public void onRequestPermissionsResult(int requestCode, String[] permissions, int[] results) {
        if (requestCode != CAMERA_REQUEST) {
            return;
        }
        if (results.length > 0 && results[0] == PackageManager.PERMISSION_GRANTED) {
            startCamera();
        } else {
            showError(getString(R.string.no_camera_permission));
        }
    }

    private void startCamera() {
        if (camera == null) {
            return;
        }
        camera.stop(closeModelTask);
        modelSettingsChanged = true;
        int degrees = getWindowManager().getDefaultDisplay().getRotation() * 90;
        camera.start(front, degrees);
    }

    @Override
    protected void onPause() {
        resumed = false;
        if (camera != null) {
            camera.stop(closeModelTask); // joins the camera thread: no frame is in flight after
        }
        super.onPause();
    }

    /** Closes the model on the camera thread, where it was made (the GPU delegate needs it). */
    private final Runnable closeModelTask = new Runnable() {
        @Override
        public void run() {
            closeModel();
        }
    };

    private void closeModel() {
        if (model != null) {
            model.close();
            model = null;
        }
        if (finderModel != null) {
            finderModel.close();
            finderModel = null;
        }
    }

    /** Camera thread: one frame through the tracker, then the result to the screen. */
    @Override
    public void onFrame(int[] argb, int width, int height) {
        if (modelSettingsChanged) {
            modelSettingsChanged = false;
            closeModel();
            try {
                model = new TflitePoseModel(this, manifest, useGpu, threads);
            } catch (IOException | RuntimeException e) {
                onError("cannot open the TFLite graphs: " + e.getMessage());
            }
            if (finder != null) {
                try {
                    finderModel = new TfliteFinderModel(this, finder, threads);
                } catch (IOException | RuntimeException e) {
                    onError("cannot open the finder's graph " + finder.file + ": "
                            + e.getMessage());
                }
            }
            tracker.reset(null); // a new runtime starts from the initializer
        }
        if ((tracker.finder() != null) != (useFinder && finderModel != null)) {
            trackerSettingsChanged = true; // the finder switched, or its graph (not) opened
        }
        if (model == null) {
            return; // could not be opened with these settings; a settings change retries
        }
        if (trackerSettingsChanged) {
            trackerSettingsChanged = false; // a new tracker: it starts from the initializer
            tracker = new PoseTracker(manifest, manifest.tracker,
                    smoothKeypoints ? new OneEuroFilter() : null,
                    motionPrior ? motionPriorShare(manifest) : 0.0,
                    useFinder && finderModel != null ? finder : null);
        }
        PoseTracker.FrameResult r;
        try {
            r = tracker.process(argb, width, height, model, finderModel);
        } catch (RuntimeException e) {
            tracker.markBadFrame();
            onError("frame failed: " + e.getMessage());
            return;
        }
        long now = System.nanoTime();
        if (windowStart == 0) {
            windowStart = now;
        }
        windowFrames++;
        if (now - windowStart >= 1000000000L) {
            fps = windowFrames * 1e9 / (now - windowStart);
            windowStart = now;
            windowFrames = 0;
        }
        final Bitmap bitmap = Bitmap.createBitmap(argb, width, height, Bitmap.Config.ARGB_8888);
        final PoseTracker.FrameResult result = r;
        String reason = r.reason.length() == 0 ? "" : " (" + r.reason
                + (r.found ? ", finder's box" : "") + ")";
        String runtime = tracker.finder() == null ? model.describe()
                : model.describe() + " + " + finderModel.describe();
        final String text = String.format(Locale.US,
                "%.1f fps   %.1f ms   %s%s\nre-initialized %d x   %s   conf %.2f",
                fps, r.latencyMs, r.graph, reason, tracker.reinitializations(), runtime,
                r.pose.meanScore);
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                overlay.show(bitmap, result.pose, result.crop);
                status.setText(text);
                error.setVisibility(View.GONE);
            }
        });
    }

    @Override
    public void onError(final String message) {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                showError(message);
            }
        });
    }

    private void showError(String message) {
        error.setText(message);
        error.setVisibility(View.VISIBLE);
    }
}
