package org.dkdtf.posedemo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;

import org.junit.Test;

public class JsonTest {
    @Test
    @SuppressWarnings("unchecked")
    public void parsesEveryKind() {
        Map<String, Object> m = (Map<String, Object>) Json.parse(
                " {\"a\": [1, -2.5e1, true, false, null], \"s\": \"x\\\"\\u00e9\\n\", \"o\": {},"
                        + " \"n\": NaN} ");
        List<Object> a = (List<Object>) m.get("a");
        assertEquals(Long.valueOf(1), a.get(0));
        assertEquals(-25.0, (Double) a.get(1), 0.0);
        assertEquals(Boolean.TRUE, a.get(2));
        assertEquals(Boolean.FALSE, a.get(3));
        assertSame(Json.NULL, a.get(4));
        assertEquals("x\"\u00e9\n", m.get("s"));
        assertTrue(((Map<?, ?>) m.get("o")).isEmpty());
        assertTrue(Double.isNaN((Double) m.get("n")));
    }

    @Test
    public void doublesRoundTripPythonsRepr() {
        // float32 values written by Python as repr(float(x)) parse back to the same float.
        float f = 0.1f;
        assertEquals(Float.floatToIntBits(f), Float.floatToIntBits(
                (float) ((Double) Json.parse(Double.toString((double) f))).doubleValue()));
    }

    @Test
    public void rejectsMalformedText() {
        String[] bad = {"", "{", "[1,]", "{\"a\" 1}", "01x", "\"open", "[1] 2", "tru"};
        for (String s : bad) {
            try {
                Json.parse(s);
                fail("accepted " + s);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("invalid JSON at character"));
            }
        }
    }
}
