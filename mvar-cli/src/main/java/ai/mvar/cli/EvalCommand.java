package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.eval.FashionClassifier;
import ai.mvar.eval.FrechetDistance;
import ai.mvar.eval.SampleEvaluation;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Precision;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.data.Datasets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Scores a Fashion-MNIST generator with the project's classifier: generates --per-class samples of"
                + " every class and reports (a) class consistency, the share classified as the class they were"
                + " generated for, and (b) the Fréchet distance between classifier features of the samples and of"
                + " the 10,000 test images (FID's formula on this classifier's 128 features).",
                "Defaults: the bundled model and classifier."},
        footerHeading = "%nExamples:%n",
        footer = {"  ./mvar eval",
                "  ./mvar eval --model runs/fm-var/var.safetensors --per-class 100"})
final class EvalCommand implements Callable<Integer> {
    static final String BUNDLED_CLASSIFIER = Home.BUNDLED_MODEL_DIR + "/classifier.safetensors";

    @Mixin
    PresetOption preset;

    @Mixin
    TokenizerOption tokenizer;

    @Mixin
    ModelOption model;

    @Option(names = "--classifier", paramLabel = "<file>", description = "default: " + BUNDLED_CLASSIFIER)
    Path classifier;

    @Option(names = "--per-class", defaultValue = "100", description = "samples per class (default ${DEFAULT-VALUE})")
    int perClass;

    @Mixin
    BatchOption batch = new BatchOption(50);

    @Option(names = "--seed", defaultValue = "0", description = "default ${DEFAULT-VALUE}")
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
        int batchSize = batch.value();
        Path modelFile = model.file();
        Path tokenizerFile = tokenizer.file();
        Path classifierFile = ModelFiles.existing(classifier, BUNDLED_CLASSIFIER, "--classifier");
        Preset p = ModelFiles.preset(preset, modelFile, tokenizerFile);
        if (p.tokenizer().imageSize() != FashionClassifier.SIDE || p.transformer().classes() != FashionClassifier.CLASSES) {
            throw new IllegalArgumentException("the evaluator judges 28 px Fashion-MNIST images of 10 classes; " + p.name()
                    + " makes " + p.tokenizer().imageSize() + " px images of " + p.transformer().classes() + " classes");
        }
        Precision compute = precision.resolve(device.device());
        Mode mo = mode.resolve(modelFile);
        SamplingOptions options = guidance.resolve(p, mo, seed); // every check before the models load
        try (NDManager m = device.newManager();
                ModelFile.Loaded vaeFile = ModelFile.read(tokenizerFile, m, ModelFile.Kind.TOKENIZER, p);
                ModelFile.Loaded modelLoaded = ModelFile.read(modelFile, m, ModelFile.Kind.TRANSFORMER, p);
                VqVae vae = vaeFile.tokenizer();
                Transformer transformer = modelLoaded.transformer(compute);
                FashionClassifier c = FashionClassifier.read(classifierFile, m)) {
            FrechetDistance.Statistics reference = SampleEvaluation.reference(c,
                    Datasets.open(Datasets.FASHION_MNIST, Datasets.Split.TEST, FashionClassifier.SIDE), 500, m);
            java.io.PrintWriter out = spec.commandLine().getOut();
            SampleEvaluation.Report r = SampleEvaluation.evaluate(new Sampler(transformer, vae), options,
                    p.transformer().classes(), perClass, batchSize, c, reference, m);
            out.printf(Locale.ROOT, "%s, %s, cfg %s, top-k %d, top-p %s, %s on %s: %d samples%n", modelFile, mo,
                    options.cfg(), options.topK(), options.topP(), compute, device.name(), r.samples());
            out.printf(Locale.ROOT, "class consistency  %.4f%n", r.accuracy());
            out.printf(Locale.ROOT, "Fréchet distance   %.3f (classifier features vs the test set)%n", r.frechet());
            out.printf(Locale.ROOT, "generation         %.1f ms per image%n", 1e3 * r.seconds() / r.samples());
            for (int k = 0; k < r.perClass().length; k++) {
                out.printf(Locale.ROOT, "  %-12s %.3f%n", p.classNames().get(k), r.perClass()[k]);
            }
            out.flush();
        }
        return 0;
    }
}
