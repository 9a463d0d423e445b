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

    /** One image: {@code [3, S, S]} pixels in [-1, 1] and its class index. */
    record Sample(float[] pixels, int label) {}
}
