package ai.mvar.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Serves parameters from a {@link StateDict} and, once the model is built, checks that the state
 * dict held exactly what the model asked for ({@link #verify()}).
 */
public final class StateDictParams {
    private final StateDict stateDict;
    private final DataType dtype;
    private final ParameterSpec expected = new ParameterSpec();

    /**
     * @param dtype every floating-point parameter is converted to this type once, at load time
     */
    public StateDictParams(StateDict stateDict, DataType dtype) {
        this.stateDict = stateDict;
        this.dtype = dtype;
    }

    /** The root view handed to a module's constructor. */
    public Params root() {
        return view("");
    }

    /**
     * Throws a {@link WeightMismatchException} naming every missing, unexpected and mis-shaped key;
     * returns quietly when the state dict fits.
     */
    public void verify() {
        expected.verify(stateDict.source(), stateDict.tensors(), NDArray::getShape);
    }

    private Params view(String prefix) {
        return new ScopedParams(prefix) {
            @Override
            public NDArray get(String name, Init init, long... shape) {
                String key = key(name);
                expected.add(key, new Shape(shape));
                NDArray stored = stateDict.get(key);
                if (stored == null || !stored.getShape().equals(new Shape(shape))) {
                    return null; // reported by verify(), together with every other problem
                }
                if (stored.getDataType().isFloating() && stored.getDataType() != dtype) {
                    NDArray cast = stored.toType(dtype, false);
                    stateDict.put(key, cast);
                    return cast;
                }
                return stored;
            }

            @Override
            public void buffer(String name, long... shape) {
                expected.addBuffer(key(name), new Shape(shape));
            }

            @Override
            protected Params withPrefix(String fullPrefix) {
                return view(fullPrefix);
            }
        };
    }
}
