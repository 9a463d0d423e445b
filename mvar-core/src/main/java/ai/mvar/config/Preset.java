package ai.mvar.config;

import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.VqVaeConfig;
import java.util.List;

/**
 * Everything needed to build, sample and describe a model: the tokenizer and transformer sizes,
 * the suggested sampling settings and the class names. Presets live as JSON in {@code configs/}
 * and travel inside every checkpoint's metadata, so a checkpoint describes itself.
 *
 * @param name short name ({@code d16}, {@code fashion-mnist})
 * @param classNames one name per class, index order
 */
public record Preset(
        String name,
        VqVaeConfig tokenizer,
        TransformerConfig transformer,
        SamplingDefaults sampling,
        List<String> classNames) {

    public Preset {
        classNames = List.copyOf(classNames);
        if (tokenizer.vocabSize() != transformer.vocabSize()) {
            throw new IllegalArgumentException("preset " + name + ": tokenizer vocabulary " + tokenizer.vocabSize()
                    + " differs from the transformer's " + transformer.vocabSize());
        }
        if (tokenizer.latentChannels() != transformer.latentChannels()) {
            throw new IllegalArgumentException("preset " + name + ": tokenizer Cvae " + tokenizer.latentChannels()
                    + " differs from the transformer's " + transformer.latentChannels());
        }
        if (!tokenizer.schedule().equals(transformer.schedule())) {
            throw new IllegalArgumentException("preset " + name + ": tokenizer patch_nums " + tokenizer.schedule()
                    + " differ from the transformer's " + transformer.schedule());
        }
        try {
            sampling.temperature().checkScales(transformer.schedule().scales());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("preset " + name + ": sampling." + e.getMessage(), e);
        }
        if (classNames.size() != transformer.classes()) {
            throw new IllegalArgumentException("preset " + name + ": " + classNames.size() + " class names for "
                    + transformer.classes() + " classes");
        }
    }

    /** Suggested sampling settings ({@link ai.mvar.sampling.SamplingOptions} says what each does). */
    public record SamplingDefaults(double cfg, int topK, double topP, Temperature temperature) {

        /** Settings of the reference's sampler, which has no temperature. */
        public SamplingDefaults(double cfg, int topK, double topP) {
            this(cfg, topK, topP, Temperature.NONE);
        }

        /** {@code cfg 1.5, top-k 0, top-p 0.0, temperature 1.0}: the settings as the commands print them. */
        public String describe() {
            return String.format(java.util.Locale.ROOT, "cfg %s, top-k %d, top-p %s, temperature %s", cfg, topK, topP,
                    temperature);
        }
    }

    /** The index of a class given by index or by name (case-insensitive, exact or unique prefix). */
    public int classIndex(String nameOrIndex) {
        String wanted = nameOrIndex.trim();
        if (wanted.isEmpty()) {
            throw new IllegalArgumentException("empty class: give an index 0.." + (classNames.size() - 1)
                    + " or a name such as '" + classNames.get(0) + "'");
        }
        if (wanted.matches("\\d+")) {
            int i = Integer.parseInt(wanted);
            if (i >= classNames.size()) {
                throw new IllegalArgumentException("class " + i + " is out of range: " + name + " has "
                        + classNames.size() + " classes (0.." + (classNames.size() - 1) + ")");
            }
            return i;
        }
        for (int i = 0; i < classNames.size(); i++) {
            if (classNames.get(i).equalsIgnoreCase(wanted)) {
                return i;
            }
        }
        int found = -1;
        for (int i = 0; i < classNames.size(); i++) {
            if (classNames.get(i).toLowerCase(java.util.Locale.ROOT).startsWith(wanted.toLowerCase(java.util.Locale.ROOT))) {
                if (found >= 0) {
                    throw new IllegalArgumentException("class '" + nameOrIndex + "' is ambiguous in " + name
                            + ": '" + classNames.get(found) + "', '" + classNames.get(i) + "', ...");
                }
                found = i;
            }
        }
        if (found < 0) {
            throw new IllegalArgumentException("unknown class '" + nameOrIndex + "' for " + name
                    + " (give an index 0.." + (classNames.size() - 1) + " or a name such as '" + classNames.get(0) + "')");
        }
        return found;
    }
}
