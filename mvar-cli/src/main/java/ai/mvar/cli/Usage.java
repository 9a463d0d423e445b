package ai.mvar.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Checks of option values that picocli's types do not express; each failure is a usage error (exit 2). */
final class Usage {
    private Usage() {}

    /** {@code value} when it is at least 1; else a usage error naming {@code option}. */
    static int positive(CommandLine command, String option, int value) {
        if (value < 1) {
            throw new ParameterException(command, option + " must be at least 1, got " + value);
        }
        return value;
    }
}
