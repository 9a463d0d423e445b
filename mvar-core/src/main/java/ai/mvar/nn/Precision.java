package ai.mvar.nn;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * The floating-point type a model computes its matrix products in, as PyTorch's autocast chooses
 * it: weights and matrix-product inputs in this type; layer norms, softmax, the residual stream
 * and the logits (and so their sampling) in fp32, whatever the precision. {@code fp16} is the GPU
 * default (tensor cores), {@code fp32} the CPU default.
 */
public enum Precision {
    FP32(DataType.FLOAT32),
    FP16(DataType.FLOAT16),
    BF16(DataType.BFLOAT16);

    private final DataType dataType;

    Precision(DataType dataType) {
        this.dataType = dataType;
    }

    /** The type of the weights and of matrix-product inputs and outputs. */
    public DataType dataType() {
        return dataType;
    }

    /** fp16 on a GPU, fp32 on the CPU. */
    public static Precision defaultFor(Device device) {
        return device.isGpu() ? FP16 : FP32;
    }

    /**
     * Throws when the engine cannot compute in this precision. DJL's PyTorch engine (0.36) maps no
     * data type to bfloat16: its JNI aborts the whole process on the first bf16 tensor, so bf16 is
     * refused before any tensor exists.
     *
     * @throws IllegalArgumentException naming the precision and what to use instead
     */
    public Precision requireSupported() {
        if (this == BF16) {
            throw new IllegalArgumentException("bf16 is not available with DJL's PyTorch engine (its JNI has no"
                    + " bfloat16 type and aborts the process on one); use fp16 or fp32");
        }
        return this;
    }

    /** {@code fp32}, {@code fp16}, {@code bf16}: the names the command line takes. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
