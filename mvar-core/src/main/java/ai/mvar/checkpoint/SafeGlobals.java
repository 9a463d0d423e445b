package ai.mvar.checkpoint;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python globals a pickled state dict needs, reimplemented in Java: {@code OrderedDict}, the
 * torch tensor and parameter rebuild functions, the typed storage classes and {@code
 * _codecs.encode} (how protocol 2 stores bytes). This is the allow-list of {@code
 * torch.load(weights_only=True)}, cut down to state dicts. Every other name becomes an inert
 * {@link PyGlobal}; nothing is ever looked up by reflection.
 */
final class SafeGlobals {
    private SafeGlobals() {}

    /** A global this reader implements. */
    interface Callable {
        Object call(List<Object> args);
    }

    /** {@code torch.FloatStorage} and friends, as they appear in persistent ids. */
    record StorageType(SafeTensorsDType dtype) {}

    private static final Map<String, Object> GLOBALS = new LinkedHashMap<>();

    static {
        GLOBALS.put("collections.OrderedDict", (Callable) SafeGlobals::orderedDict);
        GLOBALS.put("torch._utils._rebuild_tensor", (Callable) SafeGlobals::rebuildTensor);
        GLOBALS.put("torch._utils._rebuild_tensor_v2", (Callable) SafeGlobals::rebuildTensor);
        GLOBALS.put("torch._utils._rebuild_parameter", (Callable) SafeGlobals::rebuildParameter);
        GLOBALS.put("torch._utils._rebuild_parameter_with_state", (Callable) SafeGlobals::rebuildParameter);
        GLOBALS.put("_codecs.encode", (Callable) SafeGlobals::encode);
        // Protocols before 4 spell sets as a call; Python 2 names the module __builtin__.
        for (String module : List.of("builtins", "__builtin__")) {
            GLOBALS.put(module + ".set", (Callable) args -> set(args, false));
            GLOBALS.put(module + ".frozenset", (Callable) args -> set(args, true));
        }
        storage("FloatStorage", SafeTensorsDType.F32);
        storage("DoubleStorage", SafeTensorsDType.F64);
        storage("HalfStorage", SafeTensorsDType.F16);
        storage("BFloat16Storage", SafeTensorsDType.BF16);
        storage("LongStorage", SafeTensorsDType.I64);
        storage("IntStorage", SafeTensorsDType.I32);
        storage("ShortStorage", SafeTensorsDType.I16);
        storage("CharStorage", SafeTensorsDType.I8);
        storage("ByteStorage", SafeTensorsDType.U8);
        storage("BoolStorage", SafeTensorsDType.BOOL);
    }

    private static void storage(String name, SafeTensorsDType dtype) {
        GLOBALS.put("torch." + name, new StorageType(dtype));
    }

    /** The Java stand-in for {@code module.name}: a {@link Callable}, a {@link StorageType} or a {@link PyGlobal}. */
    static Object resolve(String module, String name) {
        Object known = GLOBALS.get(module + "." + name);
        return known != null ? known : new PyGlobal(module, name);
    }

    private static Object orderedDict(List<Object> args) {
        Map<Object, Object> map = new LinkedHashMap<>();
        if (args.isEmpty()) {
            return map;
        }
        if (args.size() != 1 || !(args.get(0) instanceof List<?> || args.get(0) instanceof PyTuple)) {
            throw new IllegalArgumentException("OrderedDict takes one list of pairs");
        }
        for (Object pair : items(args.get(0))) {
            List<Object> kv = items(pair);
            if (kv.size() != 2) {
                throw new IllegalArgumentException("OrderedDict item is not a pair");
            }
            PyValues.checkHashable(kv.get(0));
            map.put(kv.get(0), kv.get(1));
        }
        return map;
    }

    private static java.util.Set<Object> set(List<Object> args, boolean frozen) {
        java.util.Set<Object> set = new java.util.LinkedHashSet<>();
        if (args.size() > 1) {
            throw new IllegalArgumentException("set takes at most one iterable");
        }
        if (args.size() == 1) {
            for (Object item : items(args.get(0))) {
                PyValues.checkHashable(item);
                set.add(item);
            }
        }
        return frozen ? java.util.Collections.unmodifiableSet(set) : set;
    }

    private static TorchTensor rebuildTensor(List<Object> args) {
        if (args.size() < 4 || !(args.get(0) instanceof TorchStorage storage)) {
            throw new IllegalArgumentException("tensor rebuild needs (storage, offset, size, stride, ...)");
        }
        return TorchTensor.of(storage, PyValues.asLong(args.get(1)), longs(args.get(2)), longs(args.get(3)));
    }

    private static Object rebuildParameter(List<Object> args) {
        if (args.isEmpty() || !(args.get(0) instanceof TorchTensor tensor)) {
            throw new IllegalArgumentException("parameter rebuild without a tensor");
        }
        return tensor;
    }

    private static byte[] encode(List<Object> args) {
        if (args.isEmpty() || args.size() > 2 || !(args.get(0) instanceof String text)) {
            throw new IllegalArgumentException("_codecs.encode takes (str, encoding)");
        }
        String encoding = args.size() == 2 && args.get(1) instanceof String e ? e : "utf-8";
        Charset charset = switch (encoding.toLowerCase(java.util.Locale.ROOT)) {
            case "latin1", "latin-1", "iso-8859-1" -> StandardCharsets.ISO_8859_1;
            case "utf-8", "utf8" -> StandardCharsets.UTF_8;
            case "ascii" -> StandardCharsets.US_ASCII;
            default -> throw new IllegalArgumentException("_codecs.encode with encoding " + encoding);
        };
        return text.getBytes(charset);
    }

    private static long[] longs(Object tupleOrList) {
        List<Object> items = items(tupleOrList);
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = PyValues.asLong(items.get(i));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> items(Object o) {
        if (o instanceof PyTuple t) {
            return t.items();
        }
        if (o instanceof List<?> l) {
            return new ArrayList<>((List<Object>) l);
        }
        throw new IllegalArgumentException("expected a tuple or list, found " + PyValues.typeName(o));
    }
}
