package ai.mvar.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.mvar.nn.Tensors;
import ai.mvar.train.data.Augment;
import ai.mvar.train.data.ImageDataset;

/** Images {@code [start, end)} of a data set in order, unaugmented, as arrays. */
final class ImageArrays {
    private ImageArrays() {}

    record Batch(NDArray images, NDArray labels) {}

    static Batch of(ImageDataset data, int start, int end, NDManager manager) {
        int s = data.imageSize();
        int plane = 3 * s * s;
        float[] px = new float[(end - start) * plane];
        long[] labels = new long[end - start];
        for (int i = start; i < end; i++) {
            ImageDataset.Sample sample = data.sample(i, Augment.CENTRE);
            System.arraycopy(sample.pixels(), 0, px, (i - start) * plane, plane);
            labels[i - start] = sample.label();
        }
        return new Batch(Tensors.of(manager, px, new Shape(end - start, 3, s, s)), Tensors.of(manager, labels));
    }
}
