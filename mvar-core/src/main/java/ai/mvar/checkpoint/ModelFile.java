package ai.mvar.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.ParameterSpec;
import ai.mvar.nn.Precision;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.WeightMismatchException;
import ai.mvar.tokenizer.VqVae;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A trained or imported model: a safetensors file whose header metadata says what it is, so a
 * model file describes itself.
 *
 * <ul>
 *   <li>{@code mvar.kind}: {@code tokenizer} or {@code transformer};
 *   <li>{@code mvar.preset}: the preset JSON ({@link PresetJson#toJson}) the weights were made for;
 *   <li>{@code mvar.mode}: {@code mvar} or {@code var}, the mode a transformer was trained in (the
 *       default mode for sampling it);
 *   <li>any other keys: free-form extras (training step, data set, ...).
 * </ul>
 *
 * Plain safetensors files without this metadata (official weights converted elsewhere) load too
 * when the caller names the kind and the preset. Every error names the file and the key.
 */
public final class ModelFile {
    public static final String KIND_KEY = "mvar.kind";
    public static final String PRESET_KEY = "mvar.preset";
    public static final String MODE_KEY = "mvar.mode";

    private ModelFile() {}

    /** What a model file holds. */
    public enum Kind {
        TOKENIZER,
        TRANSFORMER;

        /** The metadata value: {@code tokenizer} or {@code transformer}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses {@code tokenizer} or {@code transformer} (case-insensitive). */
        public static Kind parse(String text) {
            for (Kind k : values()) {
                if (k.id().equalsIgnoreCase(text.trim())) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown model kind '" + text + "' (tokenizer or transformer)");
        }
    }

    /**
     * A model file's header, read without loading any weight.
     *
     * @param kind null when the file has no {@code mvar.kind}
     * @param preset null when the file has no {@code mvar.preset}
     * @param mode null when the file has no {@code mvar.mode} (tokenizers, plain files)
     * @param extra every other metadata entry
     * @param tensors every tensor's entry, header order
     */
    public record Info(Path file, Kind kind, Preset preset, Mode mode, Map<String, String> extra,
            Map<String, TensorInfo> tensors) {
        /** Bytes of tensor data. */
        public long weightBytes() {
            return tensors.values().stream().mapToLong(TensorInfo::byteSize).sum();
        }

        /** Scalars stored. */
        public long storedValues() {
            return tensors.values().stream().mapToLong(t -> t.shape().size()).sum();
        }

        /** Whether the file carries the model-file metadata (kind and preset). */
        public boolean described() {
            return kind != null && preset != null;
        }
    }

    /**
     * A loaded model file. The weights belong to it until a model is built from them ({@link
     * #tokenizer}, {@link #transformer}), which takes them over; closing frees them either way.
     *
     * @param preset the preset the weights were checked against (the caller's, else the file's)
     * @param mode the file's mode; null for tokenizers and files without {@code mvar.mode}
     */
    public record Loaded(Path file, Kind kind, Preset preset, Mode mode, StateDict weights,
            Map<String, String> extra) implements AutoCloseable {

        /** The tokenizer over these weights. */
        public VqVae tokenizer() {
            require(Kind.TOKENIZER);
            return VqVae.load(preset.tokenizer(), weights);
        }

        /** The transformer over these weights, converted to the precision's type. */
        public Transformer transformer(Precision precision) {
            require(Kind.TRANSFORMER);
            return Transformer.load(preset.transformer(), weights, precision);
        }

        private void require(Kind wanted) {
            if (kind != wanted) {
                throw new IllegalStateException(file + " holds a " + kind.id() + ", not a " + wanted.id());
            }
        }

        @Override
        public void close() {
            weights.close();
        }
    }

    /**
     * Writes a model file atomically (a temporary file renamed over the target), creating its folder.
     *
     * @param mode the mode a transformer was trained in; null for a tokenizer
     * @param extra free-form metadata; keys may not start with {@code mvar.}
     */
    public static void write(Path file, Kind kind, Preset preset, Mode mode, Map<String, NDArray> weights,
            Map<String, String> extra) throws IOException {
        SafeTensorsWriter.write(file, weights, metadata(kind, preset, mode, extra));
    }

    /**
     * Copies a model file with another preset in its header, for settings chosen after training
     * (sampling, class names): the preset must fit the weights as {@link #check} checks them, every
     * tensor is copied byte for byte and the other metadata is kept. Atomic, so {@code target} may
     * be {@code source}.
     *
     * @return the header of the file written
     */
    public static Info withPreset(Path source, Preset preset, Path target) throws IOException {
        Info checked = check(source, null, preset);
        try (SafeTensorsReader reader = SafeTensorsReader.open(source)) {
            List<SafeTensorsWriter.Entry> entries = new ArrayList<>();
            for (TensorInfo t : reader.tensors().values()) {
                entries.add(new SafeTensorsWriter.Entry(t.name(), t.dtype(), t.shape(), out -> reader.copyBytes(t.name(), out)));
            }
            SafeTensorsWriter.write(target, entries, metadata(checked.kind(), preset, checked.mode(), checked.extra()));
        }
        return info(target);
    }

    /** The header metadata of a model file, for writers that stream tensors themselves (import). */
    public static Map<String, String> metadata(Kind kind, Preset preset, Mode mode, Map<String, String> extra) {
        if (kind == Kind.TRANSFORMER && mode == null) {
            throw new IllegalArgumentException("a transformer model file needs the mode it was trained in");
        }
        if (kind == Kind.TOKENIZER && mode != null) {
            throw new IllegalArgumentException("a tokenizer has no mode");
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(KIND_KEY, kind.id());
        meta.put(PRESET_KEY, PresetJson.toJson(preset));
        if (mode != null) {
            meta.put(MODE_KEY, mode.name().toLowerCase(Locale.ROOT));
        }
        extra.forEach((k, v) -> {
            if (k.startsWith("mvar.")) {
                throw new IllegalArgumentException("extra metadata key '" + k + "' is reserved");
            }
            meta.put(k, v);
        });
        return meta;
    }

    /** Reads the header only: kind, preset, mode, extras and tensor entries. */
    public static Info info(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "model file not found");
        }
        Map<String, String> meta;
        Map<String, TensorInfo> tensors;
        try (SafeTensorsReader reader = SafeTensorsReader.open(file)) {
            meta = reader.metadata();
            tensors = reader.tensors();
        }
        Kind kind = null;
        Preset preset = null;
        Mode mode = null;
        Map<String, String> extra = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : meta.entrySet()) {
            switch (e.getKey()) {
                case KIND_KEY -> kind = parse(file, KIND_KEY, () -> Kind.parse(e.getValue()));
                case PRESET_KEY -> preset = parse(file, PRESET_KEY,
                        () -> PresetJson.parse(e.getValue(), file + " metadata " + PRESET_KEY));
                case MODE_KEY -> mode = parse(file, MODE_KEY, () -> parseMode(e.getValue()));
                default -> extra.put(e.getKey(), e.getValue());
            }
        }
        return new Info(file, kind, preset, mode, Collections.unmodifiableMap(extra), tensors);
    }

    /** Reads a model file that carries its own metadata. */
    public static Loaded read(Path file, NDManager manager) throws IOException {
        return read(file, manager, null, null);
    }

    /**
     * Reads a model file, checking that it is what the caller expects and that every weight fits the
     * preset before any tensor data is read.
     *
     * @param expected the kind wanted, or null to accept the file's own (then it must have one)
     * @param preset the preset to check against; null to use the file's {@code mvar.preset}. When
     *     both exist, their tokenizer (for a tokenizer) or transformer (for a transformer) sizes must
     *     agree.
     * @throws NoSuchFileException when the file does not exist
     * @throws IllegalArgumentException naming the file and key when metadata is missing or contradicts
     * @throws WeightMismatchException listing every missing, unexpected and mis-shaped weight
     */
    public static Loaded read(Path file, NDManager manager, Kind expected, Preset preset) throws IOException {
        Info checked = check(file, expected, preset);
        StateDict weights = SafeTensorsReader.readAll(file, manager.newSubManager());
        return new Loaded(file, checked.kind(), checked.preset(), checked.mode(), weights, checked.extra());
    }

    /**
     * Every check of {@link #read} from the header alone, without reading a weight: for a command
     * that hands the file to another process, or that wants to fail before any work.
     *
     * @return the header with the kind and preset the file would be loaded as
     */
    public static Info check(Path file, Kind expected, Preset preset) throws IOException {
        Info info = info(file);
        Kind kind = info.kind();
        if (kind == null) {
            if (expected == null) {
                throw new IllegalArgumentException(file + ": no '" + KIND_KEY + "' in the header metadata (a plain"
                        + " safetensors file); say whether it is a tokenizer or a transformer");
            }
            kind = expected;
        } else if (expected != null && kind != expected) {
            throw new IllegalArgumentException(file + ": holds a " + kind.id() + " ('" + KIND_KEY + "'), not a "
                    + expected.id());
        }
        Preset effective = preset != null ? preset : info.preset();
        if (effective == null) {
            throw new IllegalArgumentException(file + ": no '" + PRESET_KEY + "' in the header metadata (a plain"
                    + " safetensors file); give the preset it was made for");
        }
        if (preset != null && info.preset() != null) {
            checkSameSizes(file, kind, info.preset(), preset);
        }
        spec(kind, effective).verify(file.toString(), info.tensors(), TensorInfo::shape);
        return new Info(file, kind, effective, info.mode(), info.extra(), info.tensors());
    }

    /** Names and shapes the preset's model of this kind expects. */
    public static ParameterSpec spec(Kind kind, Preset preset) {
        return kind == Kind.TOKENIZER ? VqVae.spec(preset.tokenizer()) : Transformer.spec(preset.transformer());
    }

    /** {@code mvar} or {@code var}, case-insensitive. */
    public static Mode parseMode(String text) {
        for (Mode m : Mode.values()) {
            if (m.name().equalsIgnoreCase(text.trim())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + text + "' (mvar or var)");
    }

    private static void checkSameSizes(Path file, Kind kind, Preset stored, Preset given) {
        Object a = kind == Kind.TOKENIZER ? stored.tokenizer() : stored.transformer();
        Object b = kind == Kind.TOKENIZER ? given.tokenizer() : given.transformer();
        if (!a.equals(b)) {
            throw new IllegalArgumentException(file + ": a " + kind.id() + " for preset '" + stored.name() + "' ("
                    + KIND_KEY + "/" + PRESET_KEY + ": " + a + ") does not fit preset '" + given.name() + "' (" + b + ")");
        }
    }

    private interface Parse<T> {
        T get();
    }

    private static <T> T parse(Path file, String key, Parse<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw new IllegalArgumentException(msg != null && msg.startsWith(file.toString()) ? msg
                    : file + ": metadata '" + key + "': " + msg, e);
        }
    }
}
