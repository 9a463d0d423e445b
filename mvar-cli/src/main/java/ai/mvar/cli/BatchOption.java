package ai.mvar.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --batch <n>}: how many images a command processes at once. Each command sets its own
 * default by initialising the mixin field, e.g. {@code @Mixin BatchOption batch = new BatchOption(16);}.
 */
final class BatchOption {
    @Option(names = "--batch", paramLabel = "<n>", description = "Images processed at once. Default: ${DEFAULT-VALUE}.")
    int value;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    BatchOption(int defaultValue) {
        value = defaultValue;
    }

    /** The batch size; a usage error when it is below 1. */
    int value() {
        return Usage.positive(mixee.commandLine(), "--batch", value);
    }
}
