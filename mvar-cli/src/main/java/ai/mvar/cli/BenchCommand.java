package ai.mvar.cli;

import ai.djl.Device;
import ai.mvar.bench.Probe;
import ai.mvar.bench.SamplingBenchmark;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Precision;
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
            "Measures token generation (decoding excluded: it is the same for both) in MVAR and VAR mode with the same weights, batch and settings: time per batch and peak memory, and their ratio. Every measurement runs in a fresh JVM (modes alternating between rounds), so its peak resident memory (VmHWM) belongs to that task alone; peak memory is the rise over what the process held with the weights loaded. Time is the median of the warm repetitions; the first, cold run gives the peak memory."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar bench --preset fashion-mnist --random --batch 16",
            "  ./mvar bench --preset d16 --random --batch 1   (official d16 size)",
            "  ./mvar bench --preset d16 --random --depth 6 --batch 8 --rounds 3",
            "  ./mvar bench --tokenizer models/fashion-mnist/tokenizer.safetensors \\",
            "        --model models/fashion-mnist/mvar.safetensors --batch 32"
        })
final class BenchCommand implements Callable<Integer> {
    @Mixin
    PresetOption preset;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "<n>", description = "Images per batch. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--depth", paramLabel = "<n>",
            description = "Override the transformer depth (width and heads stay); random weights only.")
    Integer depth;

    @Option(names = "--random", description = "Random weights: any preset, no model files needed.")
    boolean random;

    @Option(names = "--tokenizer", paramLabel = "<file>", description = "Tokenizer model file (instead of --random).")
    Path tokenizer;

    @Option(names = "--model", paramLabel = "<file>", description = "Transformer model file (instead of --random).")
    Path model;

    @Option(names = "--rounds", defaultValue = "1", paramLabel = "<n>",
            description = "Rounds; each runs both modes in fresh JVMs. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--reps", defaultValue = "2", paramLabel = "<n>",
            description = "Timed repetitions per JVM after the cold run. Default: ${DEFAULT-VALUE}.")
    int reps;

    @Mixin
    GuidanceOption guidance;

    @Mixin
    PrecisionOption precision;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        for (int[] v : new int[][] {{batch}, {rounds}, {reps}}) {
            if (v[0] < 1) {
                throw new ParameterException(spec.commandLine(), "--batch, --rounds and --reps must be at least 1");
            }
        }
        boolean files = tokenizer != null || model != null;
        if (random == files) {
            throw new ParameterException(spec.commandLine(), random ? "--random and --tokenizer/--model exclude each other"
                    : "give --random, or --tokenizer and --model");
        }
        if (files && (tokenizer == null || model == null)) {
            throw new ParameterException(spec.commandLine(), "give both --tokenizer and --model");
        }
        if (files && depth != null) {
            throw new ParameterException(spec.commandLine(), "--depth changes the model: use it with --random");
        }
        if (depth != null && depth < 1) {
            throw new ParameterException(spec.commandLine(), "--depth must be at least 1, got " + depth);
        }
        Preset p;
        if (files) {
            ModelFiles.existing(tokenizer, null, "--tokenizer");
            ModelFiles.existing(model, null, "--model");
            p = ModelFiles.preset(preset, model, tokenizer);
        } else {
            p = preset.require();
        }
        ai.mvar.sampling.SamplingOptions settings = guidance.resolve(p, ai.mvar.model.Mode.MVAR, 0);
        double c = settings.cfg();
        int k = settings.topK();
        double tp = settings.topP();
        Precision compute = precision.resolve(Device.cpu());
        TransformerConfig t = depth != null ? Probe.withDepth(p.transformer(), depth) : p.transformer();
        stdout.printf(Locale.ROOT, "MVAR vs VAR token generation: preset %s (depth %d, width %d, %d heads, V %d,"
                + " patch_nums %s), batch %d, %s, %s, cfg %s, top-k %d, top-p %s; %d round(s) x %d rep(s)%n",
                p.name(), t.depth(), t.width(), t.heads(), t.vocabSize(), t.schedule(), batch,
                files ? "weights of " + model : "random weights", compute, c, k, tp, rounds, reps);
        stdout.flush();
        Path presetFile = Files.createTempFile("mvar-bench-", ".json");
        try {
            Files.writeString(presetFile, PresetJson.toJson(p), StandardCharsets.UTF_8);
            SamplingBenchmark.Comparison r = SamplingBenchmark.comparePreset(presetFile.toAbsolutePath(), batch, rounds,
                    reps, c, k, tp, depth != null ? depth : 0, compute, files ? tokenizer.toAbsolutePath() : null,
                    files ? model.toAbsolutePath() : null, step -> System.err.println("bench: " + step));
            stdout.println();
            stdout.println("| mode | time per batch ms | peak memory MiB |");
            stdout.println("|---|---|---|");
            stdout.printf(Locale.ROOT, "| VAR (block-causal, KV cache) | %.1f | %.1f |%n", r.var().medianMillis(), r.var().peakMiB());
            stdout.printf(Locale.ROOT, "| MVAR (scale-Markov + neighbourhood) | %.1f | %.1f |%n", r.mvar().medianMillis(),
                    r.mvar().peakMiB());
            stdout.printf(Locale.ROOT, "| MVAR / VAR | %.2f | %.2f |%n", r.timeRatio(), r.memoryRatio());
        } finally {
            Files.deleteIfExists(presetFile);
        }
        return 0;
    }
}
