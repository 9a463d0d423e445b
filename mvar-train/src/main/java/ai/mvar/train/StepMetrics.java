package ai.mvar.train;

/**
 * What one training step reports: the total loss, per-scale loss and accuracy (token accuracy for
 * the transformer; for the tokenizer, codebook usage), and the learning rate.
 */
public record StepMetrics(long step, double loss, double[] scaleLoss, double[] scaleAccuracy, double lr) {
    public StepMetrics {
        scaleLoss = scaleLoss.clone();
        scaleAccuracy = scaleAccuracy.clone();
    }
}
