package ai.mvar.checkpoint;

import ai.djl.ndarray.types.DataType;

/** The safetensors dtype names torch writes, with their DJL types and element sizes. */
public enum SafeTensorsDType {
    F64(DataType.FLOAT64, 8),
    F32(DataType.FLOAT32, 4),
    F16(DataType.FLOAT16, 2),
    BF16(DataType.BFLOAT16, 2),
    I64(DataType.INT64, 8),
    I32(DataType.INT32, 4),
    I16(DataType.INT16, 2),
    I8(DataType.INT8, 1),
    U8(DataType.UINT8, 1),
    BOOL(DataType.BOOLEAN, 1);

    private final DataType dataType;
    private final int bytes;

    SafeTensorsDType(DataType dataType, int bytes) {
        this.dataType = dataType;
        this.bytes = bytes;
    }

    public DataType dataType() {
        return dataType;
    }

    public int bytes() {
        return bytes;
    }

    /** The safetensors name of a DJL type. */
    public static SafeTensorsDType of(DataType type) {
        for (SafeTensorsDType d : values()) {
            if (d.dataType == type) {
                return d;
            }
        }
        throw new IllegalArgumentException("safetensors cannot store dtype " + type);
    }

    /** Parses a header's dtype, or throws naming the tensor. */
    static SafeTensorsDType parse(String name, String tensor) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("tensor '" + tensor + "': unsupported dtype " + name);
        }
    }
}
