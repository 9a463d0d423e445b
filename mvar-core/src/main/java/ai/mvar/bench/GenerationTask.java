package ai.mvar.bench;

import ai.mvar.config.Temperature;
import ai.mvar.model.Mode;
import ai.mvar.nn.Precision;
import ai.mvar.nn.Torch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One image-generation benchmark task for a preset, as {@link Probe} runs it in a fresh JVM:
 * carried there as {@code key=value} arguments after the task name {@code preset}.
 *
 * @param preset the preset JSON file
 * @param cfg the sampling settings ({@code cfg} to {@code temperature}) as {@link ai.mvar.sampling.SamplingOptions}
 *     takes them
 * @param depth transformer depth override, 0 for the preset's
 * @param device {@code cpu} or {@code gpu<N>}
 * @param decode also decode the images (token generation alone otherwise)
 * @param tokenizer tokenizer model file, or null (with {@code model} null) for random weights
 * @param model transformer model file, or null for random weights
 */
public record GenerationTask(Mode mode, Path preset, int batch, int reps, double cfg, int topK, double topP,
        Temperature temperature, int depth, Precision precision, String device, boolean decode, Path tokenizer, Path model) {

    public GenerationTask {
        Torch.device(device);
        if ((tokenizer == null) != (model == null)) {
            throw new IllegalArgumentException("give both a tokenizer and a model file, or neither (random weights)");
        }
    }

    public boolean random() {
        return model == null;
    }

    public GenerationTask withMode(Mode m) {
        return new GenerationTask(m, preset, batch, reps, cfg, topK, topP, temperature, depth, precision, device, decode,
                tokenizer, model);
    }

    /** The probe's arguments: {@code preset key=value...}. */
    public List<String> args() {
        List<String> a = new ArrayList<>(List.of("preset", "mode=" + mode, "preset=" + preset, "batch=" + batch,
                "reps=" + reps, "cfg=" + cfg, "topK=" + topK, "topP=" + topP, "temperature=" + temperature,
                "depth=" + depth,
                "precision=" + precision.name(), "device=" + device, "decode=" + decode));
        if (model != null) {
            a.add("tokenizer=" + tokenizer);
            a.add("model=" + model);
        }
        return a;
    }

    /** The task from {@link #args()} (the task name first); unknown or missing keys are errors. */
    public static GenerationTask parse(List<String> args) {
        Map<String, String> kv = new HashMap<>();
        for (String a : args.subList(1, args.size())) {
            int eq = a.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("probe argument '" + a + "' is not key=value");
            }
            kv.put(a.substring(0, eq), a.substring(eq + 1));
        }
        GenerationTask t = new GenerationTask(Mode.valueOf(take(kv, "mode")), Path.of(take(kv, "preset")),
                Integer.parseInt(take(kv, "batch")), Integer.parseInt(take(kv, "reps")), Double.parseDouble(take(kv, "cfg")),
                Integer.parseInt(take(kv, "topK")), Double.parseDouble(take(kv, "topP")),
                Temperature.parse(take(kv, "temperature")), Integer.parseInt(take(kv, "depth")),
                Precision.valueOf(take(kv, "precision")), take(kv, "device"), Boolean.parseBoolean(take(kv, "decode")),
                kv.containsKey("tokenizer") ? Path.of(kv.remove("tokenizer")) : null,
                kv.containsKey("model") ? Path.of(kv.remove("model")) : null);
        if (!kv.isEmpty()) {
            throw new IllegalArgumentException("unknown probe arguments " + kv.keySet());
        }
        return t;
    }

    private static String take(Map<String, String> kv, String key) {
        String v = kv.remove(key);
        if (v == null) {
            throw new IllegalArgumentException("probe argument " + key + "=... missing");
        }
        return v;
    }
}
