package ai.mvar.train.data;

import java.util.SplittableRandom;

/**
 * How one image is augmented: where the final square is cropped from the resized image (as
 * fractions of the free room, 0.5 = centred) and whether it is mirrored left to right.
 *
 * <p>Augmentations are drawn from a generator seeded by the data position, never from shared
 * state, so a resumed run sees exactly the images an uninterrupted one would.
 */
public record Augment(double cropX, double cropY, boolean flip) {
    /** Centre crop, no flip: the reference's validation transform and the token cache's input. */
    public static final Augment CENTRE = new Augment(0.5, 0.5, false);
    /** Centre crop, mirrored. */
    public static final Augment CENTRE_FLIPPED = new Augment(0.5, 0.5, true);

    public Augment {
        if (!(cropX >= 0 && cropX <= 1 && cropY >= 0 && cropY <= 1)) {
            throw new IllegalArgumentException("crop fractions must lie in [0, 1], got " + cropX + ", " + cropY);
        }
    }

    /**
     * A training augmentation: a random crop when {@code randomCrop} (the reference's {@code
     * RandomCrop}), else centred, and a mirror with probability 1/2 when {@code flip} is allowed.
     */
    public static Augment draw(SplittableRandom random, boolean randomCrop, boolean flip) {
        double x = randomCrop ? random.nextDouble() : 0.5;
        double y = randomCrop ? random.nextDouble() : 0.5;
        return new Augment(x, y, flip && random.nextBoolean());
    }

    /** Offset of the crop along an axis with {@code room} spare pixels. */
    int offset(double fraction, int room) {
        if (fraction == 0.5) {
            return (int) Math.rint(room / 2.0); // torchvision's CenterCrop rounds half to even
        }
        return Math.min(room, (int) Math.floor(fraction * (room + 1))); // uniform over 0..room
    }
}
