package ai.mvar.train.data;

import ai.djl.ndarray.NDManager;
import java.io.IOException;

/**
 * Shuffled training batches from a {@link TokenCache}; with mirrored variants stored, each sample
 * takes one at random (the token-space form of the reference's random horizontal flip), drawn
 * from seeds derived from the data position so a resumed run sees the same batches.
 */
public final class TokenBatches {
    private final TokenCache cache;
    private final ShuffledBatches order;
    private final boolean flip;

    public TokenBatches(TokenCache cache, int batchSize, DataPosition from, boolean flip) {
        if (flip && !cache.hasFlipped()) {
            throw new IllegalArgumentException(cache.file() + " stores no mirrored variants to flip with");
        }
        this.cache = cache;
        this.order = new ShuffledBatches(cache.size(), batchSize, from);
        this.flip = flip;
    }

    /** The position of the next batch; save it to resume. */
    public DataPosition position() {
        return order.position();
    }

    public int batchesPerEpoch() {
        return order.batchesPerEpoch();
    }

    /** The next batch, created in {@code manager}. */
    public TokenCache.TokenBatch next(NDManager manager) throws IOException {
        ShuffledBatches.IndexBatch ib = order.next();
        boolean[] flipped = new boolean[ib.indices().length];
        for (int i = 0; i < flipped.length; i++) {
            flipped[i] = flip && ShuffledBatches.augmentRandom(ib.position(), i).nextBoolean();
        }
        TokenCache.TokenBatch b = cache.read(ib.indices(), flipped, manager);
        return new TokenCache.TokenBatch(b.indices(), b.labels(), ib.position());
    }
}
