package org.tensorflow.lite;

/** Compile-only stub of LiteRT's Delegate (build_offline.sh; never packaged). */
public interface Delegate {
    long getNativeHandle();
}
