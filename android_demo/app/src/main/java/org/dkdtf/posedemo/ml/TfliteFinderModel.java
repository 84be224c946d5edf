package org.dkdtf.posedemo.ml;

import android.content.Context;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

import org.dkdtf.posedemo.core.PersonFinder;
import org.tensorflow.lite.Interpreter;

/**
 * The person finder's graph (finder.tflite, MoveNet MultiPose converted by
 * dkd_tf.pretrained.peers) from the assets through the LiteRT Interpreter, on CPU threads: it
 * runs only when the whole frame is looked at, and its int32 input is not the GPU delegate's.
 * Its input is int32 RGB 0..255: the float crop is rounded (half to even) and clipped as
 * dkd_tf.pretrained.peers.Peer.predict does, so it sees what the Python finder sees. The asset is
 * checked against finder.json's sha256 before this runs it (MainActivity), and stored
 * uncompressed, so it is memory-mapped.
 */
public final class TfliteFinderModel implements FinderModel {
    private final PersonFinder finder;
    private final Interpreter interpreter;
    private final ByteBuffer in;
    private final ByteBuffer out;
    private final String description;

    public TfliteFinderModel(Context context, PersonFinder finder, int threads)
            throws IOException {
        this.finder = finder;
        Interpreter.Options options = new Interpreter.Options();
        options.setNumThreads(threads);
        interpreter = new Interpreter(TflitePoseModel.map(context, finder.file), options);
        in = ByteBuffer.allocateDirect(finder.inputFloats() * 4).order(ByteOrder.nativeOrder());
        out = ByteBuffer.allocateDirect(finder.outputSize() * 4).order(ByteOrder.nativeOrder());
        description = finder.key + " CPU x" + threads;
    }

    @Override
    public float[] find(float[] crop) {
        if (crop.length != finder.inputFloats()) {
            throw new IllegalArgumentException("finder crop holds " + crop.length
                    + " floats, needs " + finder.inputFloats());
        }
        in.clear();
        IntBuffer ints = in.asIntBuffer();
        for (float v : crop) {
            ints.put((int) Math.min(255.0, Math.max(0.0, Math.rint(v))));
        }
        in.rewind();
        out.clear();
        interpreter.run(in, out);
        out.rewind();
        float[] raw = new float[finder.outputSize()];
        FloatBuffer f = out.asFloatBuffer();
        f.get(raw);
        return raw;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
