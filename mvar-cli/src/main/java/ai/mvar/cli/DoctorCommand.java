package ai.mvar.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.Utils;
import ai.mvar.cuda.CudaDevice;
import ai.mvar.cuda.CudaModule;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mvar doctor}: which engine, libtorch and GPUs this installation runs on. */
@Command(name = "doctor",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        header = "Which PyTorch engine, libtorch and GPUs this installation uses, and whether the CUDA kernel loads.",
        description = {
            "Prints Java and DJL versions; the libtorch DJL loaded (version, CPU or CUDA build, the folder and the JNI library it came from, the PYTORCH_* overrides in effect); the GPUs the engine sees; the NVIDIA driver and every device it sees with its memory and compute capability; whether the fused neighbourhood-attention kernel (mvar-cuda) loaded and which PTX; and the default precision. Exit code 1 when the engine cannot load. See docs/gpu.md for choosing the CUDA engine."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar doctor",
            "  MVAR_ENGINE=auto ./mvar doctor    the libtorch DJL downloads for this machine"
        })
final class DoctorCommand implements Callable<Integer> {
    private static final String[] OVERRIDES = {"PYTORCH_LIBRARY_PATH", "PYTORCH_VERSION", "PYTORCH_FLAVOR", "DJL_CACHE_DIR"};

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "Java %s (%s)%n", System.getProperty("java.version"), System.getProperty("java.home"));
        out.printf(Locale.ROOT, "DJL %s, offline %s%n", Engine.getDjlVersion(), System.getProperty("ai.djl.offline", "not set"));
        int engineGpus = -1;
        try {
            Engine engine = Torch.engine();
            engineGpus = engine.getGpuCount();
            boolean cudaBuild = engine.hasCapability("CUDA");
            out.printf(Locale.ROOT, "libtorch %s, %s build, from %s%n", engine.getVersion(), cudaBuild ? "CUDA" : "CPU",
                    LibUtils.getLibtorchPath());
            loaded("djl_torch").ifPresent(jni -> out.printf(Locale.ROOT, "  JNI %s%n", jni));
            out.printf(Locale.ROOT, "  features %s%n", new TreeSet<>(JniUtils.getFeatures()));
            for (String key : OVERRIDES) {
                String v = Utils.getEnvOrSystemProperty(key);
                if (v != null) {
                    out.printf(Locale.ROOT, "  %s=%s%n", key, v);
                }
            }
            out.printf(Locale.ROOT, "  GPUs the engine sees: %d%n", engineGpus);
        } catch (IllegalStateException e) {
            out.printf(Locale.ROOT, "libtorch: cannot load: %s%n", Errors.oneLine(e));
        }
        int driverGpus = driver(out);
        if (engineGpus == 0 && driverGpus > 0) {
            out.println("  the driver sees GPUs the engine does not: DJL counts them through the CUDA runtime (libcudart)"
                    + " loaded with JNA; with a CUDA build of libtorch, point -Djna.library.path (MVAR_JAVA_OPTS) at the"
                    + " folder of libcudart.so.* (docs/gpu.md)");
        }
        Device device = engineGpus > 0 ? Device.gpu() : Device.cpu();
        out.printf(Locale.ROOT, "default device %s, default precision %s%n", engineGpus > 0 ? "gpu0" : "cpu",
                Precision.defaultFor(device));
        out.flush();
        return engineGpus < 0 ? 1 : 0;
    }

    /** The driver and its devices; the number of devices, 0 without a driver. */
    private static int driver(PrintWriter out) {
        int count;
        try {
            count = CudaDevice.count();
            out.printf(Locale.ROOT, "NVIDIA driver: CUDA %s, %d device(s)%n", CudaDevice.driverVersion(), count);
        } catch (RuntimeException | LinkageError e) {
            out.printf(Locale.ROOT, "NVIDIA driver: none (%s)%n", CudaModule.reason(e));
            return 0;
        }
        for (int i = 0; i < count; i++) {
            CudaDevice d = CudaDevice.open(i);
            long[] mem = d.memory();
            int[] cc = d.computeCapability();
            Optional<CudaModule> kernel = CudaModule.forDevice(i);
            out.printf(Locale.ROOT, "  gpu%d: %s, %.1f GiB (%.1f GiB free), compute capability %d.%d; neighbourhood kernel: %s%n",
                    i, d.name(), mem[1] / GIB, mem[0] / GIB, cc[0], cc[1],
                    kernel.map(m -> m.architecture() + " PTX loaded").orElse("not loaded (see --verbose)"));
        }
        return count;
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    /** The path of a loaded native library whose name contains {@code name}, from the process's memory map. */
    static Optional<String> loaded(String name) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(p -> p.startsWith("/") && Path.of(p).getFileName().toString().contains(name))
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
