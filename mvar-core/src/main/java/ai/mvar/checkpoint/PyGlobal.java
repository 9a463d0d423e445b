package ai.mvar.checkpoint;

/**
 * A Python global (class or function) that a pickle names but that is not needed to rebuild a
 * state dict. It is kept as a name only and never resolved or called, so a pickle that names
 * {@code os.system} merely produces this record.
 */
public record PyGlobal(String module, String name) {
    @Override
    public String toString() {
        return module + "." + name;
    }
}
