package ai.mvar.checkpoint;

/**
 * A storage a pickled tensor refers to: raw elements of one dtype, kept in the archive under
 * {@code key} (a zip entry {@code data/<key>}, or a record in the legacy format).
 *
 * @param elementOffset where this storage starts inside the stored record, in elements (legacy
 *     storage views; zero otherwise)
 * @param numel number of elements
 */
public record TorchStorage(String key, SafeTensorsDType dtype, long elementOffset, long numel, String location) {}
