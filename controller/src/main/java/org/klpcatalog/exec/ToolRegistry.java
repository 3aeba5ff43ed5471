package org.klpcatalog.exec;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every external program klp-catalog runs, declared once in {@code tools.tsv} (beside this class)
 * with the Debian and Fedora packages that provide it and the commands that need it. {@code
 * bin/klp-catalog} installs from the same table for the command it runs, {@code klp-catalog check}
 * reports from it, and {@link Command} refuses to start a program that is not declared, or not
 * declared for the command being run, so a new external program cannot slip past the install step
 * of a fresh machine.
 */
public final class ToolRegistry {
  /** What a row declares. */
  public enum Kind {
    /** A program looked up on PATH. */
    PROGRAM,
    /** A shared library the dynamic linker must find (needed by a program we run). */
    LIBRARY,
    /** A program only some catalogs need; reported, never counted as missing. */
    OPTIONAL,
    /**
     * A C header a program we run compiles against (kbuild's host tools when a kernel source is
     * prepared), by its path under /usr/include.
     */
    HEADER
  }

  /** One declared tool. */
  public record Tool(
      String name,
      Kind kind,
      List<String> debian,
      List<String> fedora,
      Set<String> commands,
      String purpose) {
    public boolean neededBy(String command) {
      return commands.contains(command);
    }
  }

  /** The commands the table may name. */
  public static final Set<String> COMMANDS = Set.of("build", "reconcile", "qa", "serve", "tests");

  private static final String RESOURCE = "tools.tsv";
  private static volatile ToolRegistry instance;
  private static volatile String activeCommand;

  private final Map<String, Tool> tools;

  private ToolRegistry(Map<String, Tool> tools) {
    this.tools = tools;
  }

  /** The registry of this build of klp-catalog. */
  public static ToolRegistry get() {
    ToolRegistry r = instance;
    if (r == null) {
      try (InputStream in = ToolRegistry.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(RESOURCE + " is missing from the klp-catalog jar");
        }
        r = parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      instance = r;
    }
    return r;
  }

  /** Parses the table; a malformed row is a bug of this build, so it throws. */
  static ToolRegistry parse(String text) {
    Map<String, Tool> tools = new LinkedHashMap<>();
    int lineNo = 0;
    for (String line : text.split("\n", -1)) {
      lineNo++;
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length != 6) {
        throw new IllegalStateException(
            RESOURCE + ":" + lineNo + ": expected 6 tab-separated columns, found " + f.length);
      }
      Set<String> commands = new LinkedHashSet<>(Arrays.asList(f[4].split(",")));
      for (String c : commands) {
        if (!COMMANDS.contains(c)) {
          throw new IllegalStateException(
              RESOURCE + ":" + lineNo + ": unknown command '" + c + "'");
        }
      }
      Tool t =
          new Tool(
              f[0],
              Kind.valueOf(f[1].toUpperCase(Locale.ROOT)),
              packages(f[2]),
              packages(f[3]),
              Collections.unmodifiableSet(commands),
              f[5]);
      if (tools.put(t.name(), t) != null) {
        throw new IllegalStateException(
            RESOURCE + ":" + lineNo + ": " + t.name() + " is declared twice");
      }
    }
    return new ToolRegistry(Map.copyOf(tools));
  }

  private static List<String> packages(String field) {
    return field.equals("-") ? List.of() : List.of(field.split(" "));
  }

  public List<Tool> tools() {
    return tools.values().stream().sorted(Comparator.comparing(Tool::name)).toList();
  }

  public Optional<Tool> tool(String name) {
    return Optional.ofNullable(tools.get(name));
  }

  /**
   * The command line of a process: every program run from now on must be declared for it. The CLI
   * sets it once per command; {@code null} clears it (library use, tests).
   */
  public static void activeCommand(String command) {
    activeCommand = command;
  }

  /**
   * Throws unless {@code program} is declared (and declared for the active command, if any). A
   * program given by path is checked by its file name.
   */
  public static void checkDeclared(String program) {
    String name = program.contains("/") ? Path.of(program).getFileName().toString() : program;
    Tool t = get().tools.get(name);
    if (t == null || t.kind() == Kind.LIBRARY || t.kind() == Kind.HEADER) {
      throw new IllegalStateException(
          "klp-catalog runs '"
              + name
              + "', which the tool registry (exec/"
              + RESOURCE
              + ") does not declare: declare it with its packages, so fresh machines get it"
              + " installed");
    }
    String command = activeCommand;
    if (command != null && COMMANDS.contains(command) && !t.neededBy(command)) {
      throw new IllegalStateException(
          "klp-catalog "
              + command
              + " runs '"
              + name
              + "', which the tool registry (exec/"
              + RESOURCE
              + ") declares only for "
              + String.join(", ", t.commands())
              + ": add the command to its row, so 'bin/klp-catalog "
              + command
              + "' installs it");
    }
  }

  /** Where a tool is on this machine, if it is. */
  public static Optional<Path> locate(Tool t) {
    return switch (t.kind()) {
      case LIBRARY -> locateLibrary(t.name());
      case HEADER -> locateHeader(t.name());
      default -> Command.which(t.name());
    };
  }

  private static Optional<Path> locateHeader(String name) {
    for (String d :
        List.of(
            "/usr/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu")) {
      Path p = Path.of(d, name);
      if (Files.isRegularFile(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static final List<String> LIBRARY_DIRS =
      List.of(
          "/usr/lib/x86_64-linux-gnu",
          "/lib/x86_64-linux-gnu",
          "/usr/lib/aarch64-linux-gnu",
          "/usr/lib64",
          "/lib64",
          "/usr/lib",
          "/lib");

  private static Optional<Path> locateLibrary(String soname) {
    List<String> dirs = new ArrayList<>(LIBRARY_DIRS);
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      dirs.addAll(0, Arrays.asList(ld.split(File.pathSeparator)));
    }
    for (String d : dirs) {
      Path p = Path.of(d, soname);
      if (Files.exists(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
