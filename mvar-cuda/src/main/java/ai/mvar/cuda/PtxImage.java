package ai.mvar.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Optional;

/** The committed PTX of {@code kernels/neighbourhood_attention.cu} and which one a device runs. */
public final class PtxImage {
    static final String FOLDER = "/ai/mvar/cuda/ptx/";
    static final String BASE = "neighbourhood_attention";

    private PtxImage() {}

    /**
     * The virtual architecture to load on a device of this compute capability: the newest one
     * not above it, since the driver JIT-compiles PTX only forward. Empty below 8.0 (no PTX).
     */
    public static Optional<String> architectureFor(int major, int minor) {
        if (major >= 9) {
            return Optional.of("compute_90");
        }
        if (major == 8) {
            return Optional.of("compute_80");
        }
        return Optional.empty();
    }

    public static String resourceName(String architecture) {
        return FOLDER + BASE + "." + architecture + ".ptx";
    }

    /** The PTX text as a NUL-terminated image, the form cuModuleLoadData expects. */
    public static byte[] load(String architecture) {
        String name = resourceName(architecture);
        try (InputStream in = PtxImage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + name + " missing from the mvar-cuda jar");
            }
            byte[] text = in.readAllBytes();
            return Arrays.copyOf(text, text.length + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
