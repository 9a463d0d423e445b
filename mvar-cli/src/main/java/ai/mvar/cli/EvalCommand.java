package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.eval.FashionClassifier;
import ai.mvar.eval.FashionMnistEvaluation;
import ai.mvar.eval.PrecisionRecall;
import ai.mvar.eval.Scores;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Precision;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.data.Datasets;
import ai.mvar.train.data.ImageDataset;
import ai.mvar.train.data.TokenCache;
import ai.mvar.train.transformer.HeldOutLoss;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Scores a Fashion-MNIST generator with the project's classifier: --per-class samples of every class,"
                + " for each of --seeds seed ranges, and their mean and standard deviation. Each row reports (a) class"
                + " consistency, the share classified as the class the images were made for; (b) the Fréchet distance"
                + " between classifier features of the images and of the 10,000 test images (FID's formula on this"
                + " classifier's 128 features); (c) precision and recall (Kynkäänniemi et al. 2019, k = 3): the share of"
                + " the images inside the k-NN feature manifold of --per-class real test images of each class, and the"
                + " share of those real images inside the images' manifold (diversity).",
                "Above the samples, the same scores of real training images, of held-out real test images (the floor"
                + " of every number) and of the tokenizer's reconstructions of those test images (the best any"
                + " transformer over this tokenizer can do). With --complete-from, completions of those test images"
                + " from a scale on, between the two.",
                "Defaults: the bundled model and classifier."},
        footerHeading = "%nExamples:%n",
        footer = {"  ./mvar eval",
                "  ./mvar eval --model runs/fm-var/var.safetensors --per-class 100 --seeds 3",
                "  ./mvar eval --held-out tokens/fm-test.bin",
                "  ./mvar eval --tokenizer runs/fm-tokenizer/tokenizer.safetensors --no-samples"})
final class EvalCommand implements Callable<Integer> {
    static final String BUNDLED_CLASSIFIER = Home.BUNDLED_MODEL_DIR + "/classifier.safetensors";
    private static final String ROW = "%-52s %11s %16s %15s %15s%n";

    @Mixin
    PresetOption preset;

    @Mixin
    TokenizerOption tokenizer;

    @Mixin
    ModelOption model;

    @Option(names = "--classifier", paramLabel = "<file>", description = "default: " + BUNDLED_CLASSIFIER)
    Path classifier;

    @Option(names = "--per-class", defaultValue = "100",
            description = "images of each class in every row and in the precision/recall reference (default ${DEFAULT-VALUE})")
    int perClass;

    @Option(names = "--seeds", defaultValue = "3", paramLabel = "<n>",
            description = "sampling runs: run r uses seeds from --seed + r * (10 * --per-class) on (default ${DEFAULT-VALUE})")
    int seeds;

    @Option(names = "--no-samples", description = "score only real images and the tokenizer's reconstructions (no --model)")
    boolean noSamples;

    @Option(names = "--complete-from", paramLabel = "<scale>", split = ",",
            description = "also score completions of the held-out test images: each image's tokens of the scales before"
                    + " <scale> kept, the finer ones sampled (which scales lose the quality); e.g. 1,2,3,4")
    List<Integer> completeFrom = List.of();

    @Option(names = "--held-out", paramLabel = "<tokens>",
            description = "also the model's teacher-forced cross-entropy and token accuracy per scale on this token cache"
                    + " (true classes, no guidance), e.g. the test split's from 'mvar tokenize --split test'")
    Path heldOut;

    @Option(names = "--reference", defaultValue = "TEST", paramLabel = "<split>",
            description = "the real images every score is measured against: TEST (the 10,000 test images: the numbers to"
                    + " report) or TRAIN (the 60,000 training images: to choose settings such as --cfg and --top-p without"
                    + " looking at the test set; the floor row is then the test images) (default ${DEFAULT-VALUE})")
    Datasets.Split reference;

    @Mixin
    BatchOption batch = new BatchOption(50);

    @Option(names = "--seed", defaultValue = "0", description = "first seed (default ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    GuidanceOption guidance;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Mixin
    SamplingModeOption mode;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Usage.positive(spec.commandLine(), "--per-class", perClass);
        Usage.positive(spec.commandLine(), "--seeds", seeds);
        if (noSamples && (heldOut != null || !completeFrom.isEmpty())) {
            throw new ParameterException(spec.commandLine(), "--held-out and --complete-from score a model: they cannot go"
                    + " with --no-samples");
        }
        if (heldOut != null) {
            ModelFiles.existing(heldOut, "--held-out");
        }
        int batchSize = batch.value();
        Path tokenizerFile = tokenizer.file();
        Path modelFile = noSamples ? null : model.file();
        Path classifierFile = ModelFiles.existing(classifier, BUNDLED_CLASSIFIER, "--classifier");
        Preset p = noSamples ? ModelFiles.preset(preset, tokenizerFile) : ModelFiles.preset(preset, modelFile, tokenizerFile);
        if (p.tokenizer().imageSize() != FashionClassifier.SIDE || p.transformer().classes() != FashionClassifier.CLASSES) {
            throw new IllegalArgumentException("the evaluator judges 28 px Fashion-MNIST images of 10 classes; " + p.name()
                    + " makes " + p.tokenizer().imageSize() + " px images of " + p.transformer().classes() + " classes");
        }
        Precision compute = precision.resolve(device.device());
        for (int k : completeFrom) {
            if (k < 0 || k > p.transformer().schedule().scales()) {
                throw new ParameterException(spec.commandLine(), "--complete-from " + k + ": the pyramid of " + p.name()
                        + " has scales 0.." + (p.transformer().schedule().scales() - 1) + " (give 0 to "
                        + p.transformer().schedule().scales() + ")");
            }
        }
        Mode mo = noSamples ? null : mode.resolve(modelFile);
        SamplingOptions options = noSamples ? null : guidance.resolve(p, mo, seed); // every check before the models load
        PrintWriter out = spec.commandLine().getOut();
        try (NDManager m = device.newManager();
                ModelFile.Loaded vaeFile = ModelFile.read(tokenizerFile, m, ModelFile.Kind.TOKENIZER, p);
                VqVae vae = vaeFile.tokenizer();
                FashionClassifier c = FashionClassifier.read(classifierFile, m)) {
            Datasets.Split other = reference == Datasets.Split.TEST ? Datasets.Split.TRAIN : Datasets.Split.TEST;
            ImageDataset against = Datasets.open(Datasets.FASHION_MNIST, reference, FashionClassifier.SIDE);
            FashionMnistEvaluation eval = new FashionMnistEvaluation(c,
                    Datasets.open(Datasets.FASHION_MNIST, other, FashionClassifier.SIDE), against, perClass, batchSize, m);
            out.printf(Locale.ROOT, "%d images of each class per row; Fréchet distance to the %,d %s images;"
                    + " precision/recall (k = %d) against %d other %s images%n", perClass, against.size(), name(reference),
                    PrecisionRecall.K, perClass * FashionClassifier.CLASSES, name(reference));
            out.printf(Locale.ROOT, ROW, "", "consistency", "Fréchet", "precision", "recall");
            Scores realHeldOut = eval.realHeldOut();
            print(out, "real " + name(other) + " images", List.of(eval.realOther()));
            print(out, "real " + name(reference) + " images (held out)", List.of(realHeldOut));
            print(out, "tokenizer reconstructions of those", List.of(eval.reconstructions(vae)));
            if (!noSamples) {
                try (ModelFile.Loaded loaded = ModelFile.read(modelFile, m, ModelFile.Kind.TRANSFORMER, p);
                        Transformer transformer = loaded.transformer(compute)) {
                    Sampler sampler = new Sampler(transformer, vae);
                    List<FashionMnistEvaluation.Generated> runs = eval.samples(sampler, options, seeds);
                    printSamples(out, runs, mo, realHeldOut, p);
                    for (int k : completeFrom) {
                        printRuns(out, mo + " completions from scale " + k, eval.completions(sampler, vae, k, options, seeds));
                    }
                    out.printf(Locale.ROOT, "%s: %s, %s, %s on %s%n", modelFile, mo, options.describe(), compute,
                            device.name());
                    if (heldOut != null) {
                        try (TokenCache cache = TokenCache.open(heldOut)) {
                            printHeldOut(out, HeldOutLoss.of(transformer, vae, cache, mo, batchSize, m));
                        }
                    }
                }
            }
            out.flush();
        }
        return 0;
    }

    /** "training" or "test". */
    private static String name(Datasets.Split split) {
        return split == Datasets.Split.TRAIN ? "training" : "test";
    }

    private void printSamples(PrintWriter out, List<FashionMnistEvaluation.Generated> runs, Mode mo, Scores realHeldOut,
            Preset p) {
        int n = perClass * FashionClassifier.CLASSES;
        List<Scores> scores = printRuns(out, mo + " samples", runs);
        double seconds = runs.stream().mapToDouble(FashionMnistEvaluation.Generated::seconds).sum();
        out.printf(Locale.ROOT, "%d samples, generation %.1f ms per image%n", n * runs.size(), 1e3 * seconds / (n * runs.size()));
        out.printf(Locale.ROOT, "class consistency per class: samples (mean of the runs) / real %s images%n", name(reference));
        double[] samplesPerClass = Scores.meanPerClass(scores);
        for (int k = 0; k < samplesPerClass.length; k++) {
            out.printf(Locale.ROOT, "  %-12s %.3f / %.3f%n", p.classNames().get(k), samplesPerClass[k], realHeldOut.perClass()[k]);
        }
    }

    private void printHeldOut(PrintWriter out, HeldOutLoss.Result r) {
        out.printf(Locale.ROOT, "held-out cross-entropy on %s (%d images, teacher-forced): %.4f per token, token accuracy"
                + " %.4f%n", heldOut, r.images(), r.mean(), r.accuracy());
        for (int s = 0; s < r.scaleLoss().length; s++) {
            int side = r.schedule().side(s);
            out.printf(Locale.ROOT, "  scale %d (%dx%d)  cross-entropy %.4f  token accuracy %.4f%n", s, side, side,
                    r.scaleLoss()[s], r.scaleAccuracy()[s]);
        }
    }

    /** A row per run and, for several, their mean ± std; returns the runs' scores. */
    private List<Scores> printRuns(PrintWriter out, String what, List<FashionMnistEvaluation.Generated> runs) {
        int n = perClass * FashionClassifier.CLASSES;
        for (FashionMnistEvaluation.Generated g : runs) {
            print(out, String.format(Locale.ROOT, "%s, seeds %d-%d", what, g.seed(), g.seed() + n - 1), List.of(g.scores()));
        }
        List<Scores> scores = runs.stream().map(FashionMnistEvaluation.Generated::scores).toList();
        if (runs.size() > 1) {
            print(out, String.format(Locale.ROOT, "%s, mean ± std of %d runs", what, runs.size()), scores);
        }
        return scores;
    }

    /** One row: a single run's scores, or mean ± standard deviation over several. */
    private static void print(PrintWriter out, String label, List<Scores> runs) {
        out.printf(Locale.ROOT, ROW, label, cell(runs, Scores::consistency, 3), cell(runs, Scores::frechet, 2),
                cell(runs, Scores::precision, 3), cell(runs, Scores::recall, 3));
    }

    private static String cell(List<Scores> runs, ToDoubleFunction<Scores> metric, int digits) {
        Scores.Spread s = Scores.Spread.of(runs, metric);
        String value = String.format(Locale.ROOT, "%." + digits + "f", s.mean());
        return runs.size() == 1 ? value : value + String.format(Locale.ROOT, " ± %." + digits + "f", s.std());
    }
}
