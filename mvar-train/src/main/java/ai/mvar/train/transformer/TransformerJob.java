package ai.mvar.train.transformer;

import ai.djl.ndarray.NDManager;
import ai.mvar.train.StepMetrics;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.TrainingState;
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.TokenBatches;
import ai.mvar.train.data.TokenCache;
import java.io.IOException;
import java.util.Optional;

/**
 * Transformer training as a {@link TrainingLoop.Job}: token-cache batches through a {@link
 * TransformerTrainer}, each rank reading only its shard of every batch; with a held-out token
 * cache, its {@link HeldOutLoss} at every checkpoint (the ranks share the scoring).
 */
public final class TransformerJob implements TrainingLoop.Job {
    private final TransformerTrainer trainer;
    private final TokenCache cache;
    private final int batchSize;
    private final boolean flip;
    private final NDManager manager;
    private final TokenCache heldOut;
    private TokenBatches batches;

    /**
     * @param batchSize the whole batch, summed over the ranks
     * @param flip draw each sample's mirrored variant half the time (the cache must hold them)
     * @param heldOut images scored at every checkpoint, or null
     */
    public TransformerJob(TransformerTrainer trainer, TokenCache cache, int batchSize, long seed, boolean flip,
            TokenCache heldOut, NDManager manager) {
        this.trainer = trainer;
        this.cache = cache;
        this.batchSize = batchSize;
        this.flip = flip;
        this.manager = manager;
        this.heldOut = heldOut;
        this.batches = new TokenBatches(cache, batchSize, DataPosition.start(seed), flip, trainer.shard());
    }

    @Override
    public StepMetrics step(long iteration, double lr) throws IOException {
        try (NDManager m = manager.newSubManager(); TokenCache.TokenBatch b = batches.next(m)) {
            TransformerTrainer.StepResult r = trainer.step(b, batchSize, lr);
            return new StepMetrics(r.step(), r.loss(), r.scaleLoss(), r.scaleAccuracy(), lr);
        }
    }

    /** Per-scale loss and accuracy of the whole held-out pyramid; the loss is the token-weighted mean. */
    @Override
    public Optional<StepMetrics> heldOut(long step, double lr) throws IOException {
        if (heldOut == null) {
            return Optional.empty();
        }
        try (NDManager m = manager.newSubManager()) {
            HeldOutLoss.Result r = trainer.heldOutLoss(heldOut, batchSize, m);
            return Optional.of(new StepMetrics(step, r.mean(), r.scaleLoss(), r.scaleAccuracy(), lr));
        }
    }

    @Override
    public TrainingState snapshot() {
        return trainer.snapshot(batches.position());
    }

    @Override
    public void restore(TrainingState state) {
        trainer.restore(state);
        batches = new TokenBatches(cache, batchSize, state.data(), flip, trainer.shard());
    }
}
