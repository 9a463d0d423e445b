package ai.mvar.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Scope;
import ai.mvar.nn.Torch;
import ai.mvar.train.AdamW;
import ai.mvar.train.LrSchedule;
import ai.mvar.train.NonFiniteLossException;
import ai.mvar.train.ProgressBar;
import ai.mvar.train.data.DataPosition;
import ai.mvar.train.data.ImageBatches;
import ai.mvar.train.data.ImageDataset;
import java.util.Locale;

/** Trains and tests the {@link FashionClassifier}: cross-entropy, AdamW, cosine schedule, random flips. */
public final class ClassifierTraining {
    private ClassifierTraining() {}

    /** Trains a fresh classifier for {@code epochs} passes over {@code train}. */
    public static FashionClassifier train(ImageDataset train, int epochs, int batch, double lr, long seed, NDManager manager) {
        FashionClassifier c = FashionClassifier.random(manager, seed);
        ImageBatches batches = new ImageBatches(train, batch, DataPosition.start(seed), false, true);
        long steps = (long) epochs * batches.batchesPerEpoch();
        LrSchedule schedule = LrSchedule.of(LrSchedule.Shape.COSINE, lr, Math.min(100, steps / 10), steps);
        ProgressBar bar = ProgressBar.stderr("classifier", steps, 0);
        try (AdamW opt = new AdamW(c.weights().tensors(), AdamW.Config.reference().withWeightDecay(1e-4).withMaxGradNorm(0))) {
            for (long step = 0; step < steps; step++) {
                double[] loss = new double[1];
                long at = step;
                try (NDManager m = manager.newSubManager(); ImageBatches.ImageBatch b = batches.next(m)) {
                    Scope.run(() -> {
                        try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                            NDArray logp = c.logits(c.features(b.images())).logSoftmax(-1);
                            NDArray l = logp.gather(b.labels().expandDims(-1), -1).mean().neg();
                            loss[0] = l.getFloat();
                            NonFiniteLossException.check("classifier loss", at + 1, loss[0]);
                            gc.backward(l);
                        }
                    });
                }
                opt.step(schedule.lr(step));
                bar.update(step + 1, String.format(Locale.ROOT, "loss %.4f", loss[0]));
            }
        }
        return c;
    }

    /** Share of {@code data} classified correctly. */
    public static double accuracy(FashionClassifier c, ImageDataset data, int batch, NDManager manager) {
        long right = 0;
        for (int start = 0; start < data.size(); start += batch) {
            int end = Math.min(data.size(), start + batch);
            try (NDManager m = manager.newSubManager()) {
                ImageArrays.Batch b = ImageArrays.of(data, start, end, m);
                right += c.logits(c.features(b.images())).argMax(-1).eq(b.labels()).sum().getLong();
            }
        }
        return (double) right / data.size();
    }
}
