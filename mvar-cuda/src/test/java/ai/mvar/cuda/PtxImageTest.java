package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The committed PTX: present, complete, and built from the current kernel source. */
class PtxImageTest {
    static final List<String> ARCHS = List.of("compute_80", "compute_90");

    @Test
    void architectureByComputeCapability() {
        assertEquals(Optional.empty(), PtxImage.architectureFor(7, 5));
        assertEquals(Optional.of("compute_80"), PtxImage.architectureFor(8, 0));
        assertEquals(Optional.of("compute_80"), PtxImage.architectureFor(8, 9));
        assertEquals(Optional.of("compute_90"), PtxImage.architectureFor(9, 0));
        assertEquals(Optional.of("compute_90"), PtxImage.architectureFor(10, 0));
        assertEquals(Optional.of("compute_90"), PtxImage.architectureFor(12, 0));
    }

    @Test
    void everyEntryPointIsInEveryImage() {
        for (String arch : ARCHS) {
            byte[] image = PtxImage.load(arch);
            assertEquals(0, image[image.length - 1], "NUL-terminated for cuModuleLoadData");
            String ptx = new String(image, 0, image.length - 1, StandardCharsets.US_ASCII);
            assertTrue(ptx.contains(".target sm_" + arch.substring("compute_".length())), arch);
            for (Precision p : Precision.values()) {
                for (int d : NaGeometry.HEAD_DIMS) {
                    for (KernelEntry e : KernelEntry.values()) {
                        if (!e.supports(p)) {
                            continue;
                        }
                        String name = e.functionName(p, d);
                        assertTrue(ptx.contains(".visible .entry " + name + "("), arch + " lacks " + name);
                    }
                }
            }
        }
    }

    /** Runs without nvcc: editing the .cu without running kernels/build.sh fails here. */
    @Test
    void manifestMatchesSourceAndImages() throws Exception {
        Map<String, String> manifest = Files.readAllLines(resources().resolve(PtxImage.BASE + ".manifest")).stream()
                .filter(l -> !l.startsWith("nvcc:"))
                .map(l -> l.split("\\s+"))
                .collect(Collectors.toMap(f -> f[1], f -> f[0]));
        assertEquals(sha256(KernelSources.source()), manifest.get(PtxImage.BASE + ".cu"),
                "kernels/neighbourhood_attention.cu changed since the PTX was built: run kernels/build.sh");
        for (String arch : ARCHS) {
            byte[] image = PtxImage.load(arch);
            byte[] text = java.util.Arrays.copyOf(image, image.length - 1);
            String name = PtxImage.BASE + "." + arch + ".ptx";
            assertEquals(manifest.get(name), sha256(text), name + " edited by hand or stale");
        }
    }

    static Path resources() {
        return KernelSources.moduleDir().resolve("src/main/resources/ai/mvar/cuda/ptx");
    }

    private static String sha256(Path file) throws Exception {
        return sha256(Files.readAllBytes(file));
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
