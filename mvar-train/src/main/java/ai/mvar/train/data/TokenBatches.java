package ai.mvar.train.data;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.Arrays;

/**
 * Shuffled training batches from a {@link TokenCache}; with mirrored variants stored, each sample
 * takes one at random (the token-space form of the reference's random horizontal flip), drawn
 * from seeds derived from the data position so a resumed run sees the same batches. A rank of a
 * data-parallel job reads only its {@link BatchShard} of each batch; order and flips are those of
 * the whole batch.
 */
public final class TokenBatches {
    private final TokenCache cache;
    private final ShuffledBatches order;
    private final boolean flip;
    private final BatchShard shard;

    /** The whole of each batch. */
    public TokenBatches(TokenCache cache, int batchSize, DataPosition from, boolean flip) {
        this(cache, batchSize, from, flip, BatchShard.whole());
    }

    /** {@code shard}'s part of each batch of {@code batchSize}. */
    public TokenBatches(TokenCache cache, int batchSize, DataPosition from, boolean flip, BatchShard shard) {
        if (flip && !cache.hasFlipped()) {
            throw new IllegalArgumentException(cache.file() + " stores no mirrored variants to flip with");
        }
        this.cache = cache;
        this.order = new ShuffledBatches(cache.size(), batchSize, from);
        this.flip = flip;
        shard.check(batchSize);
        this.shard = shard;
    }

    /** The position of the next batch; save it to resume. */
    public DataPosition position() {
        return order.position();
    }

    public int batchesPerEpoch() {
        return order.batchesPerEpoch();
    }

    /** This shard of the next batch, created in {@code manager}. */
    public TokenCache.TokenBatch next(NDManager manager) throws IOException {
        ShuffledBatches.IndexBatch ib = order.next();
        int from = shard.from(ib.indices().length);
        int[] mine = Arrays.copyOfRange(ib.indices(), from, shard.to(ib.indices().length));
        boolean[] flipped = new boolean[mine.length];
        for (int i = 0; i < flipped.length; i++) {
            flipped[i] = flip && ShuffledBatches.augmentRandom(ib.position(), from + i).nextBoolean();
        }
        TokenCache.TokenBatch b = cache.read(mine, flipped, manager);
        return new TokenCache.TokenBatch(b.indices(), b.labels(), ib.position());
    }
}
