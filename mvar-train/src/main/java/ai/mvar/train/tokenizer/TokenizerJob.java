package ai.mvar.train.tokenizer;

import ai.djl.ndarray.NDManager;
import ai.mvar.train.StepMetrics;
import ai.mvar.train.TrainingLoop;
import ai.mvar.train.TrainingState;
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.ImageBatches;
import ai.mvar.train.data.ImageDataset;

/**
 * Tokenizer training as a {@link TrainingLoop.Job}: batches of a data set through a
 * {@link TokenizerTrainer}. Logged per step: the total loss, {@code [reconstruction, vq]} (and with
 * the adversarial loss {@code generator, discriminator}) as the loss series and the codebook usage
 * per scale as the accuracy series.
 */
public final class TokenizerJob implements TrainingLoop.Job {
    private static final String[] SERIES = {"reconstruction", "vq", "generator", "discriminator"};

    private final TokenizerTrainer trainer;
    private final ImageDataset data;
    private final int batchSize;
    private final boolean flip;
    private final NDManager manager;
    private ImageBatches batches;

    public TokenizerJob(TokenizerTrainer trainer, ImageDataset data, int batchSize, long seed, boolean flip, NDManager manager) {
        this.trainer = trainer;
        this.data = data;
        this.batchSize = batchSize;
        this.flip = flip;
        this.manager = manager;
        this.batches = new ImageBatches(data, batchSize, DataPosition.start(seed), false, flip);
    }

    @Override
    public StepMetrics step(long iteration, double lr) {
        try (NDManager m = manager.newSubManager(); ImageBatches.ImageBatch b = batches.next(m)) {
            TokenizerTrainer.StepResult r = trainer.step(b.images(), lr);
            double[] losses = trainer.config().adversarial().on()
                    ? new double[] {r.reconstruction(), r.vq(), r.generator(), r.discriminator()}
                    : new double[] {r.reconstruction(), r.vq()};
            return new StepMetrics(r.step(), r.loss(), losses, r.usage(), lr);
        }
    }

    @Override
    public String seriesName(int i) {
        return SERIES[i];
    }

    @Override
    public TrainingState snapshot() {
        return trainer.snapshot(batches.position());
    }

    @Override
    public void restore(TrainingState state) {
        trainer.restore(state);
        batches = new ImageBatches(data, batchSize, state.data(), false, flip);
    }
}
