package ai.mvar.cli;

import ai.mvar.checkpoint.ModelFile;
import ai.mvar.checkpoint.TensorInfo;
import ai.mvar.config.Preset;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.sampling.MemoryEstimate;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mvar info}: what a preset or model file describes, its size and its memory needs. */
@Command(name = "info",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        header = "Configuration, parameter counts and a memory estimate of a preset or model file.",
        description = {
            "Prints the configuration of a preset or a model file (tokenizer, transformer, scale schedule, tokens, refine step, kernel), parameter counts (computed from the architecture, nothing is allocated), weight bytes, and an estimate of the memory sampling needs at --batch, VAR against MVAR:",
            MemoryEstimate.FORMULA
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar info d16 --batch 32",
            "  ./mvar info configs/fashion-mnist.json",
            "  ./mvar info models/fashion-mnist/mvar.safetensors",
            "  ./mvar info var_d16.safetensors --preset d16     (a plain safetensors file)"
        })
final class InfoCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<preset|file>",
            description = "A preset name (configs/<name>.json), a preset JSON file or a model file (.safetensors).")
    String target;

    @Mixin
    PresetOption preset;

    @Mixin
    BatchOption batch = new BatchOption(1);

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int batchSize = batch.value();
        PrintWriter out = spec.commandLine().getOut();
        Preset p;
        Path file = Path.of(target);
        if (Files.isRegularFile(file) && !target.endsWith(".json")) {
            ModelFile.Info info = ModelFile.info(file);
            out.printf(Locale.ROOT, "model file %s%n", file);
            out.printf(Locale.ROOT, "  kind: %s%n", info.kind() == null ? "not recorded (plain safetensors)" : info.kind().id());
            if (info.mode() != null) {
                out.printf(Locale.ROOT, "  trained as: %s%n", info.mode().name());
            }
            Map<String, Long> dtypes = new TreeMap<>();
            for (TensorInfo t : info.tensors().values()) {
                dtypes.merge(t.dtype().name(), t.byteSize(), Long::sum);
            }
            out.printf(Locale.ROOT, "  stored: %d tensors, %,d values, %s %s%n", info.tensors().size(), info.storedValues(),
                    bytes(info.weightBytes()), dtypes.keySet());
            info.extra().forEach((k, v) -> out.printf(Locale.ROOT, "  %s: %s%n", k, v));
            p = preset.load();
            if (p == null) {
                p = info.preset();
            }
            if (p == null) {
                out.println("  preset: not recorded; pass --preset to describe it");
                return 0;
            }
            out.println();
        } else {
            if (preset.given()) {
                throw new ParameterException(spec.commandLine(), "--preset applies to model files only");
            }
            p = PresetOption.resolve(target, spec.commandLine());
        }
        describe(out, p, batchSize);
        return 0;
    }

    private static void describe(PrintWriter out, Preset p, int batch) {
        VqVaeConfig v = p.tokenizer();
        TransformerConfig t = p.transformer();
        ScaleSchedule s = t.schedule();
        out.printf(Locale.ROOT, "preset %s%n", p.name());
        out.printf(Locale.ROOT, "  tokenizer:   V %d, Cvae %d, ch %d, ch_mult %s, %d res block(s), %d phi x %s; %d px images,"
                + " %dx down%n", v.vocabSize(), v.latentChannels(), v.channels(), Arrays.toString(v.channelMultipliers()),
                v.resBlocks(), v.phiCount(), v.phiRatio(), v.imageSize(), v.downsampling());
        out.printf(Locale.ROOT, "  transformer: depth %d, width %d, %d heads (dim %d), MLP %d, %d classes, attn_l2_norm %s%n",
                t.depth(), t.width(), t.heads(), t.headDim(), t.hiddenWidth(), t.classes(), t.attnL2Norm());
        out.printf(Locale.ROOT, "  schedule:    patch_nums %s: %d scales, %d tokens (largest map %dx%d)%n", s, s.scales(),
                s.length(), s.latentSide(), s.latentSide());
        String refine = t.refineStep() < s.scales()
                ? "neighbourhood attention from scale " + t.refineStep() + " (" + s.side(t.refineStep()) + "x"
                        + s.side(t.refineStep()) + ") on"
                : "no scale uses neighbourhood attention";
        out.printf(Locale.ROOT, "  MVAR:        refine_step %d (%s), kernel %dx%d%n", t.refineStep(), refine, t.kernelSize(),
                t.kernelSize());
        out.printf(Locale.ROOT, "  sampling:    %s%n", p.sampling().describe());
        out.printf(Locale.ROOT, "  classes:     %d (%s%s)%n", p.classNames().size(),
                String.join(", ", p.classNames().subList(0, Math.min(5, p.classNames().size()))),
                p.classNames().size() > 5 ? ", ..." : "");
        long tp = Transformer.spec(t).parameterCount();
        long vp = VqVae.spec(v).parameterCount();
        out.printf(Locale.ROOT, "parameters: transformer %,d (%s fp32, %s fp16), tokenizer %,d (%s fp32)%n", tp,
                bytes(4 * tp), bytes(2 * tp), vp, bytes(4 * vp));
        MemoryEstimate var = MemoryEstimate.of(p, Mode.VAR, batch, 4);
        MemoryEstimate mvar = MemoryEstimate.of(p, Mode.MVAR, batch, 4);
        out.printf(Locale.ROOT, "memory estimate for sampling a batch of %d (fp32; see --help for the formula):%n", batch);
        out.printf(Locale.ROOT, "  %-12s %12s %12s%n", "", "VAR", "MVAR");
        row(out, "weights", var.weightBytes(), mvar.weightBytes());
        row(out, "KV cache", var.kvCacheBytes(), mvar.kvCacheBytes());
        row(out, "activations", var.activationBytes(), mvar.activationBytes());
        row(out, "decoder", var.decoderBytes(), mvar.decoderBytes());
        row(out, "total", var.totalBytes(), mvar.totalBytes());
    }

    private static void row(PrintWriter out, String what, long a, long b) {
        out.printf(Locale.ROOT, "  %-12s %12s %12s%n", what, bytes(a), bytes(b));
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
