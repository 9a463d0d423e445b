package ai.mvar.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Named class lists a preset can refer to instead of spelling out every name. */
public final class ClassNames {
    public static final List<String> FASHION_MNIST = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private ClassNames() {}

    /** {@code fashion-mnist}, {@code imagenet} (the 1000 ILSVRC-2012 classes) or {@code numbered:<n>}. */
    public static List<String> named(String list) {
        if (list.equals("fashion-mnist")) {
            return FASHION_MNIST;
        }
        if (list.equals("imagenet")) {
            return resource("imagenet-classes.txt");
        }
        if (list.startsWith("numbered:")) {
            int n = Integer.parseInt(list.substring("numbered:".length()));
            List<String> names = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                names.add("class " + i);
            }
            return names;
        }
        throw new IllegalArgumentException("unknown class list '" + list + "' (fashion-mnist, imagenet, numbered:<n>)");
    }

    private static List<String> resource(String file) {
        try (InputStream in = ClassNames.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("class list resource " + file + " is missing from mvar-core");
            }
            List<String> names = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (!line.isBlank()) {
                        names.add(line.trim());
                    }
                }
            }
            return Collections.unmodifiableList(names);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
