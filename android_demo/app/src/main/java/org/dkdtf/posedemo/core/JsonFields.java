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

    /** {@code v} as a {@code type}, or the error "'key' must be {@code what}, got v". */
    <T> T typed(Object v, Class<T> type, String key, String what) throws ManifestException {
        if (!type.isInstance(v)) {
            throw error("'" + key + "' must be " + what + ", got " + v);
        }
        return type.cast(v);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> object(Map<String, Object> m, String key) throws ManifestException {
        return (Map<String, Object>) typed(get(m, key), Map.class, key, "an object");
    }

    /** A copy of the list, so that no caller changes the parsed file. */
    @SuppressWarnings("unchecked")
    List<Object> list(Map<String, Object> m, String key) throws ManifestException {
        return new ArrayList<Object>((List<Object>) typed(get(m, key), List.class, key, "a list"));
    }

    String string(Map<String, Object> m, String key) throws ManifestException {
        return typed(get(m, key), String.class, key, "a string");
    }

    long integer(Map<String, Object> m, String key) throws ManifestException {
        return toInteger(get(m, key), key);
    }

    long toInteger(Object v, String key) throws ManifestException {
        return typed(v, Long.class, key, "an integer").longValue();
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
        return typed(v, Number.class, key, "a number").doubleValue();
    }
}
