package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Precision;
import ai.mvar.sampling.ImageGrid;
import ai.mvar.sampling.Sampler;
import ai.mvar.sampling.Samples;
import ai.mvar.sampling.SamplingOptions;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.train.ProgressBar;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mvar sample}: class-conditional images, a labelled grid and one PNG per image. */
@Command(name = "sample",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        header = "Generate images: a labelled grid and one PNG per image.",
        description = {
            "Generates images of the given classes and writes a labelled grid, <out>/grid.png, and one PNG per image, <out>/<class index>-<class name>-seed<k>.png. Without --model/--tokenizer it uses the bundled Fashion-MNIST model (models/fashion-mnist/); sampling settings default to the preset's."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar sample                  all ten Fashion-MNIST classes, bundled model",
            "  ./mvar sample --classes Sneaker,Bag,0 --per-class 4 --seed 7 --out shoes",
            "  ./mvar sample --preset d16 --tokenizer vae_ch160v4096z32.safetensors \\",
            "      --model mvar_d16.safetensors --classes 207,'golden retriever' --batch 4",
            "  ./mvar sample --mode var --model var.safetensors --top-k 50 --top-p 0.9",
            "",
            "Repetition r of --per-class uses seed <seed>+r; the same command (same",
            "classes and --batch) reproduces the same images."
        })
final class SampleCommand implements Callable<Integer> {
    @Mixin
    PresetOption preset;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Mixin
    OutputFolderOption out;

    @Mixin
    TokenizerOption tokenizer;

    @Mixin
    ModelOption model;

    @Option(names = "--classes", paramLabel = "<class>", split = ",",
            description = "Classes by index or name (case-insensitive; a unique prefix will do), comma-separated."
                    + " Default: every class of the preset.")
    List<String> classes;

    @Option(names = "--seed", defaultValue = "0", description = "First seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--per-class", defaultValue = "1", paramLabel = "<n>",
            description = "Images per class (seeds <seed>..<seed>+n-1). Default: ${DEFAULT-VALUE}.")
    int perClass;

    @Mixin
    GuidanceOption guidance;

    @Mixin
    BatchOption batch = new BatchOption(16);

    @Mixin
    SamplingModeOption mode;

    @Option(names = "--grid-columns", paramLabel = "<n>",
            description = "Grid width in images. Default: --per-class when above 1, else up to 10.")
    Integer gridColumns;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        Usage.positive(spec.commandLine(), "--per-class", perClass);
        int batchSize = batch.value();
        if (gridColumns != null) {
            Usage.positive(spec.commandLine(), "--grid-columns", gridColumns);
        }
        Precision compute = precision.resolve(device.device());
        Path modelFile = model.file();
        Path tokenizerFile = tokenizer.file();
        Preset p = ModelFiles.preset(preset, modelFile, tokenizerFile);
        List<Integer> classIndices = classIndices(p);
        Mode m = mode.resolve(modelFile);
        SamplingOptions settings = guidance.resolve(p, m, seed); // every check before the models load
        Path folder = out.folder(Path.of("samples")); // created when the first image is written
        try (NDManager manager = device.newManager();
                ModelFile.Loaded vaeFile = ModelFile.read(tokenizerFile, manager, ModelFile.Kind.TOKENIZER, p);
                ModelFile.Loaded modelLoaded = ModelFile.read(modelFile, manager, ModelFile.Kind.TRANSFORMER, p);
                VqVae vae = vaeFile.tokenizer();
                Transformer transformer = modelLoaded.transformer(compute)) {
            Sampler sampler = new Sampler(transformer, vae);
            int n = classIndices.size() * perClass;
            stdout.printf(Locale.ROOT, "sampling %d image(s) of %s on %s (%s): %s, %s, seeds %d..%d%n",
                    n, p.name(), device.name(), compute, m.name(), settings.describe(), seed, seed + perClass - 1);
            stdout.flush();
            // Jobs in generation order: repetition-major, so a batch shares one seed.
            int scales = p.transformer().schedule().scales();
            int batchesPerRep = (classIndices.size() + batchSize - 1) / batchSize;
            ProgressBar bar = ProgressBar.stderr("sampling", (long) perClass * batchesPerRep * scales, 0);
            BufferedImage[][] images = new BufferedImage[classIndices.size()][perClass];
            long done = 0;
            for (int r = 0; r < perClass; r++) {
                long repSeed = seed + r;
                for (int bi = 0; bi < batchesPerRep; bi++) {
                    int from = bi * batchSize;
                    int to = Math.min(classIndices.size(), from + batchSize);
                    long[] labels = classIndices.subList(from, to).stream().mapToLong(Integer::longValue).toArray();
                    // Batches after the first of a repetition get their own stream, derived from the seed.
                    long batchSeed = bi == 0 ? repSeed : repSeed ^ (0x9E3779B97F4A7C15L * bi);
                    final long base = done;
                    final int rep = r;
                    final int batchNo = bi;
                    try (NDManager run = manager.newSubManager();
                            Samples s = sampler.sample(run.create(labels), settings.withSeed(batchSeed),
                                    scale -> bar.update(base + scale + 1, "seed " + repSeed + ", batch "
                                            + (batchNo + 1) + "/" + batchesPerRep))) {
                        List<BufferedImage> decoded = ImageGrid.toImages(s.images());
                        for (int i = 0; i < decoded.size(); i++) {
                            images[from + i][rep] = decoded.get(i);
                        }
                    }
                    done += scales;
                }
            }
            List<BufferedImage> tiles = new ArrayList<>();
            List<String> captions = new ArrayList<>();
            for (int ci = 0; ci < classIndices.size(); ci++) {
                int cls = classIndices.get(ci);
                String name = p.classNames().get(cls);
                for (int r = 0; r < perClass; r++) {
                    Path file = folder.resolve(String.format(Locale.ROOT, "%d-%s-seed%d.png", cls, slug(name), seed + r));
                    ImageGrid.writePng(images[ci][r], file);
                    stdout.println(file);
                    tiles.add(images[ci][r]);
                    captions.add(name);
                }
            }
            int side = tiles.get(0).getWidth();
            int columns = gridColumns != null ? gridColumns : perClass > 1 ? perClass : Math.min(10, tiles.size());
            Path grid = folder.resolve("grid.png");
            ImageGrid.writePng(ImageGrid.grid(ImageGrid.enlarge(tiles, Math.max(1, (96 + side - 1) / side)), captions,
                    columns), grid);
            stdout.println(grid);
        }
        return 0;
    }

    private List<Integer> classIndices(Preset p) {
        Set<Integer> out = new LinkedHashSet<>();
        if (classes == null || classes.isEmpty()) {
            for (int i = 0; i < p.classNames().size(); i++) {
                out.add(i);
            }
        } else {
            for (String c : classes) {
                try {
                    out.add(p.classIndex(c));
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** File-name form of a class name: {@code T-shirt/top} becomes {@code t-shirt-top}. */
    static String slug(String name) {
        String s = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        return s.isEmpty() ? "class" : s;
    }
}
