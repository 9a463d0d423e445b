package ai.mvar.cli;

import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds a preset by name ({@code configs/<name>.json} under the installation) or by file. */
final class Presets {
    private Presets() {}

    /** The installation folder: {@code -Dmvar.home} (set by the launcher), else the working directory. */
    static Path home() {
        return Path.of(System.getProperty("mvar.home", "."));
    }

    static Preset resolve(String nameOrFile) throws IOException {
        Path file = Path.of(nameOrFile);
        if (!nameOrFile.endsWith(".json") || !Files.exists(file)) {
            Path named = home().resolve("configs").resolve(nameOrFile + ".json");
            if (Files.exists(named)) {
                file = named;
            } else if (!Files.exists(file)) {
                throw new IllegalArgumentException("unknown preset '" + nameOrFile + "': neither a file nor " + named);
            }
        }
        return PresetJson.read(file);
    }
}
