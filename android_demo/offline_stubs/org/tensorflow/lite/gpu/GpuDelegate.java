package org.tensorflow.lite.gpu;

import org.tensorflow.lite.Delegate;

/** Compile-only stub of LiteRT's GPU delegate (build_offline.sh; never packaged). */
public class GpuDelegate implements Delegate, java.io.Closeable {
    public GpuDelegate() {
        throw new UnsupportedOperationException("compile-only stub");
    }

    @Override
    public long getNativeHandle() {
        throw new UnsupportedOperationException("compile-only stub");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
