package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Dynamic loss scaling for fp16 training, with {@code torch.amp.GradScaler}'s rules: the loss is
 * multiplied by {@link #scale()} before the backward pass so that small gradients survive fp16, the
 * gradients are divided by it before clipping (unscale), and then {@link #update}: when any gradient
 * is NaN or infinite the optimizer step is skipped and the scale multiplied by the backoff factor;
 * after {@code growthInterval} good steps in a row it is multiplied by the growth factor.
 *
 * <p>{@link Config#reference()} is what MVAR's and VAR's {@code AmpOptimizer} use: initial scale
 * 2^11, growth interval 1000, and a scale above 2^15 is set back to 2^15 after its step ({@code
 * scaler.update(new_scale=32768.)}, which leaves the growth tracker as it is).
 * {@link Config#torch()} is GradScaler's own defaults.
 */
public final class GradScaler implements AutoCloseable {
    private static final String SCALE = "grad_scaler.scale";
    private static final String GROWTH_TRACKER = "grad_scaler.growth_tracker";

    private final Config config;
    private final NDManager stateManager;
    private final NDArray savedScale;
    private final NDArray savedTracker;
    private double scale;
    private long growthTracker;

    /**
     * @param initScale the first scale
     * @param growthFactor multiplies the scale after {@code growthInterval} steps without overflow
     * @param backoffFactor multiplies the scale after a step with NaN or infinite gradients
     * @param growthInterval good steps in a row before the scale grows
     * @param maxScale a scale above this is set back to it after its step; infinite for none
     */
    public record Config(double initScale, double growthFactor, double backoffFactor, int growthInterval,
            double maxScale) {
        public Config {
            if (!(initScale > 0) || !(growthFactor > 1) || !(backoffFactor > 0 && backoffFactor < 1) || growthInterval < 1
                    || !(maxScale > 0)) {
                throw new IllegalArgumentException("invalid loss-scaler settings: " + this);
            }
        }

        /** MVAR's and VAR's AmpOptimizer: 2^11, x2 / x0.5, every 1000 steps, capped at 2^15. */
        public static Config reference() {
            return new Config(2048, 2, 0.5, 1000, 32768);
        }

        /** torch.amp.GradScaler's defaults: 2^16, x2 / x0.5, every 2000 steps, no cap. */
        public static Config torch() {
            return new Config(65536, 2, 0.5, 2000, Double.POSITIVE_INFINITY);
        }
    }

    /** @param manager where the checkpoint's two scalars live (the master weights' device) */
    public GradScaler(Config config, NDManager manager) {
        this.config = config;
        this.scale = config.initScale();
        this.stateManager = manager.newSubManager();
        this.savedScale = stateManager.zeros(new Shape(), DataType.FLOAT32);
        this.savedTracker = stateManager.zeros(new Shape(), DataType.INT64);
    }

    public Config config() {
        return config;
    }

    /** What the loss is multiplied by before the backward pass. */
    public double scale() {
        return scale;
    }

    /** Good steps since the scale last changed. */
    public long growthTracker() {
        return growthTracker;
    }

    /**
     * After a step: {@code foundInf} when the unscaled gradients held NaN or infinity (the step was
     * skipped).
     */
    public void update(boolean foundInf) {
        if (scale > config.maxScale()) {
            scale = config.maxScale(); // AmpOptimizer's update(new_scale=...): the tracker is kept
            return;
        }
        if (foundInf) {
            scale *= config.backoffFactor();
            growthTracker = 0;
        } else if (++growthTracker == config.growthInterval()) {
            double grown = scale * config.growthFactor();
            if (Double.isFinite(grown)) {
                scale = grown;
            }
            growthTracker = 0;
        }
    }

    /** {@code grad_scaler.scale} and {@code grad_scaler.growth_tracker} (live arrays: save them before the next step). */
    public Map<String, NDArray> state() {
        savedScale.set(new NDIndex("..."), (float) scale);
        savedTracker.set(new NDIndex("..."), growthTracker);
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put(SCALE, savedScale);
        out.put(GROWTH_TRACKER, savedTracker);
        return out;
    }

    /**
     * Continues from {@link #state()}; returns false (and starts afresh) when {@code state} has no
     * scaler, as a checkpoint of an fp32 run.
     */
    public boolean restore(Map<String, NDArray> state) {
        NDArray s = state.get(SCALE);
        NDArray t = state.get(GROWTH_TRACKER);
        if (s == null || t == null) {
            scale = config.initScale();
            growthTracker = 0;
            return false;
        }
        scale = s.toType(DataType.FLOAT32, false).getFloat();
        growthTracker = t.toType(DataType.INT64, false).getLong();
        if (!(scale > 0) || !Double.isFinite(scale) || growthTracker < 0) {
            throw new IllegalArgumentException("checkpoint loss scale " + scale + " / growth tracker " + growthTracker
                    + " is invalid");
        }
        return true;
    }

    @Override
    public void close() {
        stateManager.close();
    }
}
