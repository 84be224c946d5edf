package org.dkdtf.posedemo.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Typed access to a parsed JSON file ({@link Json}); every failure is a ManifestException that
 * names the file and the field. Shared by the readers of manifest.json ({@link Manifest}) and
 * finder.json ({@link PersonFinder}), so that both refuse bad content the same way.
 */
class JsonFields {
    final String source;

    JsonFields(String source) {
        this.source = source;
    }

    /** The JSON object `text` holds ({@code what} names the file's kind in messages). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> parseObject(String text, String source, String what)
            throws ManifestException {
        Object root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ManifestException(source, "cannot parse the " + what + " ("
                    + e.getMessage() + ")");
        }
        if (!(root instanceof Map)) {
            throw new ManifestException(source, "the " + what + " must be a JSON object");
        }
        return (Map<String, Object>) root;
    }

    ManifestException error(String problem) {
        return new ManifestException(source, problem);
    }

    Object get(Map<String, Object> m, String key) throws ManifestException {
        if (!m.containsKey(key)) {
            throw error("missing field '" + key + "'");
        }
        return m.get(key);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(Map<String, Object> m, String key) throws ManifestException {
        Object v = get(m, key);
        if (!(v instanceof Map)) {
            throw error("'" + key + "' must be an object, got " + v);
        }
        return (Map<String, Object>) v;
    }

    /** A copy of the list, so that no caller changes the parsed file. */
    @SuppressWarnings("unchecked")
    List<Object> list(Map<String, Object> m, String key) throws ManifestException {
        Object v = get(m, key);
        if (!(v instanceof List)) {
            throw error("'" + key + "' must be a list, got " + v);
        }
        return new ArrayList<Object>((List<Object>) v);
    }

    String string(Map<String, Object> m, String key) throws ManifestException {
        Object v = get(m, key);
        if (!(v instanceof String)) {
            throw error("'" + key + "' must be a string, got " + v);
        }
        return (String) v;
    }

    long integer(Map<String, Object> m, String key) throws ManifestException {
        return toInteger(get(m, key), key);
    }

    long toInteger(Object v, String key) throws ManifestException {
        if (!(v instanceof Long)) {
            throw error("'" + key + "' must be an integer, got " + v);
        }
        return ((Long) v).longValue();
    }

    /** An integer that fits a Java int (a size, an index). */
    int toInt(Object v, String key) throws ManifestException {
        long n = toInteger(v, key);
        if (n > Integer.MAX_VALUE || n < Integer.MIN_VALUE) {
            throw error("'" + key + "' must be an integer, got " + v);
        }
        return (int) n;
    }

    int integerValue(Map<String, Object> m, String key) throws ManifestException {
        return toInt(get(m, key), key);
    }

    /**
     * The side of a square RGB input entry ({@code height}, {@code width}, {@code channels} 3,
     * {@code dtype}, {@code color}), at least {@code minSide}: the app crops squares.
     */
    int squareRgbInput(Map<String, Object> input, String dtype, int minSide)
            throws ManifestException {
        int h = integerValue(input, "height");
        int w = integerValue(input, "width");
        if (h != w || h < minSide) {
            throw error("input is " + h + "x" + w + "; the app crops squares");
        }
        if (integer(input, "channels") != 3 || !dtype.equals(string(input, "dtype"))
                || !"RGB".equals(string(input, "color"))) {
            throw error("input must be " + dtype + " RGB with 3 channels, got " + input);
        }
        return h;
    }

    double number(Map<String, Object> m, String key) throws ManifestException {
        return toNumber(get(m, key), key);
    }

    double toNumber(Object v, String key) throws ManifestException {
        if (!(v instanceof Number)) {
            throw error("'" + key + "' must be a number, got " + v);
        }
        return ((Number) v).doubleValue();
    }
}
