package ai.mvar.cli;

import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.ModelFile;
import ai.mvar.checkpoint.SafeTensorsWriter;
import ai.mvar.config.Preset;
import ai.mvar.config.PresetJson;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.nn.Torch;
import ai.mvar.tokenizer.VqVae;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A tiny preset (V 64, Cvae 8, ch 32, ch_mult [1,2], patch_nums [1,2,4,8]: 16 px images; depth 2,
 * width 64, 2 heads, classes cat, dog, dolphin) with random weights saved as model files.
 */
final class TinyModel {
    static final String JSON = """
            {"name": "tiny",
             "tokenizer": {"vocab_size": 64, "z_channels": 8, "ch": 32, "ch_mult": [1, 2], "num_res_blocks": 1,
                           "share_quant_resi": 4, "quant_resi": 0.5, "patch_nums": [1, 2, 4, 8]},
             "transformer": {"depth": 2, "embed_dim": 64, "num_heads": 2, "num_classes": 3, "refine_step": 2,
                             "kernel_size": 3, "attn_l2_norm": true, "mlp_ratio": 4.0},
             "sampling": {"cfg": 1.5, "top_k": 0, "top_p": 0.9},
             "classes": ["cat", "dog", "dolphin"]}
            """;

    final Path preset;
    final Path tokenizer;
    final Path transformer;
    final Preset config;

    private TinyModel(Path preset, Path tokenizer, Path transformer, Preset config) {
        this.preset = preset;
        this.tokenizer = tokenizer;
        this.transformer = transformer;
        this.config = config;
    }

    /** Writes tiny.json, tokenizer.safetensors and mvar.safetensors (mode MVAR) into {@code dir}. */
    static TinyModel create(Path dir) throws IOException {
        Path presetFile = dir.resolve("tiny.json");
        Files.writeString(presetFile, JSON);
        Preset preset = PresetJson.read(presetFile);
        Path tok = dir.resolve("tokenizer.safetensors");
        Path tr = dir.resolve("mvar.safetensors");
        try (NDManager m = Torch.newManager();
                VqVae vae = VqVae.random(preset.tokenizer(), m, 1);
                Transformer t = Transformer.random(preset.transformer(), m, 2)) {
            ModelFile.write(tok, ModelFile.Kind.TOKENIZER, preset, null, vae.weights().tensors(), Map.of("note", "test"));
            ModelFile.write(tr, ModelFile.Kind.TRANSFORMER, preset, Mode.MVAR, t.weights().tensors(), Map.of());
        }
        return new TinyModel(presetFile, tok, tr, preset);
    }

    /** A plain safetensors transformer (no metadata) of another preset's sizes. */
    static Path plainTransformer(Path file, Preset preset) throws IOException {
        try (NDManager m = Torch.newManager(); Transformer t = Transformer.random(preset.transformer(), m, 3)) {
            SafeTensorsWriter.write(file, t.weights().tensors(), Map.of());
        }
        return file;
    }

    /** A plain safetensors tokenizer (no metadata). */
    static Path plainTokenizer(Path file, Preset preset) throws IOException {
        try (NDManager m = Torch.newManager(); VqVae v = VqVae.random(preset.tokenizer(), m, 4)) {
            SafeTensorsWriter.write(file, v.weights().tensors(), Map.of());
        }
        return file;
    }

    /** The tiny preset with another width (its weights do not fit the tiny preset). */
    static Preset wider() {
        return PresetJson.parse(JSON.replace("\"embed_dim\": 64", "\"embed_dim\": 96"), "wider");
    }
}
