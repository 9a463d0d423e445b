package ai.mvar.sampling;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A sampled batch.
 *
 * @param tokens the generated token pyramid and f_hat
 * @param images decoded images {@code [B, 3, H, W]} in [0, 1]
 */
public record Samples(TokenPyramid tokens, NDArray images) implements AutoCloseable {

    public List<NDArray> indices() {
        return tokens.indices();
    }

    public NDArray fHat() {
        return tokens.fHat();
    }

    @Override
    public void close() {
        tokens.close();
        images.close();
    }
}
