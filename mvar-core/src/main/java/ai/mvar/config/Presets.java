package ai.mvar.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds presets: a path to a JSON file, or a name that resolves to {@code <configs>/<name>.json}
 * (the project's {@code configs/} folder).
 */
public final class Presets {
    private Presets() {}

    /**
     * Reads the preset named or pointed to by {@code nameOrPath}: an existing file, anything ending
     * in {@code .json} or containing a path separator is a path; anything else a name in {@code
     * configsDir}.
     *
     * @throws UnknownPresetException for a name that {@code configsDir} does not have
     * @throws NoSuchFileException for a path to no file
     */
    public static Preset load(String nameOrPath, Path configsDir) throws IOException {
        Path file = file(nameOrPath, configsDir);
        if (!Files.exists(file) && !looksLikePath(nameOrPath)) {
            throw new UnknownPresetException(file, "no preset named '" + nameOrPath + "' (known: "
                    + String.join(", ", names(configsDir)) + "; or give a preset JSON file)");
        }
        return PresetJson.read(file);
    }

    /** The file {@code nameOrPath} refers to (it may not exist). */
    public static Path file(String nameOrPath, Path configsDir) {
        if (looksLikePath(nameOrPath) || Files.isRegularFile(Path.of(nameOrPath))) {
            return Path.of(nameOrPath);
        }
        return configsDir.resolve(nameOrPath + ".json");
    }

    /** Names of the presets in {@code configsDir}, sorted; empty when the folder does not exist. */
    public static List<String> names(Path configsDir) {
        if (!Files.isDirectory(configsDir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(configsDir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - ".json".length()))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** A name that is neither a preset of the folder nor a file: a mistake in what was typed. */
    public static final class UnknownPresetException extends NoSuchFileException {
        UnknownPresetException(Path file, String reason) {
            super(file.toString(), null, reason);
        }
    }

    private static boolean looksLikePath(String s) {
        return s.endsWith(".json") || s.contains("/") || s.contains(java.io.File.separator);
    }
}
