package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The names and shapes of every parameter a module expects, in construction order. Recording
 * allocates nothing, so the specification of the largest official model is cheap to compute.
 */
public final class ParameterSpec {
    private final Map<String, Shape> shapes = new LinkedHashMap<>();
    private final Map<String, Shape> buffers = new LinkedHashMap<>();

    /** Records what {@code build} asks for. */
    public static ParameterSpec record(Consumer<Params> build) {
        ParameterSpec spec = new ParameterSpec();
        build.accept(spec.recorder(""));
        return spec;
    }

    /** Parameter name to shape, in construction order. */
    public Map<String, Shape> shapes() {
        return Collections.unmodifiableMap(shapes);
    }

    /** Buffers that checkpoints store and this implementation derives instead of loading. */
    public Map<String, Shape> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    /** Total number of scalar parameters. */
    public long parameterCount() {
        return shapes.values().stream().mapToLong(Shape::size).sum();
    }

    /**
     * Checks stored tensors against this specification: every parameter present with its shape and
     * nothing else, except the derivable buffers, which may be present or absent. One check serves
     * loaded state dicts, safetensors headers and {@code .pth} checkpoints alike.
     *
     * @param source the file the tensors come from, for the message
     * @param stored the stored tensors by key
     * @param shapeOf the shape of a stored tensor
     * @throws WeightMismatchException listing every missing, unexpected and mis-shaped key
     */
    public <T> void verify(String source, Map<String, T> stored, Function<? super T, Shape> shapeOf) {
        List<String> missing = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        for (Map.Entry<String, Shape> e : shapes.entrySet()) {
            T t = stored.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey() + " " + e.getValue());
            } else if (!shapeOf.apply(t).equals(e.getValue())) {
                misshaped.add(e.getKey() + ": expected " + e.getValue() + ", found " + shapeOf.apply(t));
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String key : stored.keySet()) {
            if (!shapes.containsKey(key) && !buffers.containsKey(key)) {
                unexpected.add(key);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misshaped.isEmpty()) {
            throw new WeightMismatchException(source, missing, unexpected, misshaped);
        }
    }

    void add(String key, Shape shape) {
        Shape previous = shapes.putIfAbsent(key, shape);
        if (previous != null && !previous.equals(shape)) {
            throw new IllegalStateException(
                    "parameter " + key + " requested with shapes " + previous + " and " + shape);
        }
    }

    void addBuffer(String key, Shape shape) {
        buffers.put(key, shape);
    }

    private Params recorder(String prefix) {
        return new ScopedParams(prefix) {
            @Override
            public NDArray get(String name, Init init, long... shape) {
                add(key(name), new Shape(shape));
                return null;
            }

            @Override
            public void buffer(String name, long... shape) {
                addBuffer(key(name), new Shape(shape));
            }

            @Override
            protected Params withPrefix(String fullPrefix) {
                return recorder(fullPrefix);
            }
        };
    }
}
