package org.klpcatalog.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.klpcatalog.exec.ToolRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code klp-catalog} command: a thin picocli shell over the library's API. */
@Command(
    name = "klp-catalog",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "GitOps controller for kernel livepatch catalogs.",
      "",
      "A catalog is a Git repository with one directory per livepatch. 'validate' checks it on"
          + " every pull request; 'analyze' shows what a kernel fix changes; 'reconcile' plans and"
          + " publishes the yum repository; 'serve' does so on every merge, as a service."
    },
    subcommands = {
      ValidateCommand.class,
      AnalyzeCommand.class,
      SourceCheckCommand.class,
      ReconcileCommand.class,
      BuildCommand.class,
      QaCommand.class,
      RollbackCommand.class,
      HistoryCommand.class,
      ServeCommand.class,
      StatusCommand.class,
      SuspendCommand.Suspend.class,
      SuspendCommand.Resume.class,
      CheckCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(run(Terminal.system(), args));
  }

  private static volatile boolean colour;

  /** Whether the running command line may colour its output. */
  static boolean colour() {
    return colour;
  }

  /** Runs the command line and returns the exit code; what tests call. */
  public static int run(Terminal terminal, String... args) {
    colour = terminal.colour();
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(terminal.out());
    cl.setErr(terminal.err());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExitCodeExceptionMapper(e -> ExitCodes.INTERNAL);
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          terminal.err().println("klp-catalog: " + ex.getMessage());
          terminal
              .err()
              .println(
                  "Try 'klp-catalog " + commandPath(ex.getCommandLine()) + "--help' for usage.");
          return ExitCodes.INVALID;
        });
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          if (ex instanceof CommandStop stop) {
            stop.message().ifPresent(m -> terminal.err().println("klp-catalog: " + m));
            return stop.exitCode();
          }
          terminal.err().println("klp-catalog: internal failure: " + ex);
          if (System.getenv("KLP_CATALOG_DEBUG") != null) {
            ex.printStackTrace(terminal.err());
          } else {
            terminal.err().println("(set KLP_CATALOG_DEBUG=1 for the stack trace)");
          }
          return ExitCodes.INTERNAL;
        });
    // One set of exit codes, listed in every command's help.
    cl.getCommandSpec()
        .usageMessage()
        .exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(ExitCodes.descriptions());
    for (CommandLine sub : cl.getSubcommands().values()) {
      sub.setOut(terminal.out());
      sub.setErr(terminal.err());
      sub.getCommandSpec()
          .usageMessage()
          .exitCodeListHeading("%nExit codes:%n")
          .exitCodeList(ExitCodes.descriptions());
    }
    int code;
    try {
      // Every external program this command runs must be declared for it in the tool registry.
      ToolRegistry.activeCommand(args.length > 0 ? args[0] : null);
      code = cl.execute(args);
    } catch (OutOfMemoryError e) {
      terminal
          .err()
          .println(
              "klp-catalog: out of memory ("
                  + Runtime.getRuntime().maxMemory() / (1024 * 1024)
                  + " MiB heap); give the JVM more with KLP_CATALOG_JAVA_OPTS=-Xmx2g");
      code = ExitCodes.INTERNAL;
    } catch (Throwable e) {
      // Errors picocli does not handle (a stack overflow, a class that cannot load) are internal
      // failures too, never the JVM's exit status 1 ("changes pending" to a dry run).
      terminal.err().println("klp-catalog: internal failure: " + e);
      if (System.getenv("KLP_CATALOG_DEBUG") != null) {
        e.printStackTrace(terminal.err());
      }
      code = ExitCodes.INTERNAL;
    } finally {
      ToolRegistry.activeCommand(null);
    }
    terminal.out().flush();
    terminal.err().flush();
    return code;
  }

  private static String commandPath(CommandLine cl) {
    String name = cl.getCommandName();
    return name.equals("klp-catalog") ? "" : name + " ";
  }

  /** Reads the version Maven wrote into the jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"klp-catalog " + p.getProperty("version", "unknown")};
    }
  }
}
