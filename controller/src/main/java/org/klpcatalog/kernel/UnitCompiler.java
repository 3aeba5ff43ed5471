package org.klpcatalog.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;

/**
 * Compiles single translation units of a {@link PreparedTree} the way kbuild compiles them, with
 * {@code -ffunction-sections -fdata-sections} so each function and object has a section of its own.
 *
 * <p>{@link #unit} asks kbuild once per tree and file ({@code make O=... path.o} in the sandbox)
 * and keeps the compile command it recorded in the {@code .cmd} file: the compiler's argument list,
 * cut before the first {@code ;} (objtool is not run) and without the dependency-file option.
 * {@link #compile} runs that compiler in the sandbox with the source tree and the output directory
 * read-only at their inside paths, each replaced file (catalog content: hostile) bound read-only
 * over its path in the source, one writable scratch directory and the sandbox's limits; nothing
 * else of the host is visible, so an {@code #include} or {@code .incbin} of a host file finds
 * nothing.
 */
public final class UnitCompiler {
  /** The flags every unit is compiled with, on top of kbuild's. */
  public static final String KCFLAGS = "-ffunction-sections -fdata-sections";

  private static final String SCRATCH = "/klp/scratch";
  private static final Duration TIMEOUT = Duration.ofMinutes(10);

  /** Bumped when what a unit's record says, or how it is found, changes. */
  static final int RECORD_FORMAT = 2;

  private final Sandbox sandbox;
  private final Map<String, Unit> units = new ConcurrentHashMap<>();

  /**
   * kbuild ran and could not compile the unfixed file with the tree's configuration: the file is
   * not part of the kernel built from that source and configuration (boot code, a file of an option
   * the configuration leaves out), or is only ever included by another file.
   */
  public static final class NotCompilable extends KernelException {
    private static final long serialVersionUID = 1L;

    NotCompilable(String message) {
      super(message);
    }
  }

  public UnitCompiler(Sandbox sandbox) {
    this.sandbox = sandbox;
  }

  /**
   * One translation unit: its path in the tree, the object it is linked into ({@code vmlinux}, or
   * the module's name when kbuild compiles it with {@code -DMODULE}: its {@code KBUILD_MODNAME})
   * and kbuild's compiler argument list (run in {@link KernelSources#OUT_INSIDE}).
   */
  public record Unit(String path, String object, List<String> argv) {
    public Unit {
      Objects.requireNonNull(path);
      Objects.requireNonNull(object);
      argv = List.copyOf(argv);
    }

    /**
     * The same unit compiled without debug information ({@code -g}, {@code -gdwarf-N}, ...): GCC
     * generates the same code with and without it, and leaving out the DWARF of a big file (the
     * kernel's flags ask for it) saves a good part of its compile time.
     */
    public Unit withoutDebugInfo() {
      return new Unit(
          path, object, argv.stream().filter(a -> !DEBUG_INFO.matcher(a).matches()).toList());
    }
  }

  private static final Pattern DEBUG_INFO =
      Pattern.compile("-g|-g[0-3]|-gdwarf(-[0-9]+)?|-gz(=\\w+)?|-gsplit-dwarf|-gbtf");

  /**
   * The unit of {@code cPath}; a KernelException when kbuild builds no object for it in this
   * configuration (see {@link #unitIfBuilt}) or it does not compile.
   */
  public Unit unit(PreparedTree tree, String cPath) throws KernelException, InterruptedException {
    return unitIfBuilt(tree, cPath)
        .orElseThrow(
            () ->
                new KernelException(
                    cPath
                        + " is not built in the"
                        + " configuration of "
                        + tree.source().sourceVersion()
                        + " (config sha256:"
                        + tree.configSha256().substring(0, 12)
                        + "): its directory is not part of the build"));
  }

  /**
   * The unit of {@code cPath}, or empty when its directory is not part of the configuration's build
   * (kbuild builds nothing for it, or compiles it only as part of a directory above, see {@link
   * #compiledFromAnAncestor}). A file of a built directory that the configuration does not select
   * is still compiled by kbuild, as if built in: that case cannot be told from kbuild's
   * single-object build.
   */
  public Optional<Unit> unitIfBuilt(PreparedTree tree, String cPath)
      throws KernelException, InterruptedException {
    KernelPath.check(cPath);
    if (!cPath.endsWith(".c")) {
      throw new KernelException(cPath + " is not a C translation unit (a .c file)");
    }
    Path file = tree.source().source().resolve(cPath);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new KernelException(
          cPath + " is not a file of the kernel source " + tree.source().sourceVersion());
    }
    String memo = tree.identity() + " " + cPath;
    Unit done = units.get(memo);
    if (done != null) {
      return Optional.of(done);
    }
    Path prepared = tree.out().getParent();
    Path record =
        prepared
            .resolve("units")
            .resolve(Digests.sha256(cPath).substring(0, 32) + ".v" + RECORD_FORMAT + ".unit");
    try {
      Optional<Unit> u;
      try (FileTrees.Lock l = FileTrees.lock(prepared)) {
        if (Files.isRegularFile(record)) {
          u = readRecord(Files.readString(record, StandardCharsets.UTF_8));
        } else {
          u = askKbuild(tree, cPath, prepared);
          Files.createDirectories(record.getParent());
          Path tmp = record.resolveSibling(record.getFileName() + ".tmp");
          Files.writeString(tmp, writeRecord(cPath, u), StandardCharsets.UTF_8);
          Files.move(
              tmp, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
      }
      u.ifPresent(x -> units.put(memo, x));
      return u;
    } catch (IOException e) {
      throw new KernelException(cPath + ": " + e.getMessage(), e);
    }
  }

  private Optional<Unit> askKbuild(PreparedTree tree, String cPath, Path prepared)
      throws IOException, InterruptedException, KernelException {
    requireConfined(cPath);
    String object = cPath.substring(0, cPath.length() - 2) + ".o";
    Path out = tree.out();
    Path cmdFile = out.resolve(cmdFileOf(object));
    Path oFile = out.resolve(object);
    Files.deleteIfExists(cmdFile);
    Files.deleteIfExists(oFile);
    Path log = prepared.resolve("units").resolve(Digests.sha256(cPath).substring(0, 32) + ".log");
    Files.createDirectories(log.getParent());
    Files.deleteIfExists(log);
    Command.Result r =
        sandbox
            .withLimits(sandbox.limits().withCpu(TIMEOUT))
            .run()
            .readOnly(tree.source().source(), KernelSources.SOURCE_INSIDE)
            .writable(out, KernelSources.OUT_INSIDE)
            .chdir(KernelSources.OUT_INSIDE)
            .env("KBUILD_BUILD_TIMESTAMP", "")
            .command(
                "make",
                "-C",
                KernelSources.SOURCE_INSIDE,
                "O=" + KernelSources.OUT_INSIDE,
                "CC=" + KernelSources.compilerOf(tree),
                "KCFLAGS=" + KCFLAGS,
                object)
            .timeout(TIMEOUT)
            .log(log)
            .run();
    if (!r.ok()) {
      throw new NotCompilable(
          cPath
              + ": kbuild cannot compile it in "
              + tree.source().sourceVersion()
              + (r.timedOut() ? " (timed out)" : "")
              + ":\n"
              + compilerMessages(r.output()));
    }
    if (!Files.isRegularFile(cmdFile, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    Unit u = parseCmd(cPath, object, Files.readString(cmdFile, StandardCharsets.UTF_8));
    Files.deleteIfExists(oFile);
    return compiledFromAnAncestor(cPath, u.argv()) ? Optional.empty() : Optional.of(u);
  }

  /**
   * Whether kbuild compiled the file with the flags of a directory above its own ({@code -I
   * ./ANCESTOR} but no {@code -I ./DIR}, the pair kbuild adds for the directory whose Makefile it
   * runs): a single-object build reaches only directories the configuration builds, and compiles a
   * file of a directory it does not reach as part of the nearest one it does, with that directory's
   * flags and module name. Such a file is not built in this configuration.
   */
  static boolean compiledFromAnAncestor(String cPath, List<String> argv) {
    int slash = cPath.lastIndexOf('/');
    String dir = slash < 0 ? "" : cPath.substring(0, slash);
    boolean own = false;
    boolean ancestor = false;
    for (int i = 0; i + 1 < argv.size(); i++) {
      if (argv.get(i).equals("-I") && argv.get(i + 1).startsWith("./")) {
        String d = argv.get(i + 1).substring(2);
        own |= d.equals(dir);
        ancestor |= !d.isEmpty() && dir.startsWith(d + "/");
      }
    }
    return ancestor && !own;
  }

  /** {@code fs/proc/generic.o} -> {@code fs/proc/.generic.o.cmd}. */
  static String cmdFileOf(String object) {
    int slash = object.lastIndexOf('/');
    return object.substring(0, slash + 1) + "." + object.substring(slash + 1) + ".cmd";
  }

  /**
   * The unit from kbuild's {@code .cmd} text for {@code object}: the {@code cmd_} (or {@code
   * savedcmd_}) line's command, split like the shell up to the first {@code ;}, without {@code
   * -Wp,-MMD,...}; {@code -o} must name the object.
   */
  static Unit parseCmd(String cPath, String object, String cmdText) throws KernelException {
    String line = null;
    for (String l : cmdText.split("\n")) {
      for (String prefix : List.of("savedcmd_" + object + " := ", "cmd_" + object + " := ")) {
        if (l.startsWith(prefix)) {
          line = l.substring(prefix.length());
        }
      }
    }
    if (line == null) {
      throw new KernelException(
          cPath + ": kbuild's " + cmdFileOf(object) + " records no command for " + object);
    }
    List<String> words;
    try {
      words = ShellWords.split(line);
    } catch (IllegalArgumentException e) {
      throw new KernelException(
          cPath + ": kbuild's command for " + object + " cannot be read: " + e.getMessage());
    }
    List<String> argv = new ArrayList<>();
    boolean module = false;
    String modname = null;
    int outputs = 0;
    for (int i = 0; i < words.size(); i++) {
      String w = words.get(i);
      if (w.startsWith("-Wp,-MMD,") || w.startsWith("-Wp,-MD,")) {
        continue;
      }
      if (w.equals("-DMODULE")) {
        module = true;
      }
      if (w.startsWith("-DKBUILD_MODNAME=")) {
        modname = w.substring("-DKBUILD_MODNAME=".length()).replace("\"", "");
      }
      if (w.equals("-o")) {
        if (i + 1 >= words.size() || !words.get(i + 1).equals(object)) {
          throw new KernelException(
              cPath
                  + ": kbuild's command writes "
                  + (i + 1 < words.size() ? words.get(i + 1) : "nothing")
                  + ", not "
                  + object);
        }
        outputs++;
      }
      argv.add(w);
    }
    if (argv.isEmpty() || outputs != 1 || !argv.get(0).matches("gcc(-\\d+)?")) {
      throw new KernelException(
          cPath
              + ": kbuild's command for "
              + object
              + " is not one gcc compile writing "
              + object
              + ": "
              + String.join(" ", argv.subList(0, Math.min(3, argv.size()))));
    }
    String obj =
        module
            ? (modname != null && modname.matches("[A-Za-z0-9_-]+") ? modname : null)
            : "vmlinux";
    if (obj == null) {
      throw new KernelException(
          cPath + ": kbuild compiles it for a module but names no KBUILD_MODNAME");
    }
    return new Unit(cPath, obj, argv);
  }

  static String writeRecord(String cPath, Optional<Unit> u) {
    if (u.isEmpty()) {
      return "not-built " + cPath + "\n";
    }
    StringBuilder sb =
        new StringBuilder("unit ").append(cPath).append('\n').append(u.get().object()).append('\n');
    u.get()
        .argv()
        .forEach(a -> sb.append(a.replace("\\", "\\\\").replace("\n", "\\n")).append('\n'));
    return sb.toString();
  }

  static Optional<Unit> readRecord(String text) {
    List<String> lines = List.of(text.split("\n", -1));
    if (lines.get(0).startsWith("not-built ")) {
      return Optional.empty();
    }
    String path = lines.get(0).substring("unit ".length());
    List<String> argv = new ArrayList<>();
    for (String l : lines.subList(2, lines.size())) {
      if (!l.isEmpty()) {
        argv.add(l.replace("\\n", "\n").replace("\\\\", "\\"));
      }
    }
    return Optional.of(new Unit(path, lines.get(1), argv));
  }

  private void requireConfined(String what) throws KernelException {
    if (!sandbox.confined()) {
      throw new KernelException(
          what
              + ": compiling kernel translation units needs the bubblewrap sandbox, not the"
              + " unconfined opt-out");
    }
  }

  /**
   * Compiles {@code unit} with the files of {@code overrides} (kernel path -> host file holding the
   * replacement text) in place of the tree's, and copies the object to {@code objectOut}. Each
   * overridden path must be a file of the tree (no new files, no links), named as a {@link
   * KernelPath}.
   */
  public void compile(PreparedTree tree, Unit unit, Map<String, Path> overrides, Path objectOut)
      throws KernelException, InterruptedException {
    requireConfined(unit.path());
    Map<String, Path> checked = new TreeMap<>();
    try {
      Path srcReal = tree.source().source().toRealPath();
      for (Map.Entry<String, Path> e : overrides.entrySet()) {
        String p = KernelPath.check(e.getKey());
        Path inTree = srcReal.resolve(p);
        if (!Files.isRegularFile(inTree, LinkOption.NOFOLLOW_LINKS)
            || !inTree.toRealPath().equals(inTree)) {
          throw new KernelException(
              p
                  + " is not a file of the kernel source "
                  + tree.source().sourceVersion()
                  + " (a replaced file must exist in the tree, and not through a link)");
        }
        if (!Files.isRegularFile(e.getValue(), LinkOption.NOFOLLOW_LINKS)) {
          throw new KernelException(
              p + ": its replacement " + e.getValue() + " is not a regular file");
        }
        checked.put(p, e.getValue());
      }
      Path parent = objectOut.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path scratch = Files.createTempDirectory(parent, ".klp-unit-");
      try {
        Sandbox.Run run =
            sandbox
                .withLimits(sandbox.limits().withCpu(TIMEOUT))
                .run()
                .readOnly(tree.source().source(), KernelSources.SOURCE_INSIDE)
                .readOnly(tree.out(), KernelSources.OUT_INSIDE);
        for (Map.Entry<String, Path> e : checked.entrySet()) {
          run.readOnly(e.getValue(), KernelSources.SOURCE_INSIDE + "/" + e.getKey());
        }
        run.writable(scratch, SCRATCH)
            .chdir(KernelSources.OUT_INSIDE)
            .env("KBUILD_BUILD_TIMESTAMP", "");
        List<String> argv = new ArrayList<>(unit.argv());
        argv.set(argv.indexOf("-o") + 1, SCRATCH + "/unit.o");
        Command.Result r = run.command(argv).timeout(TIMEOUT).run();
        Path o = scratch.resolve("unit.o");
        if (!r.ok() || !Files.isRegularFile(o, LinkOption.NOFOLLOW_LINKS)) {
          throw new KernelException(
              unit.path()
                  + (checked.isEmpty()
                      ? ""
                      : " with " + String.join(", ", checked.keySet()) + " replaced")
                  + " does not compile"
                  + (r.timedOut() ? " (timed out)" : "")
                  + ":\n"
                  + compilerMessages(r.output()));
        }
        Files.copy(o, objectOut, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        FileTrees.deleteRecursively(scratch);
      }
    } catch (IOException e) {
      throw new KernelException(unit.path() + ": " + e.getMessage(), e);
    }
  }

  /** The compiler's errors, or the end of its output when there are none to pick out. */
  static String compilerMessages(String output) {
    StringBuilder sb = new StringBuilder();
    output
        .lines()
        .filter(l -> l.contains("error:") || l.contains("Error ") || l.contains("fatal"))
        .limit(20)
        .forEach(l -> sb.append(l).append('\n'));
    return sb.length() > 0 ? sb.toString().stripTrailing() : Command.tail(output, 20);
  }
}
