package org.dkdtf.posedemo.core;

import java.io.IOException;
import java.io.InputStream;

/** Reads test resources (src/test/resources) from the class path. */
final class TestResources {
    private TestResources() {
    }

    static String text(String name) throws IOException {
        InputStream in = TestResources.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + ": not on the test class path");
        }
        return Json.readUtf8(in);
    }
}
