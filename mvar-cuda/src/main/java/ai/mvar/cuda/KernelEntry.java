package ai.mvar.cuda;

import java.util.EnumSet;
import java.util.Set;

/** The three kernels of {@code kernels/neighbourhood_attention.cu}, one per pass. */
public enum KernelEntry {
    /** Output and (optionally) the log-sum-exp of each query's scores; one warp per query. */
    FORWARD("na_fwd", Precision.F32, Precision.F16),
    /** The same on tensor cores, one block per tile of queries ({@link NaTile}); fp16 only. */
    FORWARD_TILED("na_fwd_tc", Precision.F16),
    /** dq and delta = dO . O; one warp per query. */
    BACKWARD_DQ("na_bwd_dq", Precision.F32, Precision.F16),
    /** dk and dv, reading delta from {@link #BACKWARD_DQ}; one warp per key. */
    BACKWARD_DKDV("na_bwd_dkdv", Precision.F32, Precision.F16);

    private final String prefix;
    private final Set<Precision> precisions;

    KernelEntry(String prefix, Precision first, Precision... rest) {
        this.prefix = prefix;
        this.precisions = EnumSet.of(first, rest);
    }

    /** Whether the PTX has this pass for the storage type. */
    public boolean supports(Precision precision) {
        return precisions.contains(precision);
    }

    /** The extern "C" name of this pass for one storage type and head dim it {@link #supports}. */
    public String functionName(Precision precision, int headDim) {
        return prefix + "_" + precision.suffix() + "_d" + headDim;
    }
}
