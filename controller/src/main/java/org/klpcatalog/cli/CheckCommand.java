package org.klpcatalog.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.exec.ToolRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code klp-catalog check}: which of the programs the commands run are here, and the sandbox. */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {
      "Check this machine for what klp-catalog's commands need: every external program of the tool"
          + " registry (present, or missing with the package that provides it), and that the build"
          + " sandbox (bubblewrap) can start.",
      "bin/klp-catalog installs what a command needs on first use; this reports what is there."
    })
final class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "COMMAND",
      arity = "0..*",
      description =
          "Check only for these commands: build, reconcile, qa, serve, tests (default: build,"
              + " reconcile, qa, serve).")
  List<String> commands = new ArrayList<>();

  @Mixin OutputOption output;

  /** One row of the report. */
  record Row(ToolRegistry.Tool tool, Optional<Path> path) {
    boolean missing() {
      return path.isEmpty() && tool.kind() != ToolRegistry.Kind.OPTIONAL;
    }
  }

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    Set<String> wanted =
        new LinkedHashSet<>(
            commands.isEmpty() ? List.of("build", "reconcile", "qa", "serve") : commands);
    for (String c : wanted) {
      if (!ToolRegistry.COMMANDS.contains(c)) {
        t.err()
            .println(
                "klp-catalog: check: unknown command '"
                    + Terminal.safe(c)
                    + "'; give build, reconcile, qa, serve or tests");
        return ExitCodes.INVALID;
      }
    }
    String family = family();
    List<Row> rows = new ArrayList<>();
    for (ToolRegistry.Tool tool : ToolRegistry.get().tools()) {
      if (tool.commands().stream().anyMatch(wanted::contains)
          && !packages(tool, family).isEmpty()) {
        rows.add(new Row(tool, ToolRegistry.locate(tool)));
      }
    }
    String sandbox;
    boolean sandboxOk;
    try {
      Sandbox.bubblewrap(Sandbox.Limits.DEFAULT).probe();
      sandbox = "works (bubblewrap: no network, private file system, unprivileged)";
      sandboxOk = true;
    } catch (Sandbox.UnavailableException e) {
      sandbox = e.getMessage();
      sandboxOk = false;
    }
    List<String> install = new ArrayList<>();
    rows.stream()
        .filter(Row::missing)
        .forEach(
            r ->
                packages(r.tool(), family).stream()
                    .filter(p -> !install.contains(p))
                    .forEach(install::add));
    long missing = rows.stream().filter(Row::missing).count();
    if (output.json()) {
      ObjectNode root = Json.object();
      root.put("family", family);
      ArrayNode cs = root.putArray("commands");
      wanted.forEach(cs::add);
      ArrayNode tools = root.putArray("tools");
      for (Row r : rows) {
        ObjectNode o = tools.addObject();
        o.put("name", r.tool().name());
        o.put("kind", r.tool().kind().name().toLowerCase(Locale.ROOT));
        o.put("present", r.path().isPresent());
        o.put("path", r.path().map(Path::toString).orElse(null));
        ArrayNode pk = o.putArray("packages");
        packages(r.tool(), family).forEach(pk::add);
        ArrayNode by = o.putArray("neededBy");
        r.tool().commands().stream().sorted().forEach(by::add);
        o.put("purpose", r.tool().purpose());
      }
      root.put("missing", missing);
      root.putObject("sandbox").put("works", sandboxOk).put("message", sandbox);
      t.out().println(Json.pretty(root));
    } else {
      t.out()
          .println(
              "Tools of "
                  + String.join(", ", wanted)
                  + " on this machine ("
                  + family
                  + " packages):");
      for (Row r : rows) {
        String state =
            r.path().isPresent()
                ? t.green("ok      ")
                : r.tool().kind() == ToolRegistry.Kind.OPTIONAL
                    ? t.dim("optional")
                    : t.red("MISSING ");
        t.out()
            .printf(
                "  %s %-20s %-40s %s%n",
                state,
                r.tool().name(),
                r.path()
                    .map(Path::toString)
                    .orElse("(" + String.join(" ", packages(r.tool(), family)) + ")"),
                r.tool().purpose());
      }
      t.out().println("sandbox: " + (sandboxOk ? t.green(sandbox) : t.red(sandbox)));
      if (missing == 0 && sandboxOk) {
        t.out().println(t.green("Nothing missing."));
      } else if (missing > 0) {
        t.out()
            .println(
                t.red(missing + " missing.")
                    + " Install: "
                    + installCommand(family, install)
                    + "  (bin/klp-catalog does this on first use of a command)");
      }
    }
    return missing == 0 && sandboxOk ? ExitCodes.OK : ExitCodes.UNAVAILABLE;
  }

  /** debian, fedora or unknown, as bin/klp-catalog decides. */
  static String family() {
    if (Files.exists(Path.of("/etc/debian_version"))) {
      return "debian";
    }
    if (Files.exists(Path.of("/etc/redhat-release"))
        || Files.exists(Path.of("/etc/fedora-release"))) {
      return "fedora";
    }
    return "unknown";
  }

  private static List<String> packages(ToolRegistry.Tool tool, String family) {
    return switch (family) {
      case "debian" -> tool.debian();
      case "fedora" -> tool.fedora();
      default -> tool.debian().isEmpty() ? tool.fedora() : tool.debian();
    };
  }

  private static String installCommand(String family, List<String> packages) {
    String list = String.join(" ", packages);
    return switch (family) {
      case "debian" -> "apt-get install " + list;
      case "fedora" -> "dnf install " + list;
      default -> list;
    };
  }
}
