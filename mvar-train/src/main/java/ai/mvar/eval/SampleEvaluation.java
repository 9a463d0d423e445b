package ai.mvar.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.Tensors;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.train.ProgressBar;
import ai.mvar.train.data.ImageDataset;
import java.util.ArrayList;
import java.util.List;

/**
 * How good a generator's samples are, judged by the {@link FashionClassifier}: (a) class
 * consistency, the share of samples the classifier assigns to the class they were generated for;
 * (b) the Fréchet distance between classifier features of the samples and of a reference set.
 */
public final class SampleEvaluation {
    private SampleEvaluation() {}

    /**
     * @param accuracy class consistency over all samples
     * @param perClass class consistency per class
     * @param frechet Fréchet distance to the reference features
     * @param seconds wall time of generation alone
     */
    public record Report(int samples, double accuracy, double[] perClass, double frechet, double seconds) {}

    /** Feature statistics of a whole data set (the reference side of the distance). */
    public static FrechetDistance.Statistics reference(FashionClassifier c, ImageDataset data, int batch, NDManager manager) {
        float[] all = new float[data.size() * FashionClassifier.FEATURES];
        for (int start = 0; start < data.size(); start += batch) {
            int end = Math.min(data.size(), start + batch);
            try (NDManager m = manager.newSubManager()) {
                float[] f = c.features(ImageArrays.of(data, start, end, m).images()).toFloatArray();
                System.arraycopy(f, 0, all, start * FashionClassifier.FEATURES, f.length);
            }
        }
        return FrechetDistance.Statistics.of(all, FashionClassifier.FEATURES);
    }

    /**
     * Generates {@code perClass} samples of every class in batches of {@code batch} (sample i of
     * class k uses seed {@code options.seed() + i}, batch-wise) and scores them.
     */
    public static Report evaluate(Sampler sampler, SamplingOptions options, int classes, int perClass, int batch,
            FashionClassifier c, FrechetDistance.Statistics reference, NDManager manager) {
        List<Long> labels = new ArrayList<>();
        for (int k = 0; k < classes; k++) {
            for (int i = 0; i < perClass; i++) {
                labels.add((long) k);
            }
        }
        int n = labels.size();
        float[] features = new float[n * FashionClassifier.FEATURES];
        int[] right = new int[classes];
        double seconds = 0;
        ProgressBar bar = ProgressBar.stderr("evaluate", n, 0);
        for (int start = 0; start < n; start += batch) {
            int end = Math.min(n, start + batch);
            long[] lab = labels.subList(start, end).stream().mapToLong(Long::longValue).toArray();
            try (NDManager m = manager.newSubManager()) {
                NDArray l = Tensors.of(m, lab);
                SamplingOptions o = new SamplingOptions(options.mode(), options.cfg(), options.topK(), options.topP(),
                        options.seed() + start);
                long t0 = System.nanoTime();
                NDArray images = sampler.sample(l, o).images(); // [0, 1]
                seconds += (System.nanoTime() - t0) / 1e9;
                NDArray f = c.features(images.mul(2).sub(1));
                long[] predicted = c.logits(f).argMax(-1).toLongArray();
                System.arraycopy(f.toFloatArray(), 0, features, start * FashionClassifier.FEATURES, (end - start) * FashionClassifier.FEATURES);
                for (int i = 0; i < lab.length; i++) {
                    if (predicted[i] == lab[i]) {
                        right[(int) lab[i]]++;
                    }
                }
            }
            bar.update(end, "");
        }
        double[] perClassAcc = new double[classes];
        int total = 0;
        for (int k = 0; k < classes; k++) {
            perClassAcc[k] = (double) right[k] / perClass;
            total += right[k];
        }
        double fd = FrechetDistance.between(FrechetDistance.Statistics.of(features, FashionClassifier.FEATURES), reference);
        return new Report(n, (double) total / n, perClassAcc, fd, seconds);
    }
}
