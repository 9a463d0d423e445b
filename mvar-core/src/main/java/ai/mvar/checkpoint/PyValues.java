package ai.mvar.checkpoint;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Checks on the Java values an unpickled object graph is made of. */
final class PyValues {
    /** Deeper tuples than this as dict keys are refused (Python itself would recurse that deep). */
    private static final int MAX_KEY_DEPTH = 64;

    private PyValues() {}

    /**
     * Refuses what Python could not hash either (lists, dicts, sets, tuples holding them). Java's
     * own {@code hashCode} of such values recurses without bound on self-containing lists, which a
     * hostile pickle can build; rejecting them up front keeps dict keys finite.
     */
    static void checkHashable(Object key) {
        checkHashable(key, 0);
    }

    private static void checkHashable(Object key, int depth) {
        if (depth > MAX_KEY_DEPTH) {
            throw new IllegalArgumentException("dict key nested deeper than " + MAX_KEY_DEPTH);
        }
        if (key instanceof List<?> || key instanceof Map<?, ?> || key instanceof Set<?>) {
            throw new IllegalArgumentException("unhashable " + typeName(key) + " used as a dict key or set item");
        }
        if (key instanceof PyTuple t) {
            for (Object item : t.items()) {
                checkHashable(item, depth + 1);
            }
        }
    }

    static long asLong(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        if (o instanceof Boolean b) {
            return b ? 1 : 0;
        }
        if (o instanceof BigInteger b) {
            return b.longValueExact();
        }
        throw new IllegalArgumentException("expected an integer, found " + typeName(o));
    }

    /** A short type description for error messages; never the value, which may be huge or cyclic. */
    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof List<?>) {
            return "list";
        }
        if (o instanceof Map<?, ?>) {
            return "dict";
        }
        if (o instanceof Set<?>) {
            return "set";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof PyTuple || o instanceof PyGlobal || o instanceof Placeholder || o instanceof TorchTensor) {
            return o.getClass().getSimpleName() + " (" + o + ")";
        }
        return o.getClass().getSimpleName();
    }
}
