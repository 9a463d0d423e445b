package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Creates fresh parameters into a {@link StateDict}, for training from scratch and for benchmarks
 * with random weights. Values come from a seeded Java generator, so the same seed gives the same
 * weights on every device.
 */
public final class InitParams {
    private final StateDict target;
    private final SplittableRandom random;
    private final float normalStd;

    public InitParams(StateDict target, long seed, float normalStd) {
        this.target = target;
        this.random = new SplittableRandom(seed);
        this.normalStd = normalStd;
    }

    public InitParams(StateDict target, long seed) {
        this(target, seed, 0.02f);
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
                NDArray array = Tensors.of(target.manager(), values(init, s), s);
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
