package org.tensorflow.lite.gpu;

/** Compile-only stub of LiteRT's GPU CompatibilityList (build_offline.sh; never packaged). */
public class CompatibilityList implements java.io.Closeable {
    public CompatibilityList() {
        throw new UnsupportedOperationException("compile-only stub");
    }

    public boolean isDelegateSupportedOnThisDevice() {
        throw new UnsupportedOperationException("compile-only stub");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("compile-only stub");
    }
}
