package org.dkdtf.posedemo.ml;

import android.content.Context;
import android.content.res.AssetFileDescriptor;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.HashMap;
import java.util.Map;

import org.dkdtf.posedemo.core.Manifest;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.gpu.CompatibilityList;
import org.tensorflow.lite.gpu.GpuDelegate;

/**
 * initializer.tflite and stepper.tflite from the app's assets, run through the LiteRT
 * Interpreter by their signatures (keys and tensor names from the manifest), on CPU threads or
 * the GPU delegate. The .tflite assets are stored uncompressed (build.gradle noCompress), so they
 * are memory-mapped, not copied.
 */
public final class TflitePoseModel implements PoseModel {
    private final Manifest manifest;
    private final Interpreter initializer;
    private final Interpreter stepper;
    private final GpuDelegate[] delegates;
    private final String description;
    private final ByteBuffer frameIn;
    private final ByteBuffer stateIn;
    private final ByteBuffer heatmapsOut;
    private final ByteBuffer stateOut;

    /**
     * @param useGpu run on the GPU delegate (falls back to CPU with a note when the device has no
     *     supported GPU)
     * @param threads CPU threads when not on the GPU
     */
    public TflitePoseModel(Context context, Manifest manifest, boolean useGpu, int threads)
            throws IOException {
        this.manifest = manifest;
        boolean gpu = useGpu && gpuSupported();
        delegates = new GpuDelegate[gpu ? 2 : 0];
        initializer = open(context, manifest.initializer.file, gpu, threads, 0);
        stepper = open(context, manifest.stepper.file, gpu, threads, 1);
        if (gpu) {
            description = "TFLite GPU";
        } else if (useGpu) {
            description = "TFLite CPU x" + threads + " (no supported GPU)";
        } else {
            description = "TFLite CPU x" + threads;
        }
        frameIn = direct(manifest.inputSize * manifest.inputSize * 3);
        stateIn = direct(manifest.stateSize());
        heatmapsOut = direct(manifest.heatmapSize());
        stateOut = direct(manifest.stateSize());
    }

    private static boolean gpuSupported() {
        CompatibilityList list = new CompatibilityList();
        try {
            return list.isDelegateSupportedOnThisDevice();
        } finally {
            list.close();
        }
    }

    private Interpreter open(Context context, String asset, boolean gpu, int threads, int slot)
            throws IOException {
        Interpreter.Options options = new Interpreter.Options();
        if (gpu) {
            delegates[slot] = new GpuDelegate();
            options.addDelegate(delegates[slot]);
        } else {
            options.setNumThreads(threads);
        }
        return new Interpreter(map(context, asset), options);
    }

    /** Memory-maps an uncompressed asset (the graphs here, and TfliteFinderModel's). */
    static MappedByteBuffer map(Context context, String asset) throws IOException {
        AssetFileDescriptor fd = context.getAssets().openFd(asset);
        try {
            FileInputStream in = new FileInputStream(fd.getFileDescriptor());
            try {
                FileChannel channel = in.getChannel();
                return channel.map(FileChannel.MapMode.READ_ONLY, fd.getStartOffset(),
                        fd.getDeclaredLength());
            } finally {
                in.close();
            }
        } finally {
            fd.close();
        }
    }

    private static ByteBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder());
    }

    private static void put(ByteBuffer buffer, float[] values) {
        buffer.clear();
        buffer.asFloatBuffer().put(values);
    }

    private static float[] get(ByteBuffer buffer, int n) {
        buffer.rewind();
        float[] out = new float[n];
        FloatBuffer f = buffer.asFloatBuffer();
        f.get(out);
        return out;
    }

    private Output run(Interpreter interpreter, Manifest.GraphFile graph, float[] frame,
                       float[] state, String name) {
        put(frameIn, frame);
        Map<String, Object> inputs = new HashMap<String, Object>();
        inputs.put(graph.inputs.get("frame"), frameIn);
        if (state != null) {
            put(stateIn, state);
            inputs.put(graph.inputs.get("state"), stateIn);
        }
        Map<String, Object> outputs = new HashMap<String, Object>();
        heatmapsOut.clear();
        stateOut.clear();
        outputs.put(graph.outputs.get("heatmaps"), heatmapsOut);
        outputs.put(graph.outputs.get("state"), stateOut);
        interpreter.runSignature(inputs, outputs, graph.signature);
        return new Output(get(heatmapsOut, manifest.heatmapSize()),
                get(stateOut, manifest.stateSize()), name);
    }

    @Override
    public Output initialize(float[] frame) {
        return run(initializer, manifest.initializer, frame, null, "initializer");
    }

    @Override
    public Output step(float[] frame, float[] state) {
        return run(stepper, manifest.stepper, frame, state, "stepper");
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        initializer.close();
        stepper.close();
        for (GpuDelegate d : delegates) {
            if (d != null) {
                d.close();
            }
        }
    }
}
