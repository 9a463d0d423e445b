package ai.mvar.config;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The softmax temperature of sampling: one value for every scale, or one per scale of the pyramid.
 * The logits of scale s are divided by {@link #at at(s)} before top-k and top-p. Per scale, because
 * guidance grows with the scale ({@code t = cfg s/(K-1)}) and the scales draw different things: on
 * the bundled Fashion-MNIST model the middle scales, sharpened by guidance, gain variety and quality
 * from a temperature above 1, while the first (unguided) and the last (texture, each token drawn
 * independently of its neighbours) are best left at 1 (docs/results.md measures each).
 *
 * @param values one value (every scale) or one per scale, each > 0
 */
public record Temperature(List<Double> values) {

    /** The reference's sampler: logits as they are. */
    public static final Temperature NONE = new Temperature(List.of(1.0));

    public Temperature {
        values = List.copyOf(values);
        if (values.isEmpty()) {
            throw new IllegalArgumentException("temperature needs a value");
        }
        for (double t : values) {
            if (!(t > 0 && Double.isFinite(t))) {
                throw new IllegalArgumentException("temperature must be > 0, got " + t);
            }
        }
    }

    /** The same temperature at every scale. */
    public static Temperature of(double t) {
        return new Temperature(List.of(t));
    }

    /** {@code 1.2} (every scale) or {@code 1.2,1.2,1.2,1.2,1} (one per scale), as {@link #toString} writes it. */
    public static Temperature parse(String text) {
        List<Double> values = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            try {
                values.add(Double.parseDouble(part.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("temperature '" + text + "' is not a number or a comma-separated list of"
                        + " numbers, one per scale");
            }
        }
        return new Temperature(values);
    }

    /** The temperature of scale {@code s}. */
    public double at(int s) {
        return values.size() == 1 ? values.get(0) : values.get(s);
    }

    /** Whether one value covers every scale. */
    public boolean uniform() {
        return values.size() == 1;
    }

    /** @throws IllegalArgumentException unless there is one value, or one per scale of a {@code scales}-scale pyramid */
    public Temperature checkScales(int scales) {
        if (!uniform() && values.size() != scales) {
            throw new IllegalArgumentException("temperature gives " + values.size() + " values for a pyramid of " + scales
                    + " scales: give one value, or one per scale");
        }
        return this;
    }

    @Override
    public String toString() {
        return values.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
