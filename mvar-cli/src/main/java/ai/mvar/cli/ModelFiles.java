package ai.mvar.cli;

import ai.mvar.checkpoint.ModelFile;
import ai.mvar.config.Preset;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Model-file arguments: the bundled defaults and the preset they imply. */
final class ModelFiles {
    static final String BUNDLED_HINT = "the bundled Fashion-MNIST model is not in this checkout;"
            + " pass --model <file> and --tokenizer <file>";

    private ModelFiles() {}

    /** {@code given} if it is a file, else (when not given) the bundled file; a clear error when missing. */
    static Path existing(Path given, String bundled, String option) throws FileSystemException {
        if (given != null) {
            return existing(given, option);
        }
        Path file = Home.resolve(bundled);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, BUNDLED_HINT);
        }
        return file;
    }

    /** {@code file} when it is a regular file; an error naming it and {@code option} when it is missing or a folder. */
    static Path existing(Path file, String option) throws FileSystemException {
        if (Files.isDirectory(file)) {
            throw new FileSystemException(file.toString(), null, "a folder; " + option + " takes a file");
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, option + " file not found");
        }
        return file;
    }

    /** The preset of {@code --preset}, else the first of {@code files} that stores one. */
    static Preset preset(PresetOption option, Path... files) throws IOException {
        Preset p = option.load();
        if (p != null) {
            return p;
        }
        for (Path f : files) {
            ModelFile.Info info = ModelFile.info(f);
            if (info.preset() != null) {
                return info.preset();
            }
        }
        throw new IllegalArgumentException(files[0] + ": no '" + ModelFile.PRESET_KEY
                + "' in the header metadata (a plain safetensors file); pass --preset");
    }
}
