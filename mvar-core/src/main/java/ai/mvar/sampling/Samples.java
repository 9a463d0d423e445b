package ai.mvar.sampling;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * The result of sampling a batch.
 *
 * @param indices sampled token indices per scale, {@code [B, p_s^2]}
 * @param fHat the final f_hat {@code [B, Cvae, h, w]}
 * @param images decoded images {@code [B, 3, H, W]} in [0, 1]
 */
public record Samples(List<NDArray> indices, NDArray fHat, NDArray images) implements AutoCloseable {
    @Override
    public void close() {
        indices.forEach(NDArray::close);
        fHat.close();
        images.close();
    }
}
