package ai.mvar.testing;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code official-shapes.json}: key to shape of the official tokenizer and VAR/MVAR state dicts. */
public final class OfficialShapes {
    private OfficialShapes() {}

    /** The state dict shapes of one official model ({@code vae_ch160v4096z32}, {@code mvar-d16}, ...). */
    public static Map<String, Shape> of(String model) {
        Path file = ReferenceFixtures.directory().resolve("official-shapes.json");
        try {
            JsonObject all = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            if (!all.has(model)) {
                fail(file + " has no model '" + model + "'");
            }
            Map<String, Shape> shapes = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : all.getAsJsonObject(model).entrySet()) {
                var dims = e.getValue().getAsJsonArray();
                long[] s = new long[dims.size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = dims.get(i).getAsLong();
                }
                shapes.put(e.getKey(), new Shape(s));
            }
            return shapes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
