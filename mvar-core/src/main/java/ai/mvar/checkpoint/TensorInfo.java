package ai.mvar.checkpoint;

import ai.djl.ndarray.types.Shape;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param begin byte offset of its data, relative to the start of the data section
 * @param end one past its last byte
 */
public record TensorInfo(String name, SafeTensorsDType dtype, Shape shape, long begin, long end) {
    public long byteSize() {
        return end - begin;
    }
}
