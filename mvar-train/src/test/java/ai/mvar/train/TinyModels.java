package ai.mvar.train;

import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVaeConfig;
import ai.mvar.train.data.Augment;
import ai.mvar.train.data.ImageDataset;
import java.util.List;
import java.util.SplittableRandom;

/** Small shapes that keep tests fast on two cores. */
public final class TinyModels {
    private TinyModels() {}

    /** V 64, Cvae 8, ch 32, one downsampling, patch_nums 1,2,4,8: 16 px images. */
    public static VqVaeConfig tokenizer() {
        return new VqVaeConfig(64, 8, 32, new int[] {1, 2}, 1, 4, 0.5f, new ScaleSchedule(1, 2, 4, 8));
    }

    /** A 2-block transformer over {@link #tokenizer()}'s tokens: width 64, 2 heads, 3 classes, refine 2, k 3. */
    public static TransformerConfig transformer() {
        return new TransformerConfig(2, 64, 2, 64, 3, 8, tokenizer().schedule(), 2, 3, true, 4.0);
    }

    /** {@code n} seeded random images of side {@code size} with labels {@code i % 3}. */
    public static ImageDataset randomImages(int n, int size, long seed) {
        return new ImageDataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public int imageSize() {
                return size;
            }

            @Override
            public List<String> classNames() {
                return List.of("a", "b", "c");
            }

            @Override
            public Sample sample(int index, Augment augment) {
                SplittableRandom r = new SplittableRandom(seed * 1000 + index);
                float[] px = new float[3 * size * size];
                for (int i = 0; i < px.length; i++) {
                    px[i] = (float) (r.nextDouble() * 2 - 1);
                }
                if (augment.flip()) {
                    for (int c = 0; c < 3; c++) {
                        for (int y = 0; y < size; y++) {
                            for (int x = 0; x < size / 2; x++) {
                                int a = (c * size + y) * size + x;
                                int b = (c * size + y) * size + size - 1 - x;
                                float t = px[a];
                                px[a] = px[b];
                                px[b] = t;
                            }
                        }
                    }
                }
                return new Sample(px, index % 3);
            }
        };
    }
}
