package org.dkdtf.posedemo.core;

import java.io.ByteArrayOutputStream;
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
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return new String(out.toByteArray(), "UTF-8");
        } finally {
            in.close();
        }
    }
}
