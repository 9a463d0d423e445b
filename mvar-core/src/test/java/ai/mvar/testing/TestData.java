package ai.mvar.testing;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * Data sets that tests read from the machine (Debian packages such as {@code
 * dataset-fashion-mnist}). Without one, a test that needs it is skipped with a message that names
 * what to install; with {@code -Dmvar.test.requireData=true}, which {@code scripts/test} passes after
 * installing every prerequisite, it fails instead, so CI never goes green by skipping.
 */
public final class TestData {
    /** The system property that turns a missing data set from a skip into a failure. */
    public static final String REQUIRE_PROPERTY = "mvar.test.requireData";

    private TestData() {}

    /**
     * Returns when {@code present}; otherwise skips the test, or fails it when data sets are required.
     *
     * @param what the data set and how to get it, e.g. "Fashion-MNIST (Debian package dataset-fashion-mnist)"
     */
    public static void assume(boolean present, String what) {
        if (present) {
            return;
        }
        if (Boolean.getBoolean(REQUIRE_PROPERTY)) {
            fail(what + " is missing, and " + REQUIRE_PROPERTY + "=true requires it (scripts/test installs it)");
        }
        Assumptions.abort(what + " is missing: test skipped (scripts/test installs it)");
    }
}
