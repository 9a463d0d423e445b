package ai.mvar.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "mvar", mixinStandardHelpOptions = true, version = "mvar 0.1.0",
        description = "MVAR / VAR: class-conditional image generation by next-scale prediction.",
        subcommands = {TrainTokenizerCommand.class})
public final class Mvar implements Runnable {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Mvar()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
