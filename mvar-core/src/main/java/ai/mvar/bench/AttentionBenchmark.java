package ai.mvar.bench;

import ai.mvar.attention.NeighbourhoodTiling;
import java.util.List;
import java.util.Locale;

/**
 * Neighbourhood attention with the cost model's tile against the same pattern as dense masked
 * attention (one tile of the whole map), for maps from 16 x 16 to 64 x 64 at k = 7: every
 * configuration runs in fresh JVMs, the two kinds alternating, and the table reports the tile,
 * median time, time per token and peak memory side by side.
 *
 * <p>Usage: {@code AttentionBenchmark [k] [batch] [heads] [headDim] [reps] [sides...]}.
 */
public final class AttentionBenchmark {
    private AttentionBenchmark() {}

    public static void main(String[] args) {
        int k = arg(args, 0, 7);
        int batch = arg(args, 1, 1);
        int heads = arg(args, 2, 4);
        int dim = arg(args, 3, 64);
        int reps = arg(args, 4, 5);
        int[] sides = args.length > 5
                ? java.util.Arrays.stream(args, 5, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {16, 24, 32, 48, 64};
        System.out.printf(Locale.ROOT, "neighbourhood vs dense masked attention: k=%d, batch %d, %d heads, head dim %d, median of %d%n%n",
                k, batch, heads, dim, reps);
        System.out.println("| map | tokens N | tile | tiled ms | dense ms | dense / tiled | tiled us per token | dense us per token | tiled peak MiB | dense peak MiB |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (int side : sides) {
            String[] common = {String.valueOf(side), String.valueOf(k), String.valueOf(batch), String.valueOf(heads),
                String.valueOf(dim), String.valueOf(reps)};
            Measurement na = probe("auto", common);
            Measurement dense = probe("dense", common);
            int n = side * side;
            NeighbourhoodTiling t = NeighbourhoodTiling.choose(side, k, (long) batch * heads, dim, false);
            System.out.printf(Locale.ROOT, "| %dx%d | %d | %dx%d | %.2f | %.2f | %.2f | %.3f | %.3f | %.1f | %.1f |%n", side, side, n,
                    t.rows(), Math.min(t.cols(), side),
                    na.medianMillis(), dense.medianMillis(), dense.medianMillis() / na.medianMillis(),
                    1000 * na.medianMillis() / n, 1000 * dense.medianMillis() / n, na.peakMiB(), dense.peakMiB());
        }
    }

    private static Measurement probe(String kind, String[] common) {
        List<String> args = new java.util.ArrayList<>(List.of("attention", kind));
        args.addAll(List.of(common));
        return ForkedProbe.run(args);
    }

    static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
