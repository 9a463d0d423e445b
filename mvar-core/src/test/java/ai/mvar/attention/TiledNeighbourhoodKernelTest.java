package ai.mvar.attention;

import static ai.mvar.testing.Tolerance.assertClose;
import static ai.mvar.testing.Tolerance.assertParity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.mvar.nn.Torch;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tiled kernel on the sizes the fixtures do not cover, against an attention written out query
 * by query in double precision: k = 1, k = p, maps smaller than the window, tiles that do not
 * divide the map; fp16 inputs; gradients; and the cost model's choices.
 */
class TiledNeighbourhoodKernelTest {
    private static final TiledNeighbourhoodKernel KERNEL = TiledNeighbourhoodKernel.INSTANCE;

    static Stream<Arguments> oddSizes() {
        return Stream.of(
                Arguments.of(5, 1, 2, 2), // k = 1: each query sees itself
                Arguments.of(5, 1, 1, 5),
                Arguments.of(7, 7, 3, 3), // k = p: every key
                Arguments.of(7, 7, 2, 7),
                Arguments.of(4, 7, 3, 3), // p < k: every key
                Arguments.of(9, 3, 4, 4), // 9 is no multiple of 4
                Arguments.of(10, 5, 3, 10),
                Arguments.of(11, 7, 5, 2),
                Arguments.of(13, 7, 13, 13), // one tile: dense under the mask
                Arguments.of(13, 7, 6, 6));
    }

    @ParameterizedTest(name = "p {0}, k {1}, tile {2}x{3}")
    @MethodSource("oddSizes")
    void matchesAttentionWrittenOut(int side, int k, int rows, int cols) {
        try (NDManager m = Torch.newManager()) {
            NDArray[] qkv = random(m, 2, 3, side, 16, 7);
            NDArray out = KERNEL.forward(qkv[0], qkv[1], qkv[2], side, k, 0.4f, new NeighbourhoodTiling(rows, cols));
            assertParity(out, writtenOut(qkv, side, k, 0.4f), "p " + side + " k " + k + " tile " + rows + "x" + cols);
            NDArray auto = KERNEL.forward(qkv[0], qkv[1], qkv[2], side, k, 0.4f);
            assertParity(auto, writtenOut(qkv, side, k, 0.4f), "p " + side + " k " + k + " cost model's tile");
        }
    }

    @Test
    void fp16InputsKeepTheirTypeWithAnFp32Softmax() {
        try (NDManager m = Torch.newManager()) {
            NDArray[] qkv = random(m, 1, 2, 9, 32, 11);
            NDArray expected = writtenOut(qkv, 9, 5, 0.5f);
            NDArray[] half = {qkv[0].toType(DataType.FLOAT16, true), qkv[1].toType(DataType.FLOAT16, true),
                qkv[2].toType(DataType.FLOAT16, true)};
            NDArray out = KERNEL.forward(half[0], half[1], half[2], 9, 5, 0.5f, new NeighbourhoodTiling(4, 4));
            assertEquals(DataType.FLOAT16, out.getDataType());
            assertClose(out.toType(DataType.FLOAT32, false), expected, 1e-2, "fp16 p 9 k 5 tile 4x4");
        }
    }

    @Test
    void gradientsEqualThoseOfDenseMaskedAttention() {
        try (NDManager m = Torch.newManager()) {
            NDArray[] tiledIn = random(m, 2, 2, 9, 8, 13);
            NDArray[] denseIn = {tiledIn[0].duplicate(), tiledIn[1].duplicate(), tiledIn[2].duplicate()};
            NDArray weight = m.randomNormal(new Shape(2, 2, 81, 8));
            NDArray[] tiledGrad = gradients(tiledIn, weight, new NeighbourhoodTiling(4, 4));
            NDArray[] denseGrad = gradients(denseIn, weight, new NeighbourhoodTiling(9, 9));
            String[] names = {"dq", "dk", "dv"};
            for (int i = 0; i < 3; i++) {
                assertTrue(denseGrad[i].abs().sum().getFloat() > 0, names[i] + " is not zero");
                assertClose(tiledGrad[i], denseGrad[i], 1e-5, "tiled vs dense " + names[i]);
            }
        }
    }

    private static NDArray[] gradients(NDArray[] qkv, NDArray weight, NeighbourhoodTiling tiling) {
        for (NDArray x : qkv) {
            x.setRequiresGradient(true);
        }
        try (GradientCollector gc = Torch.engine().newGradientCollector()) {
            NDArray out = KERNEL.forward(qkv[0], qkv[1], qkv[2], 9, 5, 0.3f, tiling);
            gc.backward(out.mul(weight).sum());
        }
        return new NDArray[] {qkv[0].getGradient(), qkv[1].getGradient(), qkv[2].getGradient()};
    }

    @Test
    void costModelTilesLargeMapsWithinTheBudgetAndKeepsSmallMapsWhole() {
        // 16 heads, batch 2 with guidance, head dim 64: MVAR d16 sampling.
        NeighbourhoodTiling small = NeighbourhoodTiling.choose(4, 7, 32, 64, false);
        assertEquals(new NeighbourhoodTiling(4, 4), small, "a map inside one window is dense");
        for (int side : new int[] {24, 32, 48, 64, 96}) {
            NeighbourhoodTiling t = NeighbourhoodTiling.choose(side, 7, 32, 64, false);
            assertNotEquals(new NeighbourhoodTiling(side, side), t, side + "x" + side + " is tiled");
            assertTrue(t.largestScores(side, 7, 32) <= NeighbourhoodTiling.SCORE_BUDGET_BYTES, t + " within the budget");
        }
        // Training batches: the budget, not the cost, bounds the tile.
        NeighbourhoodTiling training = NeighbourhoodTiling.choose(64, 7, 64 * 16, 64, false);
        assertTrue(training.largestScores(64, 7, 64 * 16) <= NeighbourhoodTiling.SCORE_BUDGET_BYTES, training.toString());
    }

    @Test
    void refusesArraysThatAreNotTheMap() {
        try (NDManager m = Torch.newManager()) {
            NDArray[] qkv = random(m, 1, 1, 5, 4, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> KERNEL.forward(qkv[0], qkv[1], qkv[2], 6, 3, 1f));
            assertTrue(e.getMessage().contains("6x6 map"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new NeighbourhoodTiling(0, 3));
        }
    }

    private static NDArray[] random(NDManager m, int b, int h, int side, int d, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        Shape shape = new Shape(b, h, (long) side * side, d);
        NDArray[] out = new NDArray[3];
        for (int i = 0; i < 3; i++) {
            float[] data = new float[(int) shape.size()];
            for (int j = 0; j < data.length; j++) {
                data[j] = (float) (r.nextDouble() * 2 - 1);
            }
            out[i] = m.create(data, shape);
        }
        return out;
    }

    /** Each query's softmax over exactly its window's keys, in double precision. */
    private static NDArray writtenOut(NDArray[] qkv, int side, int k, float scale) {
        Shape s = qkv[0].getShape();
        int bh = (int) (s.get(0) * s.get(1));
        int n = side * side;
        int d = (int) s.get(3);
        float[] q = qkv[0].toFloatArray();
        float[] key = qkv[1].toFloatArray();
        float[] v = qkv[2].toFloatArray();
        float[] out = new float[q.length];
        int span = Math.min(k, side);
        for (int m = 0; m < bh; m++) {
            for (int i = 0; i < side; i++) {
                for (int j = 0; j < side; j++) {
                    int r0 = Math.min(Math.max(i - k / 2, 0), side - span);
                    int c0 = Math.min(Math.max(j - k / 2, 0), side - span);
                    int query = (m * n + i * side + j) * d;
                    double[] w = new double[span * span];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int a = 0; a < span; a++) {
                        for (int c = 0; c < span; c++) {
                            int kk = (m * n + (r0 + a) * side + c0 + c) * d;
                            double dot = 0;
                            for (int x = 0; x < d; x++) {
                                dot += (double) q[query + x] * key[kk + x];
                            }
                            w[a * span + c] = dot * scale;
                            max = Math.max(max, w[a * span + c]);
                        }
                    }
                    double sum = 0;
                    for (int t = 0; t < w.length; t++) {
                        w[t] = Math.exp(w[t] - max);
                        sum += w[t];
                    }
                    for (int a = 0; a < span; a++) {
                        for (int c = 0; c < span; c++) {
                            int vv = (m * n + (r0 + a) * side + c0 + c) * d;
                            for (int x = 0; x < d; x++) {
                                out[query + x] += (float) (w[a * span + c] / sum * v[vv + x]);
                            }
                        }
                    }
                }
            }
        }
        return qkv[0].getManager().create(out, s);
    }
}
