package ai.mvar.train.data;

import java.util.List;

/**
 * Labelled square images of one size, addressed by index. Pixels come out as {@code [3, S, S]}
 * row-major floats in [-1, 1], the tokenizer's input range.
 */
public interface ImageDataset {

    /** Number of images. */
    int size();

    /** Side S of every image this data set produces. */
    int imageSize();

    /** Class names; a label is an index into this list. */
    List<String> classNames();

    /** The image at {@code index} after {@code augment}, with its label. */
    Sample sample(int index, Augment augment);

    /** A view of the first {@code n} images (for quick runs and tests on a slice of a data set). */
    default ImageDataset first(int n) {
        if (n < 1 || n > size()) {
            throw new IllegalArgumentException("cannot take the first " + n + " of " + size() + " images");
        }
        ImageDataset all = this;
        return new ImageDataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public int imageSize() {
                return all.imageSize();
            }

            @Override
            public List<String> classNames() {
                return all.classNames();
            }

            @Override
            public Sample sample(int index, Augment augment) {
                return all.sample(index, augment);
            }
        };
    }

    /** One image: {@code [3, S, S]} pixels in [-1, 1] and its class index. */
    record Sample(float[] pixels, int label) {}
}
