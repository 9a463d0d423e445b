package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.mvar.nn.Scope;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An exponential moving average of weights, updated after every optimizer step: {@code ema = d
 * ema + (1 - d) w} with {@code d = min(decay, (1 + t) / (10 + t))} at update t, so early updates,
 * when the weights are far from their final values, are not averaged over a long window.
 */
public final class WeightEma implements AutoCloseable {
    private final Map<String, NDArray> live;
    private final Map<String, NDArray> average = new LinkedHashMap<>();
    private final NDManager manager;
    private final double decay;

    /** Starts the average at the current values of {@code live}. */
    public WeightEma(Map<String, NDArray> live, double decay) {
        if (!(decay > 0 && decay < 1)) {
            throw new IllegalArgumentException("EMA decay must lie in (0, 1), got " + decay);
        }
        this.live = Collections.unmodifiableMap(new LinkedHashMap<>(live));
        this.decay = decay;
        this.manager = live.values().iterator().next().getManager().newSubManager();
        live.forEach((name, w) -> {
            NDArray copy = w.stopGradient().duplicate();
            copy.attach(manager);
            average.put(name, copy);
        });
    }

    /** The decay used at update {@code t} (0-based). */
    public double decayAt(long t) {
        return Math.min(decay, (1.0 + t) / (10.0 + t));
    }

    /** Moves the average towards the live weights; {@code t} counts the updates before this one. */
    public void update(long t) {
        float d = (float) decayAt(t);
        for (Map.Entry<String, NDArray> e : average.entrySet()) {
            NDArray w = live.get(e.getKey());
            Scope.run(() -> e.getValue().muli(d).addi(w.stopGradient().mul(1 - d)));
        }
    }

    /** Sets rows of one average to the live values (rows that were re-initialised, such as re-seeded codes). */
    public void copyRows(String name, int[] rows) {
        for (int row : rows) {
            Scope.run(() -> average.get(name).set(new NDIndex(row), live.get(name).get(new NDIndex(row)).stopGradient()));
        }
    }

    /** The averaged weights under the live weights' names. */
    public Map<String, NDArray> weights() {
        return Collections.unmodifiableMap(average);
    }

    @Override
    public void close() {
        manager.close();
    }
}
