package org.tensorflow.lite;

import java.nio.ByteBuffer;
import java.util.Map;

/** Compile-only stub: the Interpreter methods the app calls (build_offline.sh; never packaged). */
public final class Interpreter implements AutoCloseable {
    /** Compile-only stub of Interpreter.Options. */
    public static class Options {
        public Options setNumThreads(int numThreads) {
            throw new UnsupportedOperationException("compile-only stub");
        }

        public Options addDelegate(Delegate delegate) {
            throw new UnsupportedOperationException("compile-only stub");
        }
    }

    public Interpreter(ByteBuffer byteBuffer, Options options) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public void runSignature(Map<String, Object> inputs, Map<String, Object> outputs,
                             String signatureKey) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public void run(Object input, Object output) {
        throw new UnsupportedOperationException("compile-only stub");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
