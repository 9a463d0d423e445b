package ai.mvar.cli;

import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mvar set-preset}: a model file with another preset in its header, the weights untouched. */
@Command(name = "set-preset",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        header = "Write a model file with another preset in its header (sampling settings chosen after training).",
        description = {
            "A model file carries its preset, so `mvar sample` and `mvar eval` use the sampling settings it was trained with. This writes a copy whose header holds --preset instead: settings chosen after training (cfg, top-k, top-p, temperature) or other class names. The preset must describe the same model (every weight's name and shape is checked, nothing is written otherwise); the tensors are copied byte for byte and the other metadata (kind, mode, training records) kept. The file is written atomically, so --out may be the file itself."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar set-preset runs/fm-mvar-3/mvar.safetensors --preset fashion-mnist \\",
            "      -o models/fashion-mnist/mvar.safetensors"
        })
final class SetPresetCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<model.safetensors>", description = "The model file to copy.")
    Path source;

    @Mixin
    PresetOption preset;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "<file>", description = "The model file to write.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Preset p = preset.require();
        ModelFile.Info written = ModelFile.withPreset(source, p, out);
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf(Locale.ROOT, "%s: %s (%d tensors from %s), preset %s, sampling %s%n", out, written.kind().id(),
                written.tensors().size(), source, p.name(), p.sampling().describe());
        return 0;
    }
}
