package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Scope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW over named parameters, as {@code torch.optim.AdamW} computes it (decoupled weight decay
 * {@code p *= 1 - lr * wd}, bias-corrected moments, a step count per parameter), with VAR's recipe
 * around it: clipping by the global gradient norm ({@code clip_grad_norm_}) and gradient
 * accumulation.
 *
 * <p>A parameter without a gradient in an update is skipped entirely, as PyTorch skips a parameter
 * whose {@code .grad} is None: no weight decay, no moment update, and its own step count (hence its
 * bias correction) does not advance. MVAR relies on it: {@code pos_start} is only reached by the
 * passes that include the first scale.
 *
 * <p>Two ways to feed it gradients:
 * <ul>
 *   <li>{@link #update}: the gradients of one update, by name, null where the backward pass did not
 *       reach a parameter; the transformer trainer takes them from fresh leaves per update
 *       ({@link GradientLeaves}), which is PyTorch's {@code zero_grad(set_to_none=True)};
 *   <li>{@link #step(double)}: the parameters themselves are the autograd leaves; gradients
 *       accumulate in their {@code .grad} and are zeroed after each update, which is PyTorch's
 *       {@code zero_grad(set_to_none=False)} (a parameter skipped once its gradient exists carries a
 *       zero gradient). For models whose every parameter takes part in every pass.
 * </ul>
 */
public final class AdamW implements AutoCloseable {
    private static final String EXP_AVG = "exp_avg.";
    private static final String EXP_AVG_SQ = "exp_avg_sq.";
    private static final String STEP = "step.";

    private final Map<String, NDArray> params;
    private final Config config;
    private final NDManager stateManager;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private final Map<String, Long> paramSteps = new LinkedHashMap<>();
    private final Map<String, NDArray> stepTensors = new LinkedHashMap<>();
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

    /** The gradients of one update by parameter name. */
    @FunctionalInterface
    public interface Gradients {
        /**
         * The gradient of {@code name} (any floating type, any device; it is converted), or null when
         * the backward pass did not reach that parameter. Called inside a scope that frees what it
         * returns; may be called more than once per name.
         */
        NDArray of(String name);
    }

    /** What one call did. */
    public enum Outcome {
        /** A micro-batch's gradients were kept for the next update. */
        ACCUMULATED,
        /** The weights were updated. */
        APPLIED,
        /** The gradients held NaN or infinity: nothing changed (under loss scaling, the step is skipped). */
        NON_FINITE
    }

    /**
     * What one call did, the global gradient norm before clipping (NaN while accumulating) and the
     * factor clipping multiplied the gradients by.
     */
    public record StepReport(Outcome outcome, double gradNorm, double clipScale) {
        public boolean applied() {
            return outcome == Outcome.APPLIED;
        }
    }

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
            paramSteps.put(e.getKey(), 0L);
            stepTensors.put(e.getKey(), stateManager.zeros(new Shape(), DataType.INT64));
            decays.put(e.getKey(), config.groups().decays(e.getKey(), p));
        }
    }

    public Config config() {
        return config;
    }

    /** Updates applied so far. */
    public long steps() {
        return steps;
    }

    /** Updates that reached parameter {@code name} (PyTorch's {@code state[p]['step']}). */
    public long steps(String name) {
        return paramSteps.get(name);
    }

    /** Whether parameter {@code name} is weight-decayed. */
    public boolean decays(String name) {
        return decays.get(name);
    }

    /**
     * Ends a micro-batch whose gradients are in the parameters' own {@code .grad}; every
     * {@code accumulation}-th call averages them, clips, updates and zeroes them.
     *
     * @throws NonFiniteLossException when the gradient norm is NaN or infinite; nothing is updated
     *     and the gradients are zeroed
     */
    public StepReport step(double lr) {
        pendingMicroSteps++;
        if (pendingMicroSteps < config.accumulation()) {
            return new StepReport(Outcome.ACCUMULATED, Double.NaN, 1);
        }
        pendingMicroSteps = 0;
        StepReport r = update(lr, name -> GradientLeaves.gradient(params.get(name)), 1.0 / config.accumulation());
        zeroGradients();
        if (r.outcome() == Outcome.NON_FINITE) {
            throw new NonFiniteLossException("gradient norm", steps + 1, r.gradNorm());
        }
        return r;
    }

    /**
     * One update from {@code gradients}, each multiplied by {@code gradScale} first (1 / micro-batches,
     * divided by the loss scale under mixed precision), then clipped by their global norm. Parameters
     * without a gradient are skipped. Non-finite gradients change nothing and report
     * {@link Outcome#NON_FINITE}; the caller decides whether that stops the run or skips the step.
     */
    public StepReport update(double lr, Gradients gradients, double gradScale) {
        double[] sum = new double[1];
        Scope.run(() -> {
            NDArray total = null; // summed on the device: one transfer per update, not one per parameter
            for (String name : params.keySet()) {
                NDArray g = fp32(gradients.of(name), name);
                if (g != null) {
                    NDArray squares = g.square().sum();
                    total = total == null ? squares : total.add(squares);
                }
            }
            sum[0] = total == null ? 0 : total.getFloat();
        });
        double norm = Math.sqrt(sum[0]) * gradScale;
        if (!Double.isFinite(norm)) {
            return new StepReport(Outcome.NON_FINITE, norm, 0);
        }
        double clip = config.maxGradNorm() > 0 ? Math.min(1, config.maxGradNorm() / (norm + 1e-6)) : 1;
        float scale = (float) (clip * gradScale);
        steps++;
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            String name = e.getKey();
            Scope.run(() -> {
                NDArray grad = fp32(gradients.of(name), name);
                if (grad != null) {
                    apply(name, e.getValue(), grad.mul(scale), lr);
                }
            });
        }
        return new StepReport(Outcome.APPLIED, norm, clip);
    }

    /** torch.optim.AdamW's single-tensor update of one parameter with gradient {@code g}. */
    private void apply(String name, NDArray p, NDArray g, double lr) {
        long t = paramSteps.merge(name, 1L, Long::sum);
        double bc1 = 1 - Math.pow(config.beta1(), t);
        double bc2 = 1 - Math.pow(config.beta2(), t);
        if (decays.get(name) && config.weightDecay() > 0) {
            p.muli((float) (1 - lr * config.weightDecay()));
        }
        NDArray m = expAvg.get(name);
        NDArray v = expAvgSq.get(name);
        m.muli((float) config.beta1()).addi(g.mul((float) (1 - config.beta1())));
        v.muli((float) config.beta2()).addi(g.square().mul((float) (1 - config.beta2())));
        NDArray denom = v.sqrt().div((float) Math.sqrt(bc2)).add((float) config.eps());
        p.subi(m.div(denom).mul((float) (lr / bc1)));
    }

    /** The gradient as fp32 on the parameter's device, checked against its shape; null stays null. */
    private NDArray fp32(NDArray grad, String name) {
        if (grad == null) {
            return null;
        }
        NDArray p = params.get(name);
        if (!grad.getShape().equals(p.getShape())) {
            throw new IllegalArgumentException("gradient of " + name + " is " + grad.getShape() + ", the parameter " + p.getShape());
        }
        return grad.toDevice(p.getDevice(), false).toType(DataType.FLOAT32, false);
    }

    /** Drops gradients accumulated in the parameters' {@code .grad} (after a failed step, or to start afresh). */
    public void zeroGradients() {
        pendingMicroSteps = 0;
        for (NDArray p : params.values()) {
            Scope.run(() -> {
                NDArray grad = GradientLeaves.gradient(p);
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

    /**
     * The moments and step counts, named {@code exp_avg.<param>}, {@code exp_avg_sq.<param>} and
     * {@code step.<param>} as in PyTorch's state (live arrays: save them before the next update).
     */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        expAvg.forEach((k, v) -> out.put(EXP_AVG + k, v));
        expAvgSq.forEach((k, v) -> out.put(EXP_AVG_SQ + k, v));
        stepTensors.forEach((k, t) -> {
            Scope.run(() -> t.set(new NDIndex("..."), paramSteps.get(k)));
            out.put(STEP + k, t);
        });
        return out;
    }

    /**
     * Restores state saved by {@link #state} and the update count. State saved before step counts
     * were kept per parameter has none: every parameter then continues from {@code updates}.
     */
    public void restore(Map<String, NDArray> state, long updates) {
        for (String name : params.keySet()) {
            copyInto(state, EXP_AVG + name, expAvg.get(name));
            copyInto(state, EXP_AVG_SQ + name, expAvgSq.get(name));
            NDArray t = state.get(STEP + name);
            paramSteps.put(name, t == null ? updates : t.toType(DataType.INT64, false).getLong());
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

    @Override
    public void close() {
        stateManager.close();
    }
}
