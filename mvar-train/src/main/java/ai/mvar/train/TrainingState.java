package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import ai.mvar.train.data.DataPosition;
import java.util.Map;

/**
 * Everything a run needs to continue exactly where it stopped.
 *
 * @param step training iterations completed (the schedule's next iteration)
 * @param weights model parameters by state-dict name
 * @param optimizer optimizer tensors ({@link AdamW#state()})
 * @param optimizerSteps updates the optimizer applied ({@link AdamW#steps()})
 * @param buffers other tensors the run continues from (the tokenizer's codebook usage counts and
 *     pool of recent encoder outputs)
 * @param data where the data order stands
 * @param random named generator states ({@link TrainingRandom#state()})
 * @param extra free-form strings (configuration, model kind) stored alongside
 */
public record TrainingState(
        long step,
        Map<String, NDArray> weights,
        Map<String, NDArray> optimizer,
        Map<String, NDArray> buffers,
        long optimizerSteps,
        DataPosition data,
        Map<String, Long> random,
        Map<String, String> extra) {

    public TrainingState {
        weights = Map.copyOf(weights);
        optimizer = Map.copyOf(optimizer);
        buffers = Map.copyOf(buffers);
        random = Map.copyOf(random);
        extra = Map.copyOf(extra);
    }

    /** A state without buffers. */
    public TrainingState(long step, Map<String, NDArray> weights, Map<String, NDArray> optimizer, long optimizerSteps,
            DataPosition data, Map<String, Long> random, Map<String, String> extra) {
        this(step, weights, optimizer, Map.of(), optimizerSteps, data, random, extra);
    }

    /**
     * Copies the saved weights into the live parameters in place (so optimizers and modules that
     * hold them keep working); names and shapes must match exactly.
     */
    public void restoreWeights(Map<String, NDArray> live) {
        if (!live.keySet().equals(weights.keySet())) {
            java.util.Set<String> missing = new java.util.TreeSet<>(live.keySet());
            missing.removeAll(weights.keySet());
            java.util.Set<String> unexpected = new java.util.TreeSet<>(weights.keySet());
            unexpected.removeAll(live.keySet());
            throw new IllegalArgumentException("checkpoint weights do not match the model: missing " + missing
                    + ", unexpected " + unexpected);
        }
        for (Map.Entry<String, NDArray> e : live.entrySet()) {
            NDArray saved = weights.get(e.getKey());
            if (!saved.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("checkpoint weight " + e.getKey() + " is " + saved.getShape()
                        + ", the model has " + e.getValue().getShape());
            }
            e.getValue().set(new ai.djl.ndarray.index.NDIndex("..."), saved);
        }
    }
}
