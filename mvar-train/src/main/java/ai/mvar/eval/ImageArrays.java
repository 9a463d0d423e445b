package ai.mvar.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Tensors;
import ai.mvar.train.data.Augment;
import ai.mvar.train.data.ImageDataset;
import java.util.stream.IntStream;

/** Images of a data set, unaugmented and in the order asked, as arrays. */
final class ImageArrays {
    private ImageArrays() {}

    record Batch(NDArray images, NDArray labels) {}

    /** Images {@code [start, end)}. */
    static Batch of(ImageDataset data, int start, int end, NDManager manager) {
        return of(data, IntStream.range(start, end).toArray(), manager);
    }

    /** The images at {@code indices}. */
    static Batch of(ImageDataset data, int[] indices, NDManager manager) {
        int s = data.imageSize();
        int plane = 3 * s * s;
        float[] px = new float[indices.length * plane];
        long[] labels = new long[indices.length];
        for (int i = 0; i < indices.length; i++) {
            ImageDataset.Sample sample = data.sample(indices[i], Augment.CENTRE);
            System.arraycopy(sample.pixels(), 0, px, i * plane, plane);
            labels[i] = sample.label();
        }
        return new Batch(Tensors.of(manager, px, new Shape(indices.length, 3, s, s)), Tensors.of(manager, labels));
    }
}
