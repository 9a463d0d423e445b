package ai.mvar.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --tokenizer <file>}: the tokenizer model file, the bundled Fashion-MNIST tokenizer when not given. */
final class TokenizerOption {
    @Option(names = "--tokenizer", paramLabel = "<file>",
            description = "Tokenizer model file. Default: " + Home.BUNDLED_TOKENIZER + " (bundled).")
    Path value;

    /** Whether {@code --tokenizer} was given. */
    boolean given() {
        return value != null;
    }

    /** The file given, else the bundled one; an error naming the file when it is missing or a folder. */
    Path file() throws IOException {
        return ModelFiles.existing(value, Home.BUNDLED_TOKENIZER, "--tokenizer");
    }
}
