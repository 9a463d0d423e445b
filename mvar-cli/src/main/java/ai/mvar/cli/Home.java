package ai.mvar.cli;

import java.nio.file.Path;

/**
 * The project folder the launcher runs from: system property {@code mvar.home} (set by {@code
 * ./mvar}), else the working directory. Presets are found in its {@code configs/}, the bundled
 * model in its {@code models/}.
 */
public final class Home {
    public static final String PROPERTY = "mvar.home";
    /** Where the bundled Fashion-MNIST model lives, relative to the home folder. */
    public static final String BUNDLED_MODEL_DIR = "models/fashion-mnist";
    public static final String BUNDLED_TOKENIZER = BUNDLED_MODEL_DIR + "/tokenizer.safetensors";
    public static final String BUNDLED_TRANSFORMER = BUNDLED_MODEL_DIR + "/mvar.safetensors";

    private Home() {}

    public static Path dir() {
        String home = System.getProperty(PROPERTY);
        return (home == null || home.isBlank() ? Path.of("") : Path.of(home)).toAbsolutePath().normalize();
    }

    /** The preset folder. */
    public static Path configs() {
        return dir().resolve("configs");
    }

    /** A path below the home folder. */
    public static Path resolve(String relative) {
        return dir().resolve(relative);
    }
}
