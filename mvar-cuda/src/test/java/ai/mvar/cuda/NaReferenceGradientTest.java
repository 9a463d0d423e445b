package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The reference backward (the GPU backward's yardstick) against central finite differences. */
class NaReferenceGradientTest {

    @ParameterizedTest(name = "bh={0} p={1} k={2} d={3}")
    @CsvSource({"2, 5, 3, 3", "1, 6, 5, 2", "1, 2, 5, 4", "2, 4, 1, 3", "1, 7, 7, 2"})
    void analyticMatchesFiniteDifferences(int bh, int p, int ks, int d) {
        Random rnd = new Random(31L * p + ks);
        int n = bh * p * p * d;
        double[] q = random(rnd, n);
        double[] k = random(rnd, n);
        double[] v = random(rnd, n);
        double[] g = random(rnd, n);
        NaReference ref = new NaReference(bh, p, ks, d, 0.7);
        NaReference.Gradients grads = ref.backward(q, k, v, g);
        check("dq", grads.dq(), numeric(ref, q, k, v, g, 0));
        check("dk", grads.dk(), numeric(ref, q, k, v, g, 1));
        check("dv", grads.dv(), numeric(ref, q, k, v, g, 2));
    }

    /** Relative error, with an absolute floor: for k = 1 the true dq and dk are exactly zero. */
    private static void check(String what, double[] analytic, double[] numeric) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < analytic.length; i++) {
            diff += (analytic[i] - numeric[i]) * (analytic[i] - numeric[i]);
            norm += numeric[i] * numeric[i];
        }
        double err = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1);
        assertTrue(err < 1e-7, what + ": error " + err);
    }

    /** d/dx of sum(g * out) for every element of input {@code which} (0 q, 1 k, 2 v). */
    private static double[] numeric(NaReference ref, double[] q, double[] k, double[] v, double[] g, int which) {
        double[][] in = {q.clone(), k.clone(), v.clone()};
        double[] x = in[which];
        double[] grad = new double[x.length];
        double h = 1e-5;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = loss(ref, in, g);
            x[i] = keep - h;
            double down = loss(ref, in, g);
            x[i] = keep;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    private static double loss(NaReference ref, double[][] in, double[] g) {
        double[] out = ref.forward(in[0], in[1], in[2]).out();
        double s = 0;
        for (int i = 0; i < out.length; i++) {
            s += g[i] * out[i];
        }
        return s;
    }

    static double[] random(Random rnd, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextGaussian();
        }
        return a;
    }
}
