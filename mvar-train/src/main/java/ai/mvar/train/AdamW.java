package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.mvar.nn.Scope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW over named parameters, as {@code torch.optim.AdamW} computes it (decoupled weight decay
 * {@code p *= 1 - lr * wd}, bias-corrected moments), with VAR's recipe around it: clipping by the
 * global gradient norm and gradient accumulation.
 *
 * <p>Usage: mark nothing yourself; the constructor turns on gradients for every parameter. Run the
 * forward pass and {@code backward} inside a {@code GradientCollector} once per micro-batch, then
 * call {@link #step(double)}. Gradients accumulate in the parameters' {@code .grad} (PyTorch
 * semantics); every {@code accumulation}-th call averages them, clips, updates and zeroes them.
 * Do not scale the loss by the accumulation count: the average is taken here.
 */
public final class AdamW implements AutoCloseable {
    private final Map<String, NDArray> params;
    private final Config config;
    private final NDManager stateManager;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private final Map<String, Boolean> decays = new LinkedHashMap<>();
    private long steps;
    private int pendingMicroSteps;

    /**
     * @param weightDecay decoupled weight decay (VAR: 0.05)
     * @param beta1 first-moment decay (VAR: 0.9)
     * @param beta2 second-moment decay (VAR: 0.95)
     * @param eps added to the denominator (1e-8)
     * @param maxGradNorm clip the global norm to this; {@code <= 0} disables clipping (VAR: 2.0)
     * @param accumulation micro-batches per update
     * @param groups which parameters are decayed
     */
    public record Config(double weightDecay, double beta1, double beta2, double eps, double maxGradNorm,
            int accumulation, ParameterGroups groups) {
        public Config {
            if (accumulation < 1 || beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || eps <= 0 || weightDecay < 0) {
                throw new IllegalArgumentException("invalid AdamW settings: " + this);
            }
        }

        /** VAR's settings: wd 0.05, betas (0.9, 0.95), eps 1e-8, clip 2.0, no accumulation. */
        public static Config reference() {
            return new Config(0.05, 0.9, 0.95, 1e-8, 2.0, 1, ParameterGroups.reference());
        }

        public Config withAccumulation(int microBatches) {
            return new Config(weightDecay, beta1, beta2, eps, maxGradNorm, microBatches, groups);
        }

        public Config withWeightDecay(double wd) {
            return new Config(wd, beta1, beta2, eps, maxGradNorm, accumulation, groups);
        }

        public Config withMaxGradNorm(double norm) {
            return new Config(weightDecay, beta1, beta2, eps, norm, accumulation, groups);
        }
    }

    /** What one call to {@link #step} did. */
    public record StepReport(boolean applied, double gradNorm, double clipScale) {}

    public AdamW(Map<String, NDArray> params, Config config) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException("no parameters to optimise");
        }
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.config = config;
        this.stateManager = params.values().iterator().next().getManager().newSubManager();
        for (Map.Entry<String, NDArray> e : this.params.entrySet()) {
            NDArray p = e.getValue();
            if (p.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("parameter " + e.getKey() + " is " + p.getDataType() + ", AdamW needs float32");
            }
            p.setRequiresGradient(true);
            expAvg.put(e.getKey(), stateManager.zeros(p.getShape()));
            expAvgSq.put(e.getKey(), stateManager.zeros(p.getShape()));
            decays.put(e.getKey(), config.groups().decays(e.getKey(), p));
        }
    }

    public Config config() {
        return config;
    }

    /** Updates applied so far (PyTorch's {@code state['step']}). */
    public long steps() {
        return steps;
    }

    /** Whether parameter {@code name} is weight-decayed. */
    public boolean decays(String name) {
        return decays.get(name);
    }

    /**
     * Ends a micro-batch; every {@code accumulation}-th call updates the weights with learning
     * rate {@code lr}.
     *
     * @throws NonFiniteLossException when the gradient norm is NaN or infinite; nothing is updated
     *     and the gradients are zeroed
     */
    public StepReport step(double lr) {
        pendingMicroSteps++;
        if (pendingMicroSteps < config.accumulation()) {
            return new StepReport(false, Double.NaN, 1);
        }
        pendingMicroSteps = 0;
        double[] norm = new double[1];
        Scope.run(() -> norm[0] = Math.sqrt(sumOfSquares()) / config.accumulation());
        if (!Double.isFinite(norm[0])) {
            zeroGradients();
            throw new NonFiniteLossException("gradient norm", steps + 1, norm[0]);
        }
        double clip = config.maxGradNorm() > 0 ? Math.min(1, config.maxGradNorm() / (norm[0] + 1e-6)) : 1;
        steps++;
        double bc1 = 1 - Math.pow(config.beta1(), steps);
        double bc2 = 1 - Math.pow(config.beta2(), steps);
        float gradScale = (float) (clip / config.accumulation());
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            String name = e.getKey();
            NDArray p = e.getValue();
            Scope.run(() -> {
                NDArray grad = gradient(p);
                if (grad == null) {
                    return; // unused in this step: PyTorch skips parameters without a gradient
                }
                NDArray g = grad.mul(gradScale);
                if (decays.get(name) && config.weightDecay() > 0) {
                    p.muli((float) (1 - lr * config.weightDecay()));
                }
                NDArray m = expAvg.get(name);
                NDArray v = expAvgSq.get(name);
                m.muli((float) config.beta1()).addi(g.mul((float) (1 - config.beta1())));
                v.muli((float) config.beta2()).addi(g.square().mul((float) (1 - config.beta2())));
                NDArray denom = v.sqrt().div((float) Math.sqrt(bc2)).add((float) config.eps());
                p.subi(m.div(denom).mul((float) (lr / bc1)));
                grad.set(new NDIndex("..."), 0f);
            });
        }
        return new StepReport(true, norm[0], clip);
    }

    /** Drops accumulated gradients (after a failed step, or to start accumulating afresh). */
    public void zeroGradients() {
        pendingMicroSteps = 0;
        for (NDArray p : params.values()) {
            Scope.run(() -> {
                NDArray grad = gradient(p);
                if (grad != null) {
                    grad.set(new NDIndex("..."), 0f); // a fill, unlike mul(0), also clears NaN
                }
            });
        }
    }

    /** Resets both moments of some rows of a parameter, for rows that were re-initialised. */
    public void resetRows(String name, int[] rows) {
        for (int row : rows) {
            expAvg.get(name).set(new NDIndex(row), 0f);
            expAvgSq.get(name).set(new NDIndex(row), 0f);
        }
    }

    /** The moments, named {@code exp_avg.<param>} and {@code exp_avg_sq.<param>} as in PyTorch. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        expAvg.forEach((k, v) -> out.put("exp_avg." + k, v));
        expAvgSq.forEach((k, v) -> out.put("exp_avg_sq." + k, v));
        return out;
    }

    /** Restores moments saved by {@link #state()} and the update count. */
    public void restore(Map<String, NDArray> state, long updates) {
        for (String name : params.keySet()) {
            copyInto(state, "exp_avg." + name, expAvg.get(name));
            copyInto(state, "exp_avg_sq." + name, expAvgSq.get(name));
        }
        this.steps = updates;
        this.pendingMicroSteps = 0;
    }

    private static void copyInto(Map<String, NDArray> state, String key, NDArray target) {
        NDArray source = state.get(key);
        if (source == null || !source.getShape().equals(target.getShape())) {
            throw new IllegalArgumentException("optimizer state " + key + " is "
                    + (source == null ? "missing" : source.getShape() + ", expected " + target.getShape()));
        }
        target.set(new NDIndex("..."), source);
    }

    private double sumOfSquares() {
        double total = 0;
        for (NDArray p : params.values()) {
            NDArray grad = gradient(p);
            if (grad != null) {
                total += grad.square().sum().getFloat();
            }
        }
        return total;
    }

    /** The parameter's gradient, or null when no backward pass reached it. */
    private static NDArray gradient(NDArray p) {
        try {
            return p.getGradient();
        } catch (IllegalStateException e) {
            return null;
        }
    }

    @Override
    public void close() {
        stateManager.close();
    }
}
