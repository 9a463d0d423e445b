package ai.mvar.cli;

import ai.mvar.checkpoint.CheckpointImporter;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.checkpoint.TorchCheckpointReader;
import ai.mvar.checkpoint.TorchTensor;
import ai.mvar.config.Preset;
import ai.mvar.config.Presets;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.tokenizer.VqVae;
import ai.mvar.tokenizer.VqVaeConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mvar import}: a PyTorch checkpoint converted to a model file. */
@Command(name = "import",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        header = "Convert a PyTorch .pth checkpoint to a safetensors model file.",
        description = {
            "Converts a PyTorch checkpoint (.pth: the official VAR/MVAR weights or a trainer checkpoint) to a safetensors model file, without Python and without running any code from the file. The state dict is found (or named with --key), checked against the preset's model (every missing, unexpected or mis-shaped key is reported and nothing is written), stripped of buffers the Java model derives, and written with the model-file metadata (kind, preset, mode). Without --preset the official shapes are used: the official tokenizer, or the official transformer of the depth the file has (preset d<depth> from configs/ when it matches)."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar import vae_ch160v4096z32.pth --kind tokenizer \\",
            "      --out models/vae_ch160v4096z32.safetensors",
            "  ./mvar import var_d16.pth --kind transformer --mode var \\",
            "      --out models/var_d16.safetensors",
            "  ./mvar import mvar-d16.pth --kind transformer --preset d16 \\",
            "      --key trainer.mvar_wo_ddp --out models/mvar_d16.safetensors"
        })
final class ImportCommand implements Callable<Integer> {
    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.");

    @Parameters(index = "0", paramLabel = "<checkpoint.pth>", description = "The PyTorch checkpoint.")
    Path checkpoint;

    @Option(names = "--kind", required = true, paramLabel = "<tokenizer|transformer>",
            description = "What the checkpoint holds.")
    ModelFile.Kind kind;

    @Mixin
    PresetOption preset;

    @Option(names = "--key", paramLabel = "<dotted.key>",
            description = "Where the state dict sits (e.g. trainer.mvar_wo_ddp; \"\" for the top level)."
                    + " Default: searched in the usual places.")
    String key;

    @Option(names = "--mode", paramLabel = "<mvar|var>",
            description = "Transformers: the mode the weights were trained in. Default: var when the file name starts"
                    + " with 'var', else mvar.")
    Mode mode;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "<file>", description = "The safetensors file to write.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        if (!Files.isRegularFile(checkpoint)) {
            throw new NoSuchFileException(checkpoint.toString(), null, "checkpoint not found");
        }
        Mode m = null;
        String modeNote = "";
        if (kind == ModelFile.Kind.TRANSFORMER) {
            m = mode;
            if (m == null) {
                m = checkpoint.getFileName().toString().toLowerCase(Locale.ROOT).startsWith("var") ? Mode.VAR : Mode.MVAR;
                modeNote = " (from the file name; --mode sets it)";
            }
        } else if (mode != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--mode applies to transformers only");
        }
        Preset p = preset.load();
        ParameterSpec parameterSpec;
        Map<String, String> metadata;
        Map<String, String> extra = Map.of("source", checkpoint.getFileName().toString());
        if (p != null) {
            parameterSpec = ModelFile.spec(kind, p);
            metadata = ModelFile.metadata(kind, p, m, extra);
        } else {
            Object official;
            if (kind == ModelFile.Kind.TOKENIZER) {
                official = VqVaeConfig.official();
                parameterSpec = VqVae.spec(VqVaeConfig.official());
                p = officialPreset("d16", official, true);
            } else {
                int depth = depth();
                official = TransformerConfig.official(depth);
                parameterSpec = Transformer.spec((TransformerConfig) official);
                p = officialPreset("d" + depth, official, false);
            }
            if (p != null) {
                metadata = ModelFile.metadata(kind, p, m, extra);
            } else {
                metadata = new LinkedHashMap<>(extra);
                metadata.put(ModelFile.KIND_KEY, kind.id());
                if (m != null) {
                    metadata.put(ModelFile.MODE_KEY, m.name().toLowerCase(Locale.ROOT));
                }
            }
        }
        CheckpointImporter.Report report = CheckpointImporter.importCheckpoint(checkpoint, key, parameterSpec, metadata, out);
        stdout.printf(Locale.ROOT, "wrote %s: %s%s, preset %s, %d tensors, %d bytes%n", report.output(), kind.id(),
                m == null ? "" : " (" + m.name() + modeNote + ")", p == null ? "none (official shapes; give --preset when loading)"
                        : p.name(), report.written().size(), Files.size(out));
        stdout.println("written tensors:");
        report.written().forEach(t -> stdout.println("  " + t));
        stdout.println("dropped buffers (derived by the Java model): "
                + (report.droppedBuffers().isEmpty() ? "none" : String.join(", ", report.droppedBuffers())));
        return 0;
    }

    /** The number of transformer blocks in the checkpoint's state dict. */
    private int depth() throws Exception {
        try (TorchCheckpointReader reader = TorchCheckpointReader.open(checkpoint)) {
            Map<String, TorchTensor> sd = reader.stateDict(key);
            int depth = 0;
            for (String k : sd.keySet()) {
                Matcher matcher = BLOCK.matcher(k);
                if (matcher.lookingAt()) {
                    depth = Math.max(depth, Integer.parseInt(matcher.group(1)) + 1);
                }
            }
            if (depth == 0) {
                throw new IllegalArgumentException(checkpoint + ": no blocks.<n>.* keys, not a VAR/MVAR transformer"
                        + " (is it a tokenizer? see --kind)");
            }
            return depth;
        }
    }

    /** The preset of configs/ whose part equals the official sizes, or null. */
    private static Preset officialPreset(String name, Object official, boolean tokenizerPart) {
        try {
            Preset p = Presets.load(name, Home.configs());
            return (tokenizerPart ? p.tokenizer() : p.transformer()).equals(official) ? p : null;
        } catch (Exception e) {
            return null;
        }
    }
}
