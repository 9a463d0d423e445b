package ai.mvar.testing;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.nn.StateDict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The reference fixtures: outputs of the public PyTorch code that the Java implementation must
 * reproduce. The folder is {@code $MVAR_REFERENCE_DIR}, else the {@code mvar.reference.dir}
 * system property (set by the build to {@code ../shared/fixtures/reference}). A missing folder or
 * an empty one fails the test: parity is never skipped.
 */
public final class ReferenceFixtures {
    private ReferenceFixtures() {}

    public static Path directory() {
        String env = System.getenv("MVAR_REFERENCE_DIR");
        String prop = System.getProperty("mvar.reference.dir");
        String dir = env != null && !env.isBlank() ? env : prop;
        if (dir == null) {
            fail("reference fixtures not configured: set MVAR_REFERENCE_DIR");
        }
        Path path = Paths.get(dir).toAbsolutePath().normalize();
        if (!Files.isDirectory(path)) {
            fail("reference fixture folder " + path + " does not exist (set MVAR_REFERENCE_DIR)");
        }
        return path;
    }

    /** Every fixture set in the folder (one per {@code <set>-mvar.safetensors}); never empty. */
    public static List<FixtureSet> sets() {
        Path dir = directory();
        try (Stream<Path> files = Files.list(dir)) {
            List<FixtureSet> sets = files.filter(f -> f.getFileName().toString().endsWith("-mvar.safetensors"))
                    .sorted()
                    .map(FixtureSet::open)
                    .collect(Collectors.toList());
            if (sets.isEmpty()) {
                fail("no fixture sets (*-mvar.safetensors) in " + dir);
            }
            return sets;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The VQ-VAE weights of the folder ({@code vae.*} keys of every {@code *-vae-*.safetensors}), prefix removed. */
    public static StateDict vaeWeights(NDManager manager) {
        Path dir = directory();
        StateDict all = new StateDict(manager, dir + "/*-vae-*.safetensors");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> parts = files.filter(f -> f.getFileName().toString().matches(".*-vae-.*\\.safetensors"))
                    .sorted()
                    .collect(Collectors.toList());
            if (parts.isEmpty()) {
                fail("no VQ-VAE weights (*-vae-*.safetensors) in " + dir);
            }
            for (Path part : parts) {
                try (StateDict sd = SafeTensorsReader.readAll(part, manager.newSubManager())) {
                    for (String key : List.copyOf(sd.keys())) {
                        all.put(key, sd.get(key));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all.extract("vae", manager.newSubManager());
    }
}
