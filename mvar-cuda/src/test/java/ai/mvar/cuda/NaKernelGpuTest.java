package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The kernels against the double reference on a CUDA GPU (skipped elsewhere), through JCuda
 * memory: many random shapes, outputs poisoned before each launch, every element checked.
 */
class NaKernelGpuTest {
    static final double F32_TOLERANCE = 1e-5;
    static final double F16_TOLERANCE = 1e-2;
    /** 15 is wider than the tensor-core forward takes: fp16 falls back to one warp per query. */
    static final int[] KERNELS = {1, 3, 5, 7, 9, 11, 13, 15};

    /**
     * Random problems; the fixed ones first: maps smaller than the kernel, a 1x1 map, k = 1, the
     * benchmark's shape, many slices, maps that are no multiple of the tensor-core tile, the
     * widest window at every head dim (the largest shared memory; head dim 128 on the 30x30 map has
     * no tile and runs one warp per query), a window too wide for it.
     */
    static List<NaGeometry> shapes(Precision precision, int count, long seed) {
        List<NaGeometry> shapes = new ArrayList<>(List.of(
                new NaGeometry(2, 1, 7, 64, precision),
                new NaGeometry(3, 4, 13, 32, precision),
                new NaGeometry(1, 16, 7, 64, precision),
                new NaGeometry(2, 9, 1, 128, precision),
                new NaGeometry(1, 13, 13, 128, precision),
                new NaGeometry(48, 16, 7, 64, precision),
                new NaGeometry(301, 5, 3, 32, precision),
                new NaGeometry(5, 23, 9, 64, precision),
                new NaGeometry(2, 30, 13, 128, precision),
                new NaGeometry(3, 27, 13, 64, precision),
                new NaGeometry(4, 19, 13, 32, precision),
                new NaGeometry(2, 20, 15, 64, precision)));
        Random rnd = new Random(seed);
        while (shapes.size() < count) {
            shapes.add(new NaGeometry(1 + rnd.nextInt(6), 1 + rnd.nextInt(24), KERNELS[rnd.nextInt(KERNELS.length)],
                    NaGeometry.HEAD_DIMS.get(rnd.nextInt(3)), precision));
        }
        return shapes;
    }

    static double tolerance(Precision p) {
        return p == Precision.F32 ? F32_TOLERANCE : F16_TOLERANCE;
    }

    /** Inputs as the device holds them (fp16-rounded for fp16), so only the kernel's error remains. */
    static double[] input(Random rnd, NaGeometry g) {
        double[] a = NaReferenceGradientTest.random(rnd, (int) g.elements());
        if (g.precision() == Precision.F16) {
            for (int i = 0; i < a.length; i++) {
                a[i] = Half.round(a[i]);
            }
        }
        return a;
    }

    @Test
    void forwardMatchesReference() {
        NaLauncher launcher = new NaLauncher(DeviceBuffer.module());
        for (Precision precision : Precision.values()) {
            Random rnd = new Random(precision.ordinal());
            for (NaGeometry g : shapes(precision, 60, 11 + precision.ordinal())) {
                float scale = (float) (1 / Math.sqrt(g.headDim()));
                double[] q = input(rnd, g);
                double[] k = input(rnd, g);
                double[] v = input(rnd, g);
                NaReference.Forward ref = new NaReference(g.batchHeads(), g.side(), g.kernelSize(), g.headDim(), scale)
                        .forward(q, k, v);
                try (DeviceBuffer dq = DeviceBuffer.of(q, precision);
                        DeviceBuffer dk = DeviceBuffer.of(k, precision);
                        DeviceBuffer dv = DeviceBuffer.of(v, precision);
                        DeviceBuffer out = DeviceBuffer.allocate(g.tensorBytes()).poison();
                        DeviceBuffer lse = DeviceBuffer.allocate(g.rows() * 4).poison()) {
                    launcher.forward(g, dq.address, dk.address, dv.address, out.address, lse.address, scale);
                    String kernel = g.forwardTile().map(t -> " tiled " + t.rows() + "x" + t.cols()).orElse("");
                    compare(g + kernel + " out", out.download(precision), ref.out(), tolerance(precision));
                    compare(g + kernel + " lse", lse.download(Precision.F32), ref.lse(), F32_TOLERANCE);
                    if (g.forwardTile().isPresent()) {
                        // The warp-per-query fp16 forward stays: the fallback for wide windows.
                        out.poison();
                        lse.poison();
                        launcher.forwardPerQuery(g, dq.address, dk.address, dv.address, out.address, lse.address,
                                scale);
                        compare(g + " per-query out", out.download(precision), ref.out(), tolerance(precision));
                        compare(g + " per-query lse", lse.download(Precision.F32), ref.lse(), F32_TOLERANCE);
                    }
                }
            }
        }
    }

    @Test
    void backwardMatchesReference() {
        NaLauncher launcher = new NaLauncher(DeviceBuffer.module());
        for (Precision precision : Precision.values()) {
            Random rnd = new Random(100 + precision.ordinal());
            for (NaGeometry g : shapes(precision, 30, 23 + precision.ordinal())) {
                float scale = (float) (1 / Math.sqrt(g.headDim()));
                double[] q = input(rnd, g);
                double[] k = input(rnd, g);
                double[] v = input(rnd, g);
                double[] gout = input(rnd, g);
                NaReference reference = new NaReference(g.batchHeads(), g.side(), g.kernelSize(), g.headDim(), scale);
                NaReference.Gradients ref = reference.backward(q, k, v, gout);
                try (DeviceBuffer dq = DeviceBuffer.of(q, precision);
                        DeviceBuffer dk = DeviceBuffer.of(k, precision);
                        DeviceBuffer dv = DeviceBuffer.of(v, precision);
                        DeviceBuffer dg = DeviceBuffer.of(gout, precision);
                        DeviceBuffer out = DeviceBuffer.allocate(g.tensorBytes()).poison();
                        DeviceBuffer lse = DeviceBuffer.allocate(g.rows() * 4).poison();
                        DeviceBuffer delta = DeviceBuffer.allocate(g.rows() * 4).poison();
                        DeviceBuffer gq = DeviceBuffer.allocate(g.tensorBytes()).poison();
                        DeviceBuffer gk = DeviceBuffer.allocate(g.tensorBytes()).poison();
                        DeviceBuffer gv = DeviceBuffer.allocate(g.tensorBytes()).poison()) {
                    launcher.forward(g, dq.address, dk.address, dv.address, out.address, lse.address, scale);
                    launcher.backward(g, dq.address, dk.address, dv.address, out.address, dg.address, lse.address,
                            gq.address, gk.address, gv.address, delta.address, scale);
                    // fp16 stores O rounded, so delta = dO.O carries fp16 error: fp16 tolerance there.
                    double tol = tolerance(precision);
                    compare(g + " dq", gq.download(precision), ref.dq(), tol);
                    compare(g + " dk", gk.download(precision), ref.dk(), tol);
                    compare(g + " dv", gv.download(precision), ref.dv(), tol);
                }
            }
        }
    }

    /** Every element written (no NaN left of the poison) and relative L2 error within tolerance. */
    static void compare(String what, double[] actual, double[] expected, double tolerance) {
        for (int i = 0; i < actual.length; i++) {
            if (!Double.isFinite(actual[i])) {
                fail(what + ": element " + i + " not written (" + actual[i] + ")");
            }
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < actual.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        // dq and dk are exactly zero when a window holds one key (k = 1 or a 1x1 map).
        double err = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-3);
        assertTrue(err <= tolerance, what + ": relative error " + err + " > " + tolerance);
    }
}
