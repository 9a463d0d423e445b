package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fp32 backward kernels against central differences of the fp32 forward kernel itself
 * (skipped without a CUDA GPU): d/dx of sum(g * out) at sampled coordinates of q, k and v.
 */
class NaKernelGradientGpuTest {
    static final int SAMPLES = 40;
    static final double STEP = 1e-2;

    @ParameterizedTest(name = "bh={0} p={1} k={2} d={3}")
    @CsvSource({"1, 5, 3, 32", "2, 3, 7, 64", "1, 9, 5, 128"})
    void backwardMatchesFiniteDifferences(int bh, int p, int ks, int d) {
        NaLauncher launcher = new NaLauncher(DeviceBuffer.module());
        NaGeometry g = new NaGeometry(bh, p, ks, d, Precision.F32);
        float scale = (float) (1 / Math.sqrt(d));
        Random rnd = new Random(p * 100L + ks);
        double[][] in = {NaKernelGpuTest.input(rnd, g), NaKernelGpuTest.input(rnd, g), NaKernelGpuTest.input(rnd, g)};
        double[] gout = NaKernelGpuTest.input(rnd, g);
        double[][] analytic = analytic(launcher, g, in, gout, scale);
        String[] names = {"dq", "dk", "dv"};
        for (int which = 0; which < 3; which++) {
            double diff = 0;
            double norm = 0;
            for (int s = 0; s < SAMPLES; s++) {
                int i = rnd.nextInt(in[which].length);
                double keep = in[which][i];
                in[which][i] = keep + STEP;
                double up = loss(launcher, g, in, gout, scale);
                in[which][i] = keep - STEP;
                double down = loss(launcher, g, in, gout, scale);
                in[which][i] = keep;
                double numeric = (up - down) / (2 * STEP);
                diff += (numeric - analytic[which][i]) * (numeric - analytic[which][i]);
                norm += numeric * numeric;
            }
            double err = Math.sqrt(diff / Math.max(norm, 1e-6));
            assertTrue(err < 1e-2, g + " " + names[which] + ": relative error " + err + " against finite differences");
        }
    }

    private static double[][] analytic(NaLauncher launcher, NaGeometry g, double[][] in, double[] gout, float scale) {
        try (DeviceBuffer q = DeviceBuffer.of(in[0], Precision.F32);
                DeviceBuffer k = DeviceBuffer.of(in[1], Precision.F32);
                DeviceBuffer v = DeviceBuffer.of(in[2], Precision.F32);
                DeviceBuffer dg = DeviceBuffer.of(gout, Precision.F32);
                DeviceBuffer out = DeviceBuffer.allocate(g.tensorBytes()).poison();
                DeviceBuffer lse = DeviceBuffer.allocate(g.rows() * 4).poison();
                DeviceBuffer delta = DeviceBuffer.allocate(g.rows() * 4).poison();
                DeviceBuffer gq = DeviceBuffer.allocate(g.tensorBytes()).poison();
                DeviceBuffer gk = DeviceBuffer.allocate(g.tensorBytes()).poison();
                DeviceBuffer gv = DeviceBuffer.allocate(g.tensorBytes()).poison()) {
            launcher.forward(g, q.address, k.address, v.address, out.address, lse.address, scale);
            launcher.backward(g, q.address, k.address, v.address, out.address, dg.address, lse.address,
                    gq.address, gk.address, gv.address, delta.address, scale);
            return new double[][] {gq.download(Precision.F32), gk.download(Precision.F32), gv.download(Precision.F32)};
        }
    }

    private static double loss(NaLauncher launcher, NaGeometry g, double[][] in, double[] gout, float scale) {
        try (DeviceBuffer q = DeviceBuffer.of(in[0], Precision.F32);
                DeviceBuffer k = DeviceBuffer.of(in[1], Precision.F32);
                DeviceBuffer v = DeviceBuffer.of(in[2], Precision.F32);
                DeviceBuffer out = DeviceBuffer.allocate(g.tensorBytes()).poison()) {
            launcher.forward(g, q.address, k.address, v.address, out.address, 0L, scale);
            double[] o = out.download(Precision.F32);
            double s = 0;
            for (int i = 0; i < o.length; i++) {
                s += gout[i] * o[i];
            }
            return s;
        }
    }
}
