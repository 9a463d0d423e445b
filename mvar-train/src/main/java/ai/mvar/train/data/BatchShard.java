package ai.mvar.train.data;

/**
 * The part of every batch one rank of a data-parallel job computes: of a batch of {@code b}
 * samples, rank {@code r} of {@code n} takes the contiguous samples {@code [b r / n, b (r + 1) / n)},
 * so the shards tile the batch in rank order and differ in size by at most one sample.
 *
 * <p>Every rank draws the whole batch's order and random choices (flips, class dropout) from the
 * same generators and keeps its shard's part, so the ranks together see exactly the batch a
 * single process sees, whatever their number.
 */
public record BatchShard(int rank, int ranks) {
    public BatchShard {
        if (ranks < 1 || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("rank " + rank + " of " + ranks + " ranks");
        }
    }

    /** The whole batch: a job of one rank. */
    public static BatchShard whole() {
        return new BatchShard(0, 1);
    }

    /** The first sample of this shard in a batch of {@code batch}. */
    public int from(int batch) {
        return (int) ((long) batch * rank / ranks);
    }

    /** One past the last sample of this shard. */
    public int to(int batch) {
        return (int) ((long) batch * (rank + 1) / ranks);
    }

    /** The number of samples this shard holds of a batch of {@code batch}. */
    public int size(int batch) {
        return to(batch) - from(batch);
    }

    /** Throws unless every rank gets at least one sample of a batch of {@code batch}. */
    public void check(int batch) {
        if (batch < ranks) {
            throw new IllegalArgumentException("a batch of " + batch + " cannot be split over " + ranks
                    + " ranks: give each at least one sample (--batch is the whole batch, summed over the ranks)");
        }
    }
}
