package org.dkdtf.posedemo.core;

/** A manifest (or a file it names) that the app cannot use; the message names the file. */
public final class ManifestException extends Exception {
    public ManifestException(String source, String problem) {
        super(source + ": " + problem);
    }
}
