package ai.mvar.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.nn.StateDict;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVaeConfig;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One fixture set: {@code <name>-mvar.safetensors} (weights {@code mvar.*}, inputs, outputs) and,
 * if present, {@code <name>-var.safetensors}. Every size comes from the {@code meta} JSON of the
 * header, never from constants.
 */
public final class FixtureSet {
    private final String name;
    private final Path mvarFile;
    private final Path varFile;
    private final JsonObject meta;

    private FixtureSet(String name, Path mvarFile, Path varFile, JsonObject meta) {
        this.name = name;
        this.mvarFile = mvarFile;
        this.varFile = varFile;
        this.meta = meta;
    }

    static FixtureSet open(Path mvarFile) {
        String file = mvarFile.getFileName().toString();
        String name = file.substring(0, file.length() - "-mvar.safetensors".length());
        Path varFile = mvarFile.resolveSibling(name + "-var.safetensors");
        try (SafeTensorsReader reader = SafeTensorsReader.open(mvarFile)) {
            String json = reader.metadata().get("meta");
            if (json == null) {
                throw new IllegalStateException(mvarFile + " has no 'meta' entry in its header metadata");
            }
            return new FixtureSet(name, mvarFile, Files.exists(varFile) ? varFile : null,
                    JsonParser.parseString(json).getAsJsonObject());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public JsonObject meta() {
        return meta;
    }

    public int metaInt(String key) {
        return meta.get(key).getAsInt();
    }

    public double metaDouble(String key) {
        return meta.get(key).getAsDouble();
    }

    public ScaleSchedule schedule() {
        var arr = meta.getAsJsonArray("patch_nums");
        int[] p = new int[arr.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = arr.get(i).getAsInt();
        }
        return new ScaleSchedule(p);
    }

    public VqVaeConfig vaeConfig() {
        return VqVaeConfig.of(metaInt("vocab"), metaInt("cvae"), metaInt("vae_ch"), schedule());
    }

    /** The transformer sizes of this set (vocabulary and Cvae shared with its tokenizer). */
    public ai.mvar.model.TransformerConfig transformerConfig() {
        return new ai.mvar.model.TransformerConfig(metaInt("depth"), metaInt("embed_dim"), metaInt("heads"),
                metaInt("vocab"), metaInt("classes"), metaInt("cvae"), schedule(), metaInt("refine_step"),
                metaInt("kernel_size"), meta.get("attn_l2_norm").getAsBoolean(), 4.0);
    }

    public Path mvarFile() {
        return mvarFile;
    }

    /** The VAR file of this set; fails the test when the set has none. */
    public Path varFile() {
        if (varFile == null) {
            org.junit.jupiter.api.Assertions.fail("fixture set " + name + " has no " + name + "-var.safetensors");
        }
        return varFile;
    }

    /** Every tensor of the MVAR file (weights, inputs and outputs). */
    public StateDict mvarTensors(NDManager manager) {
        return read(mvarFile, manager);
    }

    /** Every tensor of the VAR file. */
    public StateDict varTensors(NDManager manager) {
        return read(varFile(), manager);
    }

    private static StateDict read(Path file, NDManager manager) {
        try {
            return SafeTensorsReader.readAll(file, manager);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A tensor that must be present. */
    public static NDArray require(StateDict sd, String key) {
        NDArray a = sd.get(key);
        if (a == null) {
            org.junit.jupiter.api.Assertions.fail(sd.source() + " has no tensor '" + key + "'");
        }
        return a;
    }

    @Override
    public String toString() {
        return name;
    }
}
