package ai.mvar.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model <file>}: the transformer model file, the bundled Fashion-MNIST MVAR model when not given. */
final class ModelOption {
    @Option(names = "--model", paramLabel = "<file>",
            description = "Transformer model file. Default: " + Home.BUNDLED_TRANSFORMER + " (bundled).")
    Path value;

    /** Whether {@code --model} was given. */
    boolean given() {
        return value != null;
    }

    /** The file given, else the bundled one; an error naming the file when it is missing or a folder. */
    Path file() throws IOException {
        return ModelFiles.existing(value, Home.BUNDLED_TRANSFORMER, "--model");
    }
}
