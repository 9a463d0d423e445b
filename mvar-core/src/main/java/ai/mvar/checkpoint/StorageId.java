package ai.mvar.checkpoint;

/**
 * A torch persistent id, {@code ('storage', <storage class>, key, location, numel[, view])}: the
 * only kind a checkpoint contains. The legacy format adds a view {@code (view key, offset, numel)}
 * or None.
 */
record StorageId(SafeTensorsDType dtype, String key, String location, long numel, View view) {
    record View(long offset, long numel) {}

    static StorageId parse(Object pid) {
        if (!(pid instanceof PyTuple t) || t.size() < 5 || t.size() > 6 || !"storage".equals(t.get(0))) {
            throw new IllegalArgumentException("persistent id is not a torch storage reference");
        }
        if (!(t.get(1) instanceof SafeGlobals.StorageType type)) {
            throw new IllegalArgumentException("storage of unsupported type " + PyValues.typeName(t.get(1)));
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)) {
            throw new IllegalArgumentException("storage key and location must be strings");
        }
        long numel = PyValues.asLong(t.get(4));
        if (numel < 0) {
            throw new IllegalArgumentException("storage of " + numel + " elements");
        }
        View view = null;
        if (t.size() == 6 && t.get(5) != null) {
            if (!(t.get(5) instanceof PyTuple v) || v.size() != 3) {
                throw new IllegalArgumentException("malformed storage view");
            }
            view = new View(PyValues.asLong(v.get(1)), PyValues.asLong(v.get(2)));
        }
        return new StorageId(type.dtype(), key, location, numel, view);
    }
}
