package ai.mvar.nn;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * Entry point to DJL's PyTorch engine. Loading is offline unless {@code ai.djl.offline} says
 * otherwise: libtorch comes from the {@code pytorch-native-cpu} artifact on the class path or from
 * {@code PYTORCH_LIBRARY_PATH}, never from a download; {@code -Dai.djl.offline=false} (the
 * launcher's {@code MVAR_ENGINE=auto}) lets DJL download the build that fits the machine, CUDA
 * included (docs/gpu.md).
 */
public final class Torch {
    public static final String ENGINE = "PyTorch";
    static final String NATIVE_HINT =
            "add the Maven dependency ai.djl.pytorch:pytorch-native-cpu:2.7.1 with classifier"
                    + " linux-x86_64 (and ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0), or for a GPU see docs/gpu.md";

    private Torch() {}

    /** The PyTorch engine, or an error that names the artifact to add. */
    public static Engine engine() {
        // DJL otherwise tries to download a native library it cannot find.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        try {
            Engine engine = Engine.getEngine(ENGINE);
            if (engine == null) {
                throw new IllegalStateException("DJL PyTorch engine not found: " + NATIVE_HINT);
            }
            return engine;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            if (e instanceof IllegalStateException && e.getMessage().contains(NATIVE_HINT)) {
                throw (IllegalStateException) e;
            }
            throw new IllegalStateException(
                    "Could not load the PyTorch native library (" + e.getMessage() + "): "
                            + NATIVE_HINT,
                    e);
        }
    }

    /** A root manager on the given device of the PyTorch engine. */
    public static NDManager newManager(Device device) {
        return engine().newBaseManager(device);
    }

    /** {@code cpu} or {@code gpu<N>} as a device. */
    public static Device device(String name) {
        if (name.equals("cpu")) {
            return Device.cpu();
        }
        if (name.matches("gpu\\d+")) {
            return Device.gpu(Integer.parseInt(name.substring(3)));
        }
        throw new IllegalArgumentException("device '" + name + "' is neither cpu nor gpu<N>");
    }

    /** The name {@link #device(String)} reads: {@code cpu} or {@code gpu<N>}. */
    public static String name(Device device) {
        return device.isGpu() ? "gpu" + device.getDeviceId() : "cpu";
    }

    /** A root manager on the CPU. */
    public static NDManager newManager() {
        return newManager(Device.cpu());
    }
}
