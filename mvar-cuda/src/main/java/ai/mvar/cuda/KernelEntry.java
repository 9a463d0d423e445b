package ai.mvar.cuda;

/** The three kernels of {@code kernels/neighbourhood_attention.cu}, one per pass. */
public enum KernelEntry {
    /** Output and (optionally) the log-sum-exp of each query's scores; one warp per query. */
    FORWARD("na_fwd"),
    /** dq and delta = dO . O; one warp per query. */
    BACKWARD_DQ("na_bwd_dq"),
    /** dk and dv, reading delta from {@link #BACKWARD_DQ}; one warp per key. */
    BACKWARD_DKDV("na_bwd_dkdv");

    private final String prefix;

    KernelEntry(String prefix) {
        this.prefix = prefix;
    }

    /** The extern "C" name of this pass for one storage type and head dim. */
    public String functionName(Precision precision, int headDim) {
        return prefix + "_" + precision.suffix() + "_d" + headDim;
    }
}
