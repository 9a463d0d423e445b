package ai.mvar.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code mvar} command. Subcommands are listed once, in {@code subcommands} below; each is a
 * {@link Callable} that throws on failure and lets {@link #newCommandLine()}'s handlers turn the
 * exception into one line on stderr and an exit code (1 runtime failure, 2 usage error).
 */
@Command(name = "mvar",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        versionProvider = Mvar.Version.class,
        description = "Class-conditional image generation by next-scale prediction: MVAR and its VAR baseline.",
        subcommands = {
            SampleCommand.class,
            TrainTokenizerCommand.class,
            TrainCommand.class,
            TrainClassifierCommand.class,
            EvalCommand.class,
            TokenizeCommand.class,
            ImportCommand.class,
            SetPresetCommand.class,
            BenchCommand.class,
            InfoCommand.class,
            DoctorCommand.class,
            CommandLine.HelpCommand.class,
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./mvar sample                      all Fashion-MNIST classes (bundled model)",
            "  ./mvar sample --classes Sneaker,Bag --per-class 4 --seed 7",
            "  ./mvar info d16 --batch 32         sizes and memory estimate of d16",
            "  ./mvar bench --preset d16 --random MVAR vs VAR time and peak memory",
            "  ./mvar import var_d16.pth --kind transformer --out var_d16.safetensors",
            "  ./mvar doctor                      engine, libtorch, GPUs, CUDA kernel",
            "  ./mvar help sample                 every option of a command",
            "",
            "Exit codes: 0 success, 1 runtime failure, 2 usage error.",
            "--verbose (anywhere) shows stack traces and log messages."
        })
public final class Mvar implements Callable<Integer> {
    /** Prints stack traces of failures and INFO log messages; accepted before or after the command name. */
    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Show stack traces of errors and informational log messages.")
    boolean verbose;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        configureLogging(Arrays.asList(args).contains("--verbose"));
        System.exit(newCommandLine().execute(args));
    }

    /** A command line with the central error handling; tests run commands through it. */
    public static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new Mvar());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(Mvar::handleExecutionException);
        cl.setParameterExceptionHandler(Mvar::handleParameterException);
        return cl;
    }

    /** SLF4J simple: warnings only, unless verbose; must run before the first logger is created. */
    static void configureLogging(boolean verbose) {
        String key = "org.slf4j.simpleLogger.defaultLogLevel";
        if (System.getProperty(key) == null) {
            System.setProperty(key, verbose ? "info" : "warn");
        }
        if (!verbose) {
            // The engine's start-up notes (GPU probing, thread counts) and the CUDA kernel fallback are not the user's concern.
            System.setProperty("org.slf4j.simpleLogger.log.ai.djl", "error");
            System.setProperty("org.slf4j.simpleLogger.log.ai.mvar.cuda", "error");
        }
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        System.setProperty("org.slf4j.simpleLogger.showLogName", "false");
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "no command given: one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    private static int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        if (ex instanceof ParameterException pe) {
            return report(pe.getCommandLine(), pe, verbose(parseResult), true);
        }
        return report(cmd, ex, verbose(parseResult), false);
    }

    private static int handleParameterException(ParameterException ex, String[] args) {
        return report(ex.getCommandLine(), ex, Arrays.asList(args).contains("--verbose"), true);
    }

    private static int report(CommandLine cmd, Exception ex, boolean verbose, boolean usage) {
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();
        String message = Errors.oneLine(ex);
        if (usage) {
            message += " (see '" + name + " --help')";
        }
        err.println(name + ": error: " + message);
        if (verbose) {
            ex.printStackTrace(err);
        }
        err.flush();
        return usage ? CommandLine.ExitCode.USAGE : CommandLine.ExitCode.SOFTWARE;
    }

    private static boolean verbose(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** The version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Mvar.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"mvar " + p.getProperty("version", "(unknown version)"),
                "Java " + System.getProperty("java.version") + ", DJL PyTorch engine"};
        }
    }
}
