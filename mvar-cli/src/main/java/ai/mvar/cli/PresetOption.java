package ai.mvar.cli;

import ai.mvar.config.Preset;
import ai.mvar.config.Presets;
import java.io.IOException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --preset <name|file>}: a preset name ({@code configs/<name>.json} in the project folder) or
 * a preset JSON file. Optional by itself: model files carry their preset, so commands fall back to
 * it; use {@link #require()} where a preset must be named.
 */
public final class PresetOption {
    @Option(names = "--preset", paramLabel = "<name|file>",
            description = "Preset: a name in configs/ (d16 .. d30, d16-512 .. d30-512, d16-1024, fashion-mnist, fashion-mnist-d4) or a preset JSON file."
                    + " Where model files are read, the default is the preset stored in them.")
    String value;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** Whether {@code --preset} was given. */
    public boolean given() {
        return value != null;
    }

    /** The text given, or null. */
    public String value() {
        return value;
    }

    /** The preset named by {@code --preset}, or null when it was not given. */
    public Preset load() throws IOException {
        return value == null ? null : resolve(value, mixee.commandLine());
    }

    /** The preset; a usage error when {@code --preset} was not given. */
    public Preset require() throws IOException {
        if (value == null) {
            throw new ParameterException(mixee.commandLine(), "missing --preset (one of "
                    + String.join(", ", Presets.names(Home.configs())) + ", or a preset JSON file)");
        }
        return resolve(value, mixee.commandLine());
    }

    /**
     * A preset by name (in the project's {@code configs/}) or by path; an unknown name is a usage
     * error of {@code command}, a path to no file a runtime error.
     */
    public static Preset resolve(String nameOrPath, CommandLine command) throws IOException {
        try {
            return Presets.load(nameOrPath, Home.configs());
        } catch (Presets.UnknownPresetException e) {
            throw new ParameterException(command, e.getReason(), e);
        }
    }
}
