package ai.mvar.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Creates fresh parameters into a {@link StateDict}, for training from scratch and for benchmarks
 * with random weights. Values come from a seeded Java generator, so the same seed gives the same
 * weights on every device; {@link #fromEngine} draws them on the device instead, for benchmarks of
 * billion-parameter models where the Java generator would take most of the run.
 */
public final class InitParams {
    private final StateDict target;
    private final SplittableRandom random;
    private final float normalStd;
    private final DataType type;

    private InitParams(StateDict target, SplittableRandom random, float normalStd, DataType type) {
        this.target = target;
        this.random = random;
        this.normalStd = normalStd;
        this.type = type;
    }

    public InitParams(StateDict target, long seed, float normalStd) {
        this(target, new SplittableRandom(seed), normalStd, DataType.FLOAT32);
    }

    public InitParams(StateDict target, long seed) {
        this(target, seed, 0.02f);
    }

    /**
     * Parameters drawn by the engine's generator on the target's device (seeded with {@code seed}):
     * the same distributions, but values that depend on the engine and device.
     */
    public static InitParams fromEngine(StateDict target, long seed) {
        target.manager().getEngine().setRandomSeed((int) seed);
        return new InitParams(target, null, 0.02f, DataType.FLOAT32);
    }

    /**
     * Random weights for a benchmark, in a new sub-manager of {@code manager} on {@code device}:
     * Java's seeded generator on the CPU (the same weights every run); on a GPU the engine's, which
     * draws a billion values in a blink.
     */
    public static InitParams forBenchmark(NDManager manager, Device device, long seed) {
        StateDict weights = new StateDict(manager.newSubManager(device), "random init (seed " + seed + ")");
        return device.isGpu() ? fromEngine(weights, seed) : new InitParams(weights, seed);
    }

    /** The same source, creating parameters of the given floating-point type. */
    public InitParams inType(DataType type) {
        return new InitParams(target, random, normalStd, type);
    }

    /** The state dict the parameters are created in. */
    public StateDict target() {
        return target;
    }

    public Params root() {
        return view("");
    }

    private Params view(String prefix) {
        return new ScopedParams(prefix) {
            @Override
            public NDArray get(String name, Init init, long... shape) {
                String key = key(name);
                NDArray existing = target.get(key);
                if (existing != null) {
                    return existing; // shared parameter asked for twice
                }
                Shape s = new Shape(shape);
                NDArray array = random == null ? drawn(init, s) : Tensors.of(target.manager(), values(init, s), s);
                if (array.getDataType() != type) {
                    NDArray cast = array.toType(type, false);
                    array.close();
                    array = cast;
                }
                target.put(key, array);
                return array;
            }

            @Override
            public void buffer(String name, long... shape) {}

            @Override
            protected Params withPrefix(String fullPrefix) {
                return view(fullPrefix);
            }
        };
    }

    private float[] values(Params.Init init, Shape shape) {
        float[] v = new float[Math.toIntExact(shape.size())];
        switch (init) {
            case ZEROS:
                break;
            case ONES:
                java.util.Arrays.fill(v, 1f);
                break;
            case LOG4:
                java.util.Arrays.fill(v, (float) Math.log(4));
                break;
            case NORMAL:
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (truncatedNormal() * normalStd);
                }
                break;
            case FAN_IN_UNIFORM:
                long fanIn = shape.dimension() > 1 ? shape.size() / shape.get(0) : shape.get(0);
                double bound = 1.0 / Math.sqrt(fanIn);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
                break;
            default:
                throw new IllegalArgumentException("unknown init " + init);
        }
        return v;
    }

    /** {@link #values} drawn by the engine: a normal clipped (not resampled) to 2 standard deviations. */
    private NDArray drawn(Params.Init init, Shape shape) {
        NDManager m = target.manager();
        switch (init) {
            case ZEROS:
                return m.zeros(shape);
            case ONES:
                return m.ones(shape);
            case LOG4:
                return m.full(shape, (float) Math.log(4));
            case NORMAL:
                try (NDArray normal = m.randomNormal(0, normalStd, shape, DataType.FLOAT32)) {
                    return normal.clip(-2 * normalStd, 2 * normalStd);
                }
            case FAN_IN_UNIFORM:
                long fanIn = shape.dimension() > 1 ? shape.size() / shape.get(0) : shape.get(0);
                float bound = (float) (1.0 / Math.sqrt(fanIn));
                return m.randomUniform(-bound, bound, shape);
            default:
                throw new IllegalArgumentException("unknown init " + init);
        }
    }

    /** Standard normal truncated to [-2, 2], as {@code torch.nn.init.trunc_normal_}. */
    private double truncatedNormal() {
        while (true) {
            double u1 = random.nextDouble();
            double u2 = random.nextDouble();
            double z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
            if (Math.abs(z) <= 2) {
                return z;
            }
        }
    }
}
