package ai.mvar.train;

import ai.djl.ndarray.NDArray;
import ai.mvar.checkpoint.SafeTensorsWriter;
import ai.djl.ndarray.NDManager;
import ai.mvar.checkpoint.SafeTensorsReader;
import ai.mvar.train.data.DataPosition;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training checkpoints in one folder, one safetensors file per save ({@code step-000000001234.
 * safetensors}): weights as {@code model.<name>}, optimizer tensors as {@code optim.<name>}, other
 * buffers as {@code buffer.<name>}, the rest as header metadata.
 *
 * <p>A save never damages what is there: the file is written under a temporary name in the same
 * folder, forced to disk, renamed over its final name atomically and the folder synced; only then
 * are checkpoints beyond the newest {@code keep} deleted. {@link #resume} takes the newest file that
 * reads back completely, so a crash mid-save or a damaged file falls back to the one before.
 */
public final class TrainingCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingCheckpoint.class);
    static final String FORMAT = "mvar-training-checkpoint";
    static final String VERSION = "1";
    private static final Pattern NAME = Pattern.compile("step-(\\d{12})\\.safetensors");
    private static final String MODEL = "model.";
    private static final String OPTIM = "optim.";
    private static final String BUFFER = "buffer.";
    private static final String RANDOM = "random.";
    private static final String EXTRA = "extra.";

    private final Path dir;
    private final int keep;

    public TrainingCheckpoint(Path dir, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep at least one checkpoint, got " + keep);
        }
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    /** Saves {@code state} atomically and prunes old checkpoints; returns the new file. */
    public Path save(TrainingState state) throws IOException {
        Files.createDirectories(dir);
        Path file = file(state.step());
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        state.weights().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> tensors.put(MODEL + e.getKey(), e.getValue()));
        state.optimizer().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> tensors.put(OPTIM + e.getKey(), e.getValue()));
        state.buffers().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> tensors.put(BUFFER + e.getKey(), e.getValue()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("version", VERSION);
        meta.put("step", Long.toString(state.step()));
        meta.put("optimizer_steps", Long.toString(state.optimizerSteps()));
        meta.put("data_position", state.data().toString());
        state.random().forEach((k, v) -> meta.put(RANDOM + k, Long.toString(v)));
        state.extra().forEach((k, v) -> meta.put(EXTRA + k, v));

        // written to a temporary file, fsynced and renamed: a kill never leaves a partial checkpoint
        SafeTensorsWriter.write(file, tensors, meta);
        syncDirectory();
        prune();
        LOG.info("checkpoint {} ({} tensors)", file, tensors.size());
        return file;
    }

    /** Checkpoint files, newest first. */
    public List<Path> checkpoints() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).forEach(files::add);
        }
        files.sort(Comparator.comparingLong(TrainingCheckpoint::stepOf).reversed());
        return files;
    }

    /**
     * The newest checkpoint that reads back completely, its tensors created in {@code manager};
     * empty when there is none. Damaged files are logged and skipped.
     */
    public Optional<TrainingState> resume(NDManager manager) throws IOException {
        for (Path file : checkpoints()) {
            try {
                TrainingState state = readWhole(file, manager);
                LOG.info("resuming from {} (step {})", file, state.step());
                return Optional.of(state);
            } catch (IOException | RuntimeException e) {
                LOG.warn("skipping unusable checkpoint {}: {}", file, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /**
     * The checkpoint of {@code step}, which must read back completely: the ranks of a job other
     * than rank 0 load the one rank 0 chose.
     */
    public TrainingState load(long step, NDManager manager) throws IOException {
        Path file = file(step);
        try {
            return readWhole(file, manager);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot read " + file + ", the checkpoint rank 0 resumes from (" + e.getMessage()
                    + "); every rank must see the run folder (a file system all machines share)", e);
        }
    }

    /** {@code file} read in full into {@code manager}, or nothing allocated there at all. */
    private static TrainingState readWhole(Path file, NDManager manager) throws IOException {
        try (NDManager attempt = manager.newSubManager()) {
            TrainingState state = read(file, attempt);
            for (NDArray a : attempt.getManagedArrays().stream().map(NDArray.class::cast).toList()) {
                a.attach(manager);
            }
            return state;
        }
    }

    private Path file(long step) {
        return dir.resolve(String.format("step-%012d.safetensors", step));
    }

    private static TrainingState read(Path file, NDManager manager) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(file)) {
            Map<String, String> meta = reader.metadata();
            if (!FORMAT.equals(meta.get("format")) || !VERSION.equals(meta.get("version"))) {
                throw new IOException(file + " is not a version " + VERSION + " training checkpoint");
            }
            Map<String, NDArray> weights = new LinkedHashMap<>();
            Map<String, NDArray> optimizer = new LinkedHashMap<>();
            Map<String, NDArray> buffers = new LinkedHashMap<>();
            for (String name : reader.tensors().keySet()) {
                // Copy out of the memory-mapped file so the arrays outlive the reader.
                NDArray mapped = reader.load(name, manager);
                NDArray owned = mapped.duplicate();
                mapped.close();
                if (name.startsWith(MODEL)) {
                    weights.put(name.substring(MODEL.length()), owned);
                } else if (name.startsWith(OPTIM)) {
                    optimizer.put(name.substring(OPTIM.length()), owned);
                } else if (name.startsWith(BUFFER)) {
                    buffers.put(name.substring(BUFFER.length()), owned);
                } else {
                    throw new IOException(file + ": unexpected tensor " + name);
                }
            }
            Map<String, Long> random = new LinkedHashMap<>();
            Map<String, String> extra = new LinkedHashMap<>();
            meta.forEach((k, v) -> {
                if (k.startsWith(RANDOM)) {
                    random.put(k.substring(RANDOM.length()), Long.parseLong(v));
                } else if (k.startsWith(EXTRA)) {
                    extra.put(k.substring(EXTRA.length()), v);
                }
            });
            return new TrainingState(Long.parseLong(meta.get("step")), weights, optimizer, buffers,
                    Long.parseLong(meta.get("optimizer_steps")), DataPosition.parse(meta.get("data_position")),
                    random, extra);
        }
    }

    private void prune() throws IOException {
        List<Path> all = checkpoints();
        for (Path old : all.subList(Math.min(keep, all.size()), all.size())) {
            Files.deleteIfExists(old);
        }
    }

    /** Makes the rename durable; some file systems cannot open folders, which only loses that. */
    private void syncDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            LOG.debug("cannot sync folder {}: {}", dir, e.getMessage());
        }
    }

    private static long stepOf(Path file) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }
}
