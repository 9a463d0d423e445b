package ai.mvar.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.Tensors;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.ProgressBar;
import ai.mvar.train.data.Augment;
import ai.mvar.train.data.ImageDataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * How good a Fashion-MNIST generator is, judged by the {@link FashionClassifier}, with every number
 * next to its floor. Everything is measured against one <em>reference</em> split: the test images
 * for the numbers to report, the training images to choose settings without looking at the test
 * set. A set of {@code perClass} images of each class is scored by (a) class consistency, (b) the
 * Fréchet distance of its features to those of every reference image, (c) precision and recall
 * against the features of the first {@code perClass} reference images of each class
 * ({@link PrecisionRecall}, k = 3). The sets scored:
 *
 * <ul>
 *   <li>real images of the other split (the first {@code perClass} of each class): what real images
 *       score;
 *   <li>real reference images held out of the precision/recall reference (the next {@code perClass}
 *       of each class; they are among the Fréchet distance's reference, as in the issue that set the
 *       goals);
 *   <li>the tokenizer's reconstructions of those held-out images: the best a generator that speaks
 *       this tokenizer's tokens can do;
 *   <li>samples, {@code perClass} of each class, over as many seed ranges as asked;
 *   <li>optionally, completions of the held-out images from a given scale on.
 * </ul>
 */
public final class FashionMnistEvaluation {
    private final FashionClassifier classifier;
    private final ImageDataset other;
    private final ImageDataset reference;
    private final int perClass;
    private final int batch;
    private final NDManager manager;
    private final FrechetDistance.Statistics referenceStatistics;
    private final float[] manifold;
    private final int[] heldOut;

    /** Scores of one run of samples and the wall time of generation alone. */
    public record Generated(Scores scores, long seed, double seconds) {}

    /**
     * Computes the reference side once: features of every reference image and of the precision/recall
     * reference set.
     *
     * @param perClass images of each class in every scored set (and in the precision/recall reference)
     */
    public FashionMnistEvaluation(FashionClassifier classifier, ImageDataset other, ImageDataset reference, int perClass,
            int batch, NDManager manager) {
        if (perClass < 1 || batch < 1) {
            throw new IllegalArgumentException("need at least one image per class and batch, got " + perClass + ", " + batch);
        }
        this.classifier = classifier;
        this.other = other;
        this.reference = reference;
        this.perClass = perClass;
        this.batch = batch;
        this.manager = manager;
        int[] all = new int[reference.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        this.referenceStatistics = FrechetDistance.Statistics.of(classify(reference, all, images -> images).features(),
                FashionClassifier.FEATURES);
        this.manifold = classify(reference, ofEachClass(reference, 0, perClass), images -> images).features();
        this.heldOut = ofEachClass(reference, perClass, perClass);
    }

    public int perClass() {
        return perClass;
    }

    /** Real images of the other split: the floor of every metric (they were not in the reference sets). */
    public Scores realOther() {
        return score(classify(other, ofEachClass(other, 0, perClass), images -> images));
    }

    /** Real reference images outside the precision/recall reference. */
    public Scores realHeldOut() {
        return score(classify(reference, heldOut, images -> images));
    }

    /** The held-out reference images encoded and decoded by {@code vae}. */
    public Scores reconstructions(VqVae vae) {
        return score(classify(reference, heldOut, images -> vae.decodeIndices(vae.encode(images))));
    }

    /**
     * {@code runs} runs of {@code perClass} samples of every class. Within a run, the batch that starts
     * at sample i uses seed {@code s + i}; run r starts at {@code s = options.seed() + r * samples},
     * so no two runs share a seed.
     */
    public List<Generated> samples(Sampler sampler, SamplingOptions options, int runs) {
        int n = perClass * FashionClassifier.CLASSES;
        return generated("samples", n, options, runs, (start, end, o, m) -> {
            long[] lab = new long[end - start];
            for (int i = start; i < end; i++) {
                lab[i - start] = i / perClass;
            }
            NDArray labels = Tensors.of(m, lab);
            return new ImageArrays.Batch(sampler.sample(labels, o).images(), labels);
        });
    }

    /**
     * Completions of the held-out reference images (the set {@link #realHeldOut} scores): each image's tokens
     * of scales {@code [0, keep)} kept, the finer scales sampled with its class ({@link
     * Sampler#complete}), seeds as in {@link #samples}. Between the reconstructions ({@code keep} =
     * every scale) and samples ({@code keep} = 0), the scores show which scales lose the quality.
     */
    public List<Generated> completions(Sampler sampler, VqVae vae, int keep, SamplingOptions options, int runs) {
        return generated("completions from scale " + keep, heldOut.length, options, runs, (start, end, o, m) -> {
            ImageArrays.Batch real = ImageArrays.of(reference, Arrays.copyOfRange(heldOut, start, end), m);
            List<NDArray> coarse = vae.encode(real.images()).subList(0, keep);
            return new ImageArrays.Batch(sampler.complete(real.labels(), coarse, o, s -> {}).images(), real.labels());
        });
    }

    /** Images {@code [start, end)} of a run, in [0, 1], made with options {@code o} in {@code m}. */
    private interface Maker {
        ImageArrays.Batch make(int start, int end, SamplingOptions o, NDManager m);
    }

    private List<Generated> generated(String what, int n, SamplingOptions options, int runs, Maker maker) {
        List<Generated> out = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            long seed = options.seed() + (long) run * n;
            ClassifiedImages classified = new ClassifiedImages(classifier);
            double seconds = 0;
            ProgressBar bar = ProgressBar.stderr(what + ", seed " + seed, n, 0);
            for (int start = 0; start < n; start += batch) {
                int end = Math.min(n, start + batch);
                try (NDManager m = manager.newSubManager()) {
                    SamplingOptions o = options.withSeed(seed + start);
                    long t0 = System.nanoTime();
                    ImageArrays.Batch made = maker.make(start, end, o, m);
                    seconds += (System.nanoTime() - t0) / 1e9;
                    classified.add(made.images().mul(2).sub(1), made.labels().toLongArray());
                }
                bar.update(end, "");
            }
            out.add(new Generated(score(classified), seed, seconds));
        }
        return out;
    }

    private Scores score(ClassifiedImages c) {
        float[] f = c.features();
        double fd = FrechetDistance.between(FrechetDistance.Statistics.of(f, FashionClassifier.FEATURES), referenceStatistics);
        PrecisionRecall.Result pr = PrecisionRecall.of(manifold, f, FashionClassifier.FEATURES, PrecisionRecall.K);
        return new Scores(c.size(), c.consistency(), c.perClass(), fd, pr.precision(), pr.recall());
    }

    /** Images {@code indices} of {@code data}, unaugmented, through {@code transform}, classified. */
    private ClassifiedImages classify(ImageDataset data, int[] indices, UnaryOperator<NDArray> transform) {
        ClassifiedImages out = new ClassifiedImages(classifier);
        for (int start = 0; start < indices.length; start += batch) {
            try (NDManager m = manager.newSubManager()) {
                ImageArrays.Batch b = ImageArrays.of(data, Arrays.copyOfRange(indices, start, Math.min(indices.length, start + batch)), m);
                out.add(transform.apply(b.images()), b.labels().toLongArray());
            }
        }
        return out;
    }

    /**
     * Indices of the images {@code [skip, skip + take)} of each class, in data-set order.
     *
     * @throws IllegalArgumentException when a class has fewer than {@code skip + take} images
     */
    static int[] ofEachClass(ImageDataset data, int skip, int take) {
        int classes = FashionClassifier.CLASSES;
        int[] seen = new int[classes];
        int[] out = new int[classes * take];
        int filled = 0;
        for (int i = 0; i < data.size() && filled < out.length; i++) {
            int label = data.sample(i, Augment.CENTRE).label();
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("image " + i + " has label " + label + ", not a Fashion-MNIST class");
            }
            int rank = seen[label]++;
            if (rank >= skip && rank < skip + take) {
                out[filled++] = i;
            }
        }
        if (filled < out.length) {
            throw new IllegalArgumentException("the data set (" + data.size() + " images) has fewer than " + (skip + take)
                    + " images of some class; ask for fewer per class");
        }
        Arrays.sort(out);
        return out;
    }
}
