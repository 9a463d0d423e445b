package ai.mvar.bench;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The attention probe of the device check (step 50): the tiled kernel's forward, and forward and backward. */
class ProbeAttentionTest {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"fp32, forward", "fp32, backward", "fp16, backward"})
    void timesTheTiledKernel(String precision, String pass) {
        Measurement m = Measurement.parse(probe("attention", "auto", "6", "3", "1", "2", "8", "2", "cpu", precision, pass));
        assertTrue(m.medianMillis() > 0, "a time: " + m.toLine());
    }

    @ParameterizedTest
    @CsvSource({"fp32, sideways", "bf16, forward"})
    void refusesAnUnknownPassOrPrecision(String precision, String pass) {
        assertThrows(IllegalArgumentException.class,
                () -> probe("attention", "auto", "6", "3", "1", "2", "8", "2", "cpu", precision, pass));
    }

    /** The probe's RESULT line. */
    private static String probe(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            Probe.main(args);
        } finally {
            System.setOut(out);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        return text.lines().filter(l -> l.startsWith("RESULT ")).findFirst()
                .orElseThrow(() -> new AssertionError("no RESULT line in " + text));
    }
}
