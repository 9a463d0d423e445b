package ai.mvar.cli;

import ai.djl.Device;
import ai.mvar.nn.Precision;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --precision fp32|fp16|bf16}: the transformer's compute precision, by default the device's. */
public final class PrecisionOption {
    @Option(names = "--precision", paramLabel = "<fp32|fp16|bf16>",
            description = "Precision of the transformer's weights and matrix products: fp32, fp16 or bf16 (where the"
                    + " engine has it). Layer norms, softmax and the logits stay fp32, as under PyTorch's autocast."
                    + " Default: fp16 on a GPU, fp32 on the CPU.")
    Precision value;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The precision given, else {@code device}'s default; a usage error when the engine cannot compute in it. */
    public Precision resolve(Device device) {
        Precision p = value != null ? value : Precision.defaultFor(device);
        try {
            return p.requireSupported();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), "--precision " + p + ": " + e.getMessage());
        }
    }
}
