package ai.mvar.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Tensors;

/**
 * Training batches of an {@link ImageDataset}: shuffled, augmented (random or centre crop, random
 * mirror) from seeds derived from the data position, as {@code [B, 3, S, S]} float32 images in
 * [-1, 1] and {@code [B]} int64 labels.
 */
public final class ImageBatches {
    private final ImageDataset dataset;
    private final ShuffledBatches order;
    private final boolean randomCrop;
    private final boolean flip;

    public ImageBatches(ImageDataset dataset, int batchSize, DataPosition from, boolean randomCrop, boolean flip) {
        this.dataset = dataset;
        this.order = new ShuffledBatches(dataset.size(), batchSize, from);
        this.randomCrop = randomCrop;
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
    public ImageBatch next(NDManager manager) {
        ShuffledBatches.IndexBatch ib = order.next();
        int b = ib.indices().length;
        int s = dataset.imageSize();
        int plane = 3 * s * s;
        float[] pixels = new float[b * plane];
        long[] labels = new long[b];
        for (int i = 0; i < b; i++) {
            Augment a = Augment.draw(ShuffledBatches.augmentRandom(ib.position(), i), randomCrop, flip);
            ImageDataset.Sample sample = dataset.sample(ib.indices()[i], a);
            System.arraycopy(sample.pixels(), 0, pixels, i * plane, plane);
            labels[i] = sample.label();
        }
        return new ImageBatch(Tensors.of(manager, pixels, new Shape(b, 3, s, s)), Tensors.of(manager, labels), ib.position());
    }

    /** Images {@code [B,3,S,S]}, labels {@code [B]} and where the batch was drawn. */
    public record ImageBatch(NDArray images, NDArray labels, DataPosition position) implements AutoCloseable {
        @Override
        public void close() {
            images.close();
            labels.close();
        }
    }
}
