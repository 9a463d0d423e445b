package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

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
