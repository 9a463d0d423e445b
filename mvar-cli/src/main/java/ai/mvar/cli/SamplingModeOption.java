package ai.mvar.cli;

import ai.mvar.checkpoint.ModelFile;
import ai.mvar.model.Mode;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --mode mvar|var} of the sampling commands: by default the mode the model file was trained in. */
final class SamplingModeOption {
    @Option(names = "--mode", paramLabel = "<mvar|var>",
            description = "MVAR (no KV cache, neighbourhood attention) or VAR. Default: the mode the model was trained in.")
    Mode value;

    /** The mode given, else the model file's {@code mvar.mode} (read from its header), else MVAR. */
    Mode resolve(Path modelFile) throws IOException {
        if (value != null) {
            return value;
        }
        Mode stored = ModelFile.info(modelFile).mode();
        return stored != null ? stored : Mode.MVAR;
    }
}
