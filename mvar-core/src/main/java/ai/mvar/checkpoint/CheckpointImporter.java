package ai.mvar.checkpoint;

import ai.mvar.nn.ParameterSpec;
import ai.mvar.nn.WeightMismatchException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts a PyTorch checkpoint ({@code .pth}, zip or legacy) into a safetensors file that this
 * project loads: the model's state dict is found, checked against the {@link ParameterSpec} of the
 * chosen configuration, stripped of the buffers the Java model derives itself, and written under
 * the official key names with the caller's metadata (the configuration) in the header.
 *
 * <p>Tensor bytes are streamed from the checkpoint to the output one tensor at a time, so an 8 GB
 * checkpoint converts with little memory.
 */
public final class CheckpointImporter {
    private CheckpointImporter() {}

    /** What an import wrote and what it left out. */
    public record Report(Path output, List<String> written, List<String> droppedBuffers) {}

    /**
     * @param checkpoint the {@code .pth} file
     * @param stateDictKey where the state dict sits ({@code trainer.mvar_wo_ddp}, "" for the top
     *     level), or null to search {@link StateDictLocator#DEFAULT_KEYS}
     * @param spec parameters and derivable buffers of the target model, e.g. {@code VqVae.spec(config)}
     * @param metadata stored in the safetensors header; put the configuration here
     * @param output the safetensors file to write (replaced atomically)
     * @throws WeightMismatchException listing every missing, unexpected and mis-shaped key; nothing is written
     * @throws CheckpointFormatException when the checkpoint is malformed or holds no state dict
     */
    public static Report importCheckpoint(Path checkpoint, String stateDictKey, ParameterSpec spec,
            Map<String, String> metadata, Path output) throws IOException {
        try (TorchCheckpointReader reader = TorchCheckpointReader.open(checkpoint)) {
            Map<String, TorchTensor> stateDict = reader.stateDict(stateDictKey);
            spec.verify(checkpoint.toString(), stateDict, TorchTensor::shape);
            List<SafeTensorsWriter.Entry> entries = new ArrayList<>();
            List<String> written = new ArrayList<>();
            List<String> dropped = new ArrayList<>();
            for (Map.Entry<String, TorchTensor> e : stateDict.entrySet()) {
                if (spec.buffers().containsKey(e.getKey())) {
                    dropped.add(e.getKey());
                    continue;
                }
                TorchTensor tensor = e.getValue();
                entries.add(new SafeTensorsWriter.Entry(e.getKey(), tensor.dtype(), tensor.shape(),
                        out -> reader.copyBytes(tensor, out)));
                written.add(e.getKey());
            }
            Map<String, String> header = new LinkedHashMap<>();
            header.put("format", "pt");
            header.putAll(metadata);
            SafeTensorsWriter.write(output, entries, header);
            return new Report(output, List.copyOf(written), List.copyOf(dropped));
        }
    }
}
