package ai.mvar.cli;

import ai.djl.Device;
import ai.mvar.bench.GenerationTask;
import ai.mvar.bench.Probe;
import ai.mvar.bench.SamplingBenchmark;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.Mode;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import ai.mvar.sampling.SamplingOptions;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mvar bench}: MVAR against VAR generation, side by side. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        header = "MVAR vs VAR generation side by side: time per batch and peak memory.",
        description = {
            "Measures token generation (decoding excluded: it is the same for both) in MVAR and VAR mode with the same weights (the model files, the bundled model by default, or with --random random weights of --preset), batch and settings: time per batch and peak memory, and their ratio. Every measurement runs in a fresh JVM (modes alternating between rounds), so its peak memory belongs to that task alone: on the CPU the peak resident set (VmHWM), on a GPU the device memory the process holds (nvidia-smi, else the driver's used memory; PyTorch's caching allocator keeps its peak). Peak memory is the rise over what the process held with the weights loaded: for the first, cold run (what a fresh process grows by, its warm-up included) and, on the CPU, the largest over the warm repetitions, each started with the C heap's free pages returned (malloc_trim): the task's own memory. 'With weights' is the cold peak over what the process held before the model loaded. Time is the median of the warm repetitions, on a GPU each one synchronised with the device."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar bench --batch 32                        the bundled Fashion-MNIST model",
            "  ./mvar bench --preset d16 --random --batch 32 --device gpu   (fp16 on the GPU)",
            "  ./mvar bench --preset fashion-mnist --random --batch 16",
            "  ./mvar bench --preset d16 --random --batch 1   (official d16 size)",
            "  ./mvar bench --preset d16 --random --depth 6 --batch 8 --rounds 3",
            "  ./mvar bench --preset d16 --tokenizer vae_ch160v4096z32.safetensors \\",
            "        --model mvar_d16.safetensors --batch 4"
        })
final class BenchCommand implements Callable<Integer> {
    @Mixin
    PresetOption preset;

    @Mixin
    BatchOption batch = new BatchOption(1);

    @Option(names = "--depth", paramLabel = "<n>",
            description = "Override the transformer depth (width and heads stay); random weights only.")
    Integer depth;

    @Option(names = "--random", description = "Random weights of --preset instead of model files: any preset, no files needed.")
    boolean random;

    @Mixin
    TokenizerOption tokenizer;

    @Mixin
    ModelOption model;

    @Option(names = "--rounds", defaultValue = "1", paramLabel = "<n>",
            description = "Rounds; each runs both modes in fresh JVMs. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--reps", defaultValue = "2", paramLabel = "<n>",
            description = "Timed repetitions per JVM after the cold run. Default: ${DEFAULT-VALUE}.")
    int reps;

    @Mixin
    GuidanceOption guidance;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        int batchSize = batch.value();
        Usage.positive(spec.commandLine(), "--rounds", rounds);
        Usage.positive(spec.commandLine(), "--reps", reps);
        if (random && (tokenizer.given() || model.given())) {
            throw new ParameterException(spec.commandLine(), "--random and --tokenizer/--model exclude each other");
        }
        if (!random && depth != null) {
            throw new ParameterException(spec.commandLine(), "--depth changes the model: use it with --random");
        }
        if (depth != null) {
            Usage.positive(spec.commandLine(), "--depth", depth);
        }
        Preset p;
        Path tokenizerFile = null;
        Path modelFile = null;
        if (random) {
            p = preset.require();
        } else {
            tokenizerFile = tokenizer.file();
            modelFile = model.file();
            p = ModelFiles.preset(preset, modelFile, tokenizerFile);
            // The probes load the files in other JVMs: every check here, so an error is one clear line.
            ModelFile.check(tokenizerFile, ModelFile.Kind.TOKENIZER, p);
            ModelFile.check(modelFile, ModelFile.Kind.TRANSFORMER, p);
        }
        SamplingOptions settings = guidance.resolve(p, Mode.MVAR, 0);
        Device on = device.device();
        Precision compute = precision.resolve(on);
        TransformerConfig t = depth != null ? Probe.withDepth(p.transformer(), depth) : p.transformer();
        stdout.printf(Locale.ROOT, "MVAR vs VAR token generation: preset %s (depth %d, width %d, %d heads, V %d,"
                + " patch_nums %s), batch %d, %s, %s on %s, %s; %d round(s) x %d rep(s)%n",
                p.name(), t.depth(), t.width(), t.heads(), t.vocabSize(), t.schedule(), batchSize,
                random ? "random weights" : "weights of " + modelFile, compute, device.name(), settings.describe(), rounds,
                reps);
        stdout.flush();
        Path presetFile = Files.createTempFile("mvar-bench-", ".json");
        try {
            Files.writeString(presetFile, PresetJson.toJson(p), StandardCharsets.UTF_8);
            GenerationTask task = new GenerationTask(Mode.MVAR, presetFile.toAbsolutePath(), batchSize, reps, settings.cfg(),
                    settings.topK(), settings.topP(), settings.temperature(),
                    depth != null ? depth : 0, compute, Torch.name(on), false,
                    random ? null : tokenizerFile.toAbsolutePath(), random ? null : modelFile.toAbsolutePath());
            SamplingBenchmark.Comparison r = SamplingBenchmark.comparePreset(task, rounds,
                    step -> System.err.println("bench: " + step));
            stdout.println();
            stdout.printf("%s", r.table());
        } finally {
            Files.deleteIfExists(presetFile);
        }
        return 0;
    }
}
