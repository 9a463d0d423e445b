package ai.mvar.config;

import ai.mvar.model.TransformerConfig;
import ai.mvar.tokenizer.ScaleSchedule;
import ai.mvar.tokenizer.VqVaeConfig;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Presets as JSON, in the reference's own key names so a reader of {@code configs/} recognises
 * them. The vocabulary, code width and pyramid are given once, in {@code tokenizer}; the
 * transformer takes them from there, so a preset cannot disagree with itself:
 *
 * <pre>{@code
 * {"name": "fashion-mnist",
 *  "tokenizer": {"vocab_size": 256, "z_channels": 16, "ch": 32, "ch_mult": [1, 1, 2],
 *                "num_res_blocks": 1, "share_quant_resi": 4, "quant_resi": 0.5,
 *                "patch_nums": [1, 2, 3, 5, 7]},
 *  "transformer": {"depth": 4, "embed_dim": 128, "num_heads": 4, "num_classes": 10,
 *                  "refine_step": 3, "kernel_size": 3, "attn_l2_norm": true, "mlp_ratio": 4.0},
 *  "sampling": {"cfg": 2.0, "top_k": 0, "top_p": 0.95},
 *  "classes": "fashion-mnist"}
 * }</pre>
 *
 * {@code sampling.temperature} is optional (the reference's sampler has none): a number for every
 * scale or an array of one per scale ({@link Temperature}); absent means 1, and a temperature of 1 is
 * not written, so the reference's presets keep the reference's keys.
 * {@code classes} is a list name ({@link ClassNames#named}) or an array of names. Every error names
 * the source and the key.
 */
public final class PresetJson {
    private static final Set<String> TOP = Set.of("name", "tokenizer", "transformer", "sampling", "classes");
    private static final Set<String> TOKENIZER = Set.of("vocab_size", "z_channels", "ch", "ch_mult", "num_res_blocks",
            "share_quant_resi", "quant_resi", "patch_nums");
    private static final Set<String> TRANSFORMER = Set.of("depth", "embed_dim", "num_heads", "num_classes",
            "refine_step", "kernel_size", "attn_l2_norm", "mlp_ratio");
    private static final Set<String> SAMPLING = Set.of("cfg", "top_k", "top_p", "temperature");

    private PresetJson() {}

    /** Reads a preset file. */
    public static Preset read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "preset file not found");
        }
        return parse(text, file.toString());
    }

    /** Parses preset JSON; {@code source} names it in error messages. */
    public static Preset parse(String json, String source) {
        JsonObject root;
        try {
            root = JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": not a JSON object: " + e.getMessage(), e);
        }
        Reader r = new Reader(source);
        r.onlyKeys(root, "", TOP);
        JsonObject tok = r.object(root, "tokenizer");
        JsonObject tr = r.object(root, "transformer");
        JsonObject sa = r.object(root, "sampling");
        r.onlyKeys(tok, "tokenizer.", TOKENIZER);
        r.onlyKeys(tr, "transformer.", TRANSFORMER);
        r.onlyKeys(sa, "sampling.", SAMPLING);
        try {
            ScaleSchedule schedule = new ScaleSchedule(r.ints(tok, "tokenizer.patch_nums"));
            VqVaeConfig vae = new VqVaeConfig(r.integer(tok, "tokenizer.vocab_size"), r.integer(tok, "tokenizer.z_channels"),
                    r.integer(tok, "tokenizer.ch"), r.ints(tok, "tokenizer.ch_mult"), r.integer(tok, "tokenizer.num_res_blocks"),
                    r.integer(tok, "tokenizer.share_quant_resi"), (float) r.number(tok, "tokenizer.quant_resi"), schedule);
            TransformerConfig transformer = new TransformerConfig(r.integer(tr, "transformer.depth"),
                    r.integer(tr, "transformer.embed_dim"), r.integer(tr, "transformer.num_heads"), vae.vocabSize(),
                    r.integer(tr, "transformer.num_classes"), vae.latentChannels(), schedule,
                    r.integer(tr, "transformer.refine_step"), r.integer(tr, "transformer.kernel_size"),
                    r.bool(tr, "transformer.attn_l2_norm"), r.number(tr, "transformer.mlp_ratio"));
            Preset.SamplingDefaults sampling = new Preset.SamplingDefaults(r.number(sa, "sampling.cfg"),
                    r.integer(sa, "sampling.top_k"), r.number(sa, "sampling.top_p"),
                    sa.has("temperature") ? r.temperature(sa, "sampling.temperature") : Temperature.NONE);
            return new Preset(r.string(root, "name"), vae, transformer, sampling, r.classes(root));
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(source) ? e
                    : new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /** The JSON {@link #parse} reads back to an equal preset; class names are written out in full. */
    public static String toJson(Preset p) {
        VqVaeConfig v = p.tokenizer();
        TransformerConfig t = p.transformer();
        JsonObject tok = new JsonObject();
        tok.addProperty("vocab_size", v.vocabSize());
        tok.addProperty("z_channels", v.latentChannels());
        tok.addProperty("ch", v.channels());
        tok.add("ch_mult", array(v.channelMultipliers()));
        tok.addProperty("num_res_blocks", v.resBlocks());
        tok.addProperty("share_quant_resi", v.phiCount());
        tok.addProperty("quant_resi", v.phiRatio());
        tok.add("patch_nums", array(v.schedule().patchNums()));
        JsonObject tr = new JsonObject();
        tr.addProperty("depth", t.depth());
        tr.addProperty("embed_dim", t.width());
        tr.addProperty("num_heads", t.heads());
        tr.addProperty("num_classes", t.classes());
        tr.addProperty("refine_step", t.refineStep());
        tr.addProperty("kernel_size", t.kernelSize());
        tr.addProperty("attn_l2_norm", t.attnL2Norm());
        tr.addProperty("mlp_ratio", t.mlpRatio());
        JsonObject sa = new JsonObject();
        sa.addProperty("cfg", p.sampling().cfg());
        sa.addProperty("top_k", p.sampling().topK());
        sa.addProperty("top_p", p.sampling().topP());
        Temperature temperature = p.sampling().temperature();
        if (temperature.uniform() && temperature.at(0) != 1.0) {
            sa.addProperty("temperature", temperature.at(0));
        } else if (!temperature.uniform()) {
            JsonArray a = new JsonArray();
            temperature.values().forEach(a::add);
            sa.add("temperature", a);
        }
        JsonObject root = new JsonObject();
        root.addProperty("name", p.name());
        root.add("tokenizer", tok);
        root.add("transformer", tr);
        root.add("sampling", sa);
        JsonArray names = new JsonArray();
        p.classNames().forEach(names::add);
        root.add("classes", names);
        return new GsonBuilder().setPrettyPrinting().create().toJson(root);
    }

    private static JsonArray array(int[] values) {
        JsonArray a = new JsonArray();
        for (int x : values) {
            a.add(x);
        }
        return a;
    }

    /** Typed access that names the source and key in every error. */
    private record Reader(String source) {
        void onlyKeys(JsonObject o, String prefix, Set<String> allowed) {
            Set<String> unknown = new TreeSet<>(o.keySet());
            unknown.removeAll(allowed);
            if (!unknown.isEmpty()) {
                throw fail(prefix + unknown.iterator().next(), "unknown key (allowed: " + new TreeSet<>(allowed) + ")");
            }
        }

        JsonObject object(JsonObject o, String key) {
            JsonElement e = require(o, key);
            if (!e.isJsonObject()) {
                throw fail(key, "must be an object");
            }
            return e.getAsJsonObject();
        }

        String string(JsonObject o, String key) {
            JsonElement e = require(o, key);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw fail(key, "must be a string");
            }
            return e.getAsString();
        }

        double number(JsonObject o, String path) {
            JsonElement e = require(o, leaf(path), path);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw fail(path, "must be a number, got " + e);
            }
            return e.getAsDouble();
        }

        int integer(JsonObject o, String path) {
            double d = number(o, path);
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw fail(path, "must be an integer, got " + d);
            }
            return (int) d;
        }

        Temperature temperature(JsonObject o, String path) {
            JsonElement e = require(o, leaf(path), path);
            List<Double> values = new ArrayList<>();
            if (e.isJsonArray()) {
                for (JsonElement x : e.getAsJsonArray()) {
                    if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                        throw fail(path, "must be a number or an array of numbers (one per scale), got " + e);
                    }
                    values.add(x.getAsDouble());
                }
            } else {
                values.add(number(o, path));
            }
            try {
                return new Temperature(values);
            } catch (IllegalArgumentException bad) {
                throw fail(path, bad.getMessage());
            }
        }

        boolean bool(JsonObject o, String path) {
            JsonElement e = require(o, leaf(path), path);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
                throw fail(path, "must be true or false, got " + e);
            }
            return e.getAsBoolean();
        }

        int[] ints(JsonObject o, String path) {
            JsonElement e = require(o, leaf(path), path);
            if (!e.isJsonArray() || e.getAsJsonArray().isEmpty()) {
                throw fail(path, "must be a non-empty array of integers, got " + e);
            }
            JsonArray a = e.getAsJsonArray();
            int[] out = new int[a.size()];
            for (int i = 0; i < out.length; i++) {
                JsonElement x = a.get(i);
                if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber() || x.getAsDouble() != Math.rint(x.getAsDouble())) {
                    throw fail(path + "[" + i + "]", "must be an integer, got " + x);
                }
                out[i] = x.getAsInt();
            }
            return out;
        }

        List<String> classes(JsonObject root) {
            JsonElement e = require(root, "classes");
            if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
                try {
                    return ClassNames.named(e.getAsString());
                } catch (IllegalArgumentException bad) {
                    throw fail("classes", bad.getMessage());
                }
            }
            if (!e.isJsonArray()) {
                throw fail("classes", "must be a class-list name or an array of names");
            }
            List<String> names = new ArrayList<>();
            for (JsonElement x : e.getAsJsonArray()) {
                names.add(x.getAsString());
            }
            return names;
        }

        private JsonElement require(JsonObject o, String key) {
            return require(o, key, key);
        }

        private JsonElement require(JsonObject o, String key, String path) {
            JsonElement e = o.get(key);
            if (e == null || e.isJsonNull()) {
                throw fail(path, "is missing");
            }
            return e;
        }

        private static String leaf(String path) {
            return path.substring(path.lastIndexOf('.') + 1);
        }

        private IllegalArgumentException fail(String key, String why) {
            return new IllegalArgumentException(source + ": key '" + key + "' " + why);
        }
    }
}
