package ai.mvar.train;

/**
 * torch.optim.AdamW's single-tensor update written out in double precision (betas 0.9 / 0.95, eps
 * 1e-8), with its own step count, as PyTorch keeps one per parameter: the hand computation the
 * optimizer and the trainer are checked against.
 */
public final class HandAdamW {
    public final double[] w;
    public final double[] m;
    public final double[] v;
    private final boolean decays;
    private int t;

    public HandAdamW(double[] w, boolean decays) {
        this.w = w.clone();
        this.m = new double[w.length];
        this.v = new double[w.length];
        this.decays = decays;
    }

    public HandAdamW(float[] w, boolean decays) {
        this(toDoubles(w), decays);
    }

    /** One update with gradient {@code grad} times the clipping factor {@code clip}. */
    public void step(double[] grad, double clip, double lr, double weightDecay) {
        t++;
        for (int i = 0; i < w.length; i++) {
            double g = grad[i] * clip;
            if (decays) {
                w[i] *= 1 - lr * weightDecay;
            }
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.95 * v[i] + 0.05 * g * g;
            double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.95, t)) + 1e-8;
            w[i] -= lr / (1 - Math.pow(0.9, t)) * m[i] / denom;
        }
    }

    public static float[] toFloats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    public static double[] toDoubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
