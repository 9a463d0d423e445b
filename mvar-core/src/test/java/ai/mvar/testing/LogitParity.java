package ai.mvar.testing;

import static ai.mvar.testing.FixtureSet.require;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.mvar.model.Mode;
import ai.mvar.model.Transformer;
import ai.mvar.model.TransformerConfig;
import ai.mvar.nn.Precision;
import ai.mvar.nn.StateDict;
import ai.mvar.nn.Torch;

/**
 * The reference's teacher-forced logits of one fixture set, recomputed on any device in any
 * precision: MVAR's block-diagonal pass and each neighbourhood scale alone, VAR's block-causal
 * pass. The fixtures are fp32; the tolerance says how close the precision must come.
 */
public final class LogitParity {
    private LogitParity() {}

    /** {@code out.logits.block} and every {@code out.logits.scale<s>} of the MVAR file. */
    public static void mvar(FixtureSet set, Device device, Precision precision, double tolerance) {
        try (NDManager manager = Torch.newManager(device);
                StateDict ref = set.mvarTensors(manager.newSubManager());
                Transformer mvar = Transformer.load(set.transformerConfig(), ref.extract("mvar", manager.newSubManager()),
                        precision)) {
            TransformerConfig c = set.transformerConfig();
            NDArray labels = require(ref, "in.label");
            NDArray xIn = require(ref, "out.x_in");
            check(mvar.logits(labels, xIn, 0, c.refineStep(), Mode.MVAR), require(ref, "out.logits.block"), tolerance,
                    set + " " + Torch.name(device) + " " + precision + " out.logits.block");
            for (int scale = c.refineStep(); scale < c.schedule().scales(); scale++) {
                check(mvar.logits(labels, xIn, scale, scale + 1, Mode.MVAR), require(ref, "out.logits.scale" + scale),
                        tolerance, set + " " + Torch.name(device) + " " + precision + " out.logits.scale" + scale);
            }
        }
    }

    /** {@code out.logits.causal} of the VAR file. */
    public static void var(FixtureSet set, Device device, Precision precision, double tolerance) {
        try (NDManager manager = Torch.newManager(device);
                StateDict inputs = set.mvarTensors(manager.newSubManager());
                StateDict ref = set.varTensors(manager.newSubManager());
                Transformer var = Transformer.load(set.transformerConfig(), ref.extract("var", manager.newSubManager()),
                        precision)) {
            int scales = set.schedule().scales();
            check(var.logits(require(inputs, "in.label"), require(ref, "out.x_in"), 0, scales, Mode.VAR),
                    require(ref, "out.logits.causal"), tolerance, set + " " + Torch.name(device) + " " + precision + " out.logits.causal");
        }
    }

    private static void check(NDArray logits, NDArray expected, double tolerance, String what) {
        assertEquals(DataType.FLOAT32, logits.getDataType(), what + ": logits are fp32 in every precision");
        Tolerance.assertClose(logits, expected, tolerance, what);
    }
}
