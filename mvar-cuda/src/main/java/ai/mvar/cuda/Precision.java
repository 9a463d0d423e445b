package ai.mvar.cuda;

/** Storage type of q, k, v and the outputs; the kernels always accumulate in fp32. */
public enum Precision {
    F32("f32", 4),
    F16("f16", 2);

    private final String suffix;
    private final int bytes;

    Precision(String suffix, int bytes) {
        this.suffix = suffix;
        this.bytes = bytes;
    }

    /** The part of the kernel entry-point name that names the type ({@code na_fwd_f16_d64}). */
    public String suffix() {
        return suffix;
    }

    public int bytes() {
        return bytes;
    }
}
