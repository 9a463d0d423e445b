package ai.mvar.cuda;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the module and the top-level kernels/ folder are, for tests run by Maven. */
final class KernelSources {
    private KernelSources() {}

    /** mvar-cuda's folder: surefire's basedir, else the working directory. */
    static Path moduleDir() {
        String basedir = System.getProperty("basedir");
        Path dir = Path.of(basedir != null ? basedir : "").toAbsolutePath().normalize();
        if (!Files.isDirectory(dir.resolve("src/main/resources/ai/mvar/cuda/ptx"))) {
            throw new IllegalStateException(dir + " is not the mvar-cuda module folder");
        }
        return dir;
    }

    static Path kernelsDir() {
        return moduleDir().getParent().resolve("kernels");
    }

    static Path source() {
        return kernelsDir().resolve("neighbourhood_attention.cu");
    }
}
