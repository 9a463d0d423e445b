package ai.mvar.sampling;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Generated tokens before decoding.
 *
 * @param indices token indices per scale, {@code [B, p_s^2]} int64
 * @param fHat the final f_hat {@code [B, Cvae, h, w]}
 */
public record TokenPyramid(List<NDArray> indices, NDArray fHat) implements AutoCloseable {
    @Override
    public void close() {
        indices.forEach(NDArray::close);
        fHat.close();
    }
}
