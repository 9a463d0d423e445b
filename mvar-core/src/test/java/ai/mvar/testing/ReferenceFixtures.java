package ai.mvar.testing;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.checkpoint.TorchCheckpointReader;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;
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

    /** A file of the folder that must be present ({@code tiny-mvar-trainer.pth}, ...). */
    public static Path file(String name) {
        Path file = directory().resolve(name);
        if (!Files.isRegularFile(file)) {
            fail("reference fixture " + file + " does not exist");
        }
        return file;
    }

    /**
     * The fixture set whose MVAR weights the {@code .pth} checkpoints ({@code tiny-mvar-trainer.pth},
     * {@code tiny-mvar-legacy.pth}) were saved from: the one whose every {@code mvar.*} tensor the
     * trainer checkpoint holds with the same shape and bytes. The folder may hold other sets, with
     * other sizes or other weights, in any order.
     */
    public static FixtureSet checkpointSet() {
        Path pth = file("tiny-mvar-trainer.pth");
        try (NDManager m = Torch.newManager();
                TorchCheckpointReader reader = TorchCheckpointReader.open(pth);
                StateDict saved = reader.read(reader.stateDict(null), m.newSubManager())) {
            for (FixtureSet set : sets()) {
                try (StateDict all = set.mvarTensors(m.newSubManager());
                        StateDict weights = all.extract("mvar", m.newSubManager())) {
                    if (weights.keys().stream().allMatch(k -> saved.contains(k)
                            && saved.get(k).getShape().equals(weights.get(k).getShape())
                            && saved.get(k).toByteBuffer().equals(weights.get(k).toByteBuffer()))) {
                        return set;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return fail("no fixture set in " + directory() + " holds the weights of " + pth);
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
