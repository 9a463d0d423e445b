package ai.mvar.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ShuffledBatchesTest {

    @Test
    void everyEpochVisitsEachSampleOnceAndDropsThePartialBatch() {
        ShuffledBatches b = new ShuffledBatches(10, 3, DataPosition.start(7));
        assertEquals(3, b.batchesPerEpoch());
        boolean[] seen = new boolean[10];
        for (int i = 0; i < 3; i++) {
            for (int idx : b.next().indices()) {
                assertFalse(seen[idx]);
                seen[idx] = true;
            }
        }
        assertEquals(new DataPosition(7, 0, 9), b.position());
        assertEquals(1, b.next().position().epoch(), "the tenth sample alone is not a batch");
    }

    @Test
    void resumingFromASavedPositionRepeatsTheSameBatches() {
        ShuffledBatches run = new ShuffledBatches(11, 4, DataPosition.start(42));
        for (int i = 0; i < 3; i++) {
            run.next();
        }
        DataPosition saved = DataPosition.parse(run.position().toString());
        ShuffledBatches resumed = new ShuffledBatches(11, 4, saved);
        for (int i = 0; i < 7; i++) {
            ShuffledBatches.IndexBatch a = run.next();
            ShuffledBatches.IndexBatch b = resumed.next();
            assertArrayEquals(a.indices(), b.indices());
            assertEquals(a.position(), b.position());
            assertEquals(ShuffledBatches.augmentRandom(a.position(), 1).nextLong(),
                    ShuffledBatches.augmentRandom(b.position(), 1).nextLong());
        }
    }

    @Test
    void seedsAndEpochsGiveDifferentOrders() {
        int[] a = ShuffledBatches.permutation(1, 0, 50);
        assertFalse(Arrays.equals(a, ShuffledBatches.permutation(2, 0, 50)));
        assertFalse(Arrays.equals(a, ShuffledBatches.permutation(1, 1, 50)));
        assertArrayEquals(a, ShuffledBatches.permutation(1, 0, 50));
    }
}
