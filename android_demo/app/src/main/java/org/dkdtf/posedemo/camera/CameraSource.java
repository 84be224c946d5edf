package org.dkdtf.posedemo.camera;

import android.annotation.SuppressLint;
import android.content.Context;
import android.graphics.ImageFormat;
import android.hardware.camera2.CameraAccessException;
import android.hardware.camera2.CameraCaptureSession;
import android.hardware.camera2.CameraCharacteristics;
import android.hardware.camera2.CameraDevice;
import android.hardware.camera2.CameraManager;
import android.hardware.camera2.CaptureRequest;
import android.hardware.camera2.params.StreamConfigurationMap;
import android.media.Image;
import android.media.ImageReader;
import android.os.Handler;
import android.os.HandlerThread;
import android.util.Size;
import android.view.Surface;

import java.util.Arrays;

/**
 * Camera2 frames as upright ARGB pixels: opens the front or back camera, streams YUV_420_888
 * through an ImageReader at a size near {@link #TARGET_PIXELS}, converts each frame (colour,
 * sensor rotation, mirror for the front camera) on a background thread and hands it to the
 * listener on that same thread. Frames that arrive while the listener is busy are dropped
 * (acquireLatestImage), so a slow model lowers the frame rate, never the latency.
 * Knows nothing about models.
 */
public final class CameraSource {
    /** About VGA: enough for a person crop of a few hundred pixels, cheap to convert. */
    public static final int TARGET_PIXELS = 640 * 480;

    /** Receives frames on the camera thread. */
    public interface Listener {
        void onFrame(int[] argb, int width, int height);

        void onError(String message);
    }

    private final Context context;
    private final Listener listener;
    private HandlerThread thread;
    private Handler handler;
    private CameraDevice device;
    private CameraCaptureSession session;
    private ImageReader reader;
    private int rotation;
    private boolean mirror;
    private int[] pixels;

    public CameraSource(Context context, Listener listener) {
        this.context = context;
        this.listener = listener;
    }

    /** The camera thread's handler (null before start): run model work there. */
    public Handler handler() {
        return handler;
    }

    /**
     * Opens the camera facing {@code front ? front : back}; {@code displayDegrees} is the
     * display rotation. The caller holds the CAMERA permission.
     */
    @SuppressLint("MissingPermission")
    public void start(boolean front, int displayDegrees) {
        if (thread != null) {
            throw new IllegalStateException("the camera is running; stop it first");
        }
        thread = new HandlerThread("camera");
        thread.start();
        handler = new Handler(thread.getLooper());
        CameraManager manager = (CameraManager) context.getSystemService(Context.CAMERA_SERVICE);
        try {
            String id = null;
            CameraCharacteristics chars = null;
            int wanted = front ? CameraCharacteristics.LENS_FACING_FRONT
                    : CameraCharacteristics.LENS_FACING_BACK;
            for (String candidate : manager.getCameraIdList()) {
                CameraCharacteristics c = manager.getCameraCharacteristics(candidate);
                Integer facing = c.get(CameraCharacteristics.LENS_FACING);
                if (facing != null && facing.intValue() == wanted) {
                    id = candidate;
                    chars = c;
                    break;
                }
            }
            if (id == null) {
                listener.onError("no " + (front ? "front" : "back") + " camera");
                return;
            }
            Integer sensor = chars.get(CameraCharacteristics.SENSOR_ORIENTATION);
            rotation = YuvToArgb.uprightRotation(sensor == null ? 0 : sensor.intValue(),
                    displayDegrees, front);
            mirror = front;
            Size size = chooseSize(chars);
            reader = ImageReader.newInstance(size.getWidth(), size.getHeight(),
                    ImageFormat.YUV_420_888, 2);
            reader.setOnImageAvailableListener(new ImageReader.OnImageAvailableListener() {
                @Override
                public void onImageAvailable(ImageReader r) {
                    deliver(r);
                }
            }, handler);
            manager.openCamera(id, new CameraDevice.StateCallback() {
                @Override
                public void onOpened(CameraDevice camera) {
                    device = camera;
                    startSession();
                }

                @Override
                public void onDisconnected(CameraDevice camera) {
                    camera.close();
                    device = null;
                }

                @Override
                public void onError(CameraDevice camera, int error) {
                    camera.close();
                    device = null;
                    listener.onError("camera error " + error);
                }
            }, handler);
        } catch (CameraAccessException e) {
            listener.onError("cannot open the camera: " + e.getMessage());
        } catch (SecurityException e) {
            listener.onError("no permission to use the camera");
        }
    }

    private static Size chooseSize(CameraCharacteristics chars) {
        StreamConfigurationMap map = chars.get(
                CameraCharacteristics.SCALER_STREAM_CONFIGURATION_MAP);
        Size[] sizes = map.getOutputSizes(ImageFormat.YUV_420_888);
        Size best = sizes[0];
        long bestCost = Long.MAX_VALUE;
        for (Size s : sizes) {
            long cost = Math.abs((long) s.getWidth() * s.getHeight() - TARGET_PIXELS);
            if (cost < bestCost) {
                best = s;
                bestCost = cost;
            }
        }
        return best;
    }

    private void startSession() {
        try {
            final Surface surface = reader.getSurface();
            device.createCaptureSession(Arrays.asList(surface),
                    new CameraCaptureSession.StateCallback() {
                        @Override
                        public void onConfigured(CameraCaptureSession s) {
                            if (device == null) {
                                return;
                            }
                            session = s;
                            try {
                                CaptureRequest.Builder b = device.createCaptureRequest(
                                        CameraDevice.TEMPLATE_PREVIEW);
                                b.addTarget(surface);
                                s.setRepeatingRequest(b.build(), null, handler);
                            } catch (CameraAccessException e) {
                                listener.onError("cannot start the camera: " + e.getMessage());
                            }
                        }

                        @Override
                        public void onConfigureFailed(CameraCaptureSession s) {
                            listener.onError("the camera session could not be configured");
                        }
                    }, handler);
        } catch (CameraAccessException e) {
            listener.onError("cannot start the camera: " + e.getMessage());
        }
    }

    private void deliver(ImageReader r) {
        Image image = r.acquireLatestImage();
        if (image == null) {
            return;
        }
        int w = image.getWidth();
        int h = image.getHeight();
        int ow = YuvToArgb.outWidth(w, h, rotation);
        int oh = YuvToArgb.outHeight(w, h, rotation);
        try {
            if (pixels == null || pixels.length != ow * oh) {
                pixels = new int[ow * oh];
            }
            Image.Plane[] p = image.getPlanes();
            YuvToArgb.convert(p[0].getBuffer(), p[0].getRowStride(), p[0].getPixelStride(),
                    p[1].getBuffer(), p[2].getBuffer(), p[1].getRowStride(),
                    p[1].getPixelStride(), w, h, rotation, mirror, pixels);
        } finally {
            image.close();
        }
        listener.onFrame(pixels, ow, oh);
    }

    /** Closes the camera and its thread (waits for the frame in progress). */
    public void stop() {
        stop(null);
    }

    /**
     * Closes the camera, runs {@code last} on the camera thread after the frame in progress (e.g.
     * to close a GPU delegate on the thread that made it), then ends the thread.
     */
    public void stop(Runnable last) {
        if (session != null) {
            session.close();
            session = null;
        }
        if (device != null) {
            device.close();
            device = null;
        }
        if (thread != null) {
            if (last != null) {
                handler.post(last);
            }
            thread.quitSafely(); // the frame in progress finishes, with its image still open
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            thread = null;
            handler = null;
        }
        if (reader != null) {
            reader.close();
            reader = null;
        }
    }
}
