package ai.mvar.checkpoint;

import java.nio.file.Path;

/** A checkpoint file that is malformed, truncated or not what it claims to be. */
public final class CheckpointFormatException extends IllegalArgumentException {
    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
