package ai.mvar.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.ProcessMemory;
import ai.mvar.nn.Torch;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Encoding batch after batch frees every intermediate: array counts and resident memory stay flat. */
class EncodingMemoryTest {
    private static final int BATCHES = 20;

    @Test
    void twentyBatchesKeepNativeMemoryFlat() {
        VqVaeConfig config = VqVaeConfig.of(64, 8, 32, new ScaleSchedule(1, 2, 4));
        try (NDManager manager = Torch.newManager(); VqVae vae = VqVae.random(config, manager, 1)) {
            int weightArrays = vae.weights().manager().getManagedArrays().size();
            long[] resident = new long[BATCHES];
            for (int i = 0; i < BATCHES; i++) {
                try (NDManager batch = manager.newSubManager()) {
                    NDArray images = batch.randomUniform(-1, 1, new Shape(4, 3, config.imageSize(), config.imageSize()));
                    List<NDArray> indices = vae.encode(images);
                    NDArray recon = vae.decodeIndices(indices);
                    assertEquals(config.schedule().scales() + 2, batch.getManagedArrays().size(),
                            "only the images, the indices and the reconstruction live in the batch scope");
                    recon.close();
                }
                assertEquals(weightArrays, vae.weights().manager().getManagedArrays().size(),
                        "no intermediate left in the weights' manager after batch " + i);
                resident[i] = nativeResidentBytes();
            }
            // A leak of one batch's intermediates is tens of MiB; allocator and JIT noise is a few once
            // freed C heap is returned and the Java heap's own growth is taken out.
            long growth = resident[BATCHES - 1] - resident[BATCHES / 2];
            assertTrue(growth < 32L << 20, "resident memory grew by " + (growth >> 20) + " MiB over the last "
                    + BATCHES / 2 + " batches: " + Arrays.toString(Arrays.stream(resident).map(r -> r >> 20).toArray()));
        }
    }

    /**
     * Resident memory less the committed Java heap, after the C heap returned its free pages: the
     * surefire JVM's heap may expand by tens of MiB mid-test, which is not native memory kept.
     */
    private static long nativeResidentBytes() {
        ProcessMemory.trimNativeHeap();
        return ProcessMemory.residentBytes() - Runtime.getRuntime().totalMemory();
    }
}
