package ai.mvar.cli;

import ai.mvar.config.Preset;
import ai.mvar.config.Temperature;
import ai.mvar.model.Mode;
import ai.mvar.sampling.SamplingOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --cfg}, {@code --top-k}, {@code --top-p}, {@code --temperature}: sampling settings, each defaulting to the preset's. */
public final class GuidanceOption {
    @Option(names = "--cfg", paramLabel = "<x>", description = "Classifier-free guidance strength. Default: the preset's.")
    Double cfg;

    @Option(names = "--top-k", paramLabel = "<n>", description = "Keep the n most likely tokens (0: all). Default: the preset's.")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "<x>", description = "Nucleus sampling threshold (0: off). Default: the preset's.")
    Double topP;

    @Option(names = "--temperature", paramLabel = "<x>[,<x>...]", description = "Divides the guided logits before top-k"
            + " and top-p: one value for every scale, or one per scale (1: the reference's sampler; above 1 more varied"
            + " tokens, below 1 more likely ones). Default: the preset's.")
    String temperature;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The settings for {@code mode} and {@code seed}; a usage error when a value is out of range. */
    public SamplingOptions resolve(Preset p, Mode mode, long seed) {
        try {
            return new SamplingOptions(mode, cfg != null ? cfg : p.sampling().cfg(), topK != null ? topK : p.sampling().topK(),
                    topP != null ? topP : p.sampling().topP(),
                    (temperature != null ? Temperature.parse(temperature) : p.sampling().temperature())
                            .checkScales(p.transformer().schedule().scales()),
                    seed);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), e.getMessage());
        }
    }
}
