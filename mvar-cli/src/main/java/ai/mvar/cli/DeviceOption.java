package ai.mvar.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.mvar.nn.Torch;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --device cpu|gpu|gpu<N>}: where the PyTorch engine computes. */
public final class DeviceOption {
    @Option(names = "--device", paramLabel = "<cpu|gpuN>", defaultValue = "cpu",
            description = "Where to compute: cpu, gpu (= gpu0) or gpu<N>. Default: ${DEFAULT-VALUE}.")
    String value;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The device; a usage error for an unknown name, a runtime error when that GPU is not visible. */
    public Device device() {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), e.getMessage());
        }
    }

    /**
     * {@code cpu}, {@code gpu} (= gpu0) or {@code gpu<N>}.
     *
     * @throws IllegalArgumentException for another name
     * @throws IllegalStateException when the engine does not see that GPU
     */
    public static Device parse(String name) {
        String v = name.trim().toLowerCase(Locale.ROOT);
        if (v.equals("cpu")) {
            return Device.cpu();
        }
        if (v.matches("gpu\\d*")) {
            int index = v.equals("gpu") ? 0 : Integer.parseInt(v.substring(3));
            int gpus = Torch.engine().getGpuCount();
            if (index >= gpus) {
                throw new IllegalStateException("device " + name + " is not available: the PyTorch engine sees " + gpus
                        + " GPU(s)" + (gpus == 0 ? " (this build ships the CPU engine; use cpu)" : ""));
            }
            return Device.gpu(index);
        }
        throw new IllegalArgumentException("unknown device '" + name + "' (cpu, gpu or gpu<N>)");
    }

    /** A root manager on the chosen device. */
    public NDManager newManager() {
        return Torch.newManager(device());
    }

    /** The option's text, for messages. */
    public String name() {
        return value;
    }
}
