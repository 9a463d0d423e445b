package ai.mvar.eval;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One row of an evaluation: a set of images judged against the real test images.
 *
 * @param images how many images were judged
 * @param consistency the share the classifier assigns to the class they were made for (or carry)
 * @param perClass the same, per class
 * @param frechet Fréchet distance of their classifier features to those of the test set
 * @param precision the share inside the real images' k-NN feature manifold
 * @param recall the share of real images inside their k-NN feature manifold
 */
public record Scores(int images, double consistency, double[] perClass, double frechet, double precision, double recall) {

    /** Mean and sample standard deviation of one metric over several runs (e.g. sampling seeds). */
    public record Spread(double mean, double std) {
        public static Spread of(List<Scores> runs, ToDoubleFunction<Scores> metric) {
            if (runs.isEmpty()) {
                throw new IllegalArgumentException("no runs to summarise");
            }
            double mean = runs.stream().mapToDouble(metric).average().orElseThrow();
            double ss = runs.stream().mapToDouble(metric).map(v -> (v - mean) * (v - mean)).sum();
            return new Spread(mean, runs.size() > 1 ? Math.sqrt(ss / (runs.size() - 1)) : 0);
        }
    }

    /** The per-class consistency averaged over runs. */
    public static double[] meanPerClass(List<Scores> runs) {
        double[] out = new double[runs.get(0).perClass().length];
        for (Scores s : runs) {
            for (int k = 0; k < out.length; k++) {
                out[k] += s.perClass()[k] / runs.size();
            }
        }
        return out;
    }
}
