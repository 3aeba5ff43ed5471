package org.klpcatalog.sourcecheck;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.klpcatalog.catalog.analysis.ChangeKind;
import org.klpcatalog.catalog.analysis.ChangedFunction;
import org.klpcatalog.catalog.analysis.DiffParser;
import org.klpcatalog.catalog.analysis.LineAlignment;
import org.klpcatalog.catalog.analysis.PatchApplier;
import org.klpcatalog.catalog.analysis.SourceAnalysis;
import org.klpcatalog.catalog.analysis.SourceAnalyzer;
import org.klpcatalog.catalog.analysis.UnifiedDiff;
import org.klpcatalog.catalog.diag.Printable;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.PreparedTree;
import org.klpcatalog.kernel.SourceTree;
import org.klpcatalog.kernel.UnitCompiler;
import org.klpcatalog.klp.ElfException;
import org.klpcatalog.klp.ElfFile;
import org.klpcatalog.klp.ObjectComparison;
import org.klpcatalog.sourcecheck.FixReport.CodeChange;
import org.klpcatalog.sourcecheck.FixReport.UnitReport;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the three source checks of one fix against one prepared kernel source tree: the fix applies,
 * the functions it changes (from the whole files), and what the compiler changes (each touched
 * {@code .c} file compiled before and after, in the sandbox, and compared by code). The report is
 * cached by the fix's bytes and the tree's identity (source version and configuration), so an
 * unchanged fix is never analysed twice for a kernel.
 */
public final class SourceChecker {
  /**
   * Bumped when what a report holds or how it is computed changes: older reports are not reused.
   */
  static final int FORMAT = 2;

  private static final long MAX_SOURCE_BYTES = 16L << 20;
  private static final Pattern KERNEL_PATH =
      Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.,+-]*(/[A-Za-z0-9_][A-Za-z0-9_.,+-]*)*");
  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private final UnitCompiler compiler;
  private final Path cacheDir;
  private final Path workDir;

  /** {@code cacheRoot} is klp-catalog's cache; reports live in its {@code source-checks/}. */
  public SourceChecker(UnitCompiler compiler, Path cacheRoot) {
    this.compiler = compiler;
    this.cacheDir = cacheRoot.resolve("source-checks");
    this.workDir = cacheRoot.resolve("source-checks").resolve("work");
  }

  /**
   * The report of {@code fix} against {@code tree} for {@code release}; {@code compile} false runs
   * the first two checks only (nothing is compiled, nothing cached).
   */
  public FixReport check(PreparedTree tree, String release, byte[] fix, boolean compile)
      throws KernelException, IOException, InterruptedException {
    String key =
        Digests.sha256(
            "klp-catalog source check "
                + FORMAT
                + "\nfix "
                + Digests.sha256(fix)
                + "\ntree "
                + tree.identity()
                + "\n");
    Path cached = cacheDir.resolve(key.substring(0, 2)).resolve(key + ".json");
    if (compile && Files.isRegularFile(cached)) {
      try {
        FixReport r =
            MAPPER.readValue(Files.readString(cached, StandardCharsets.UTF_8), FixReport.class);
        return new FixReport(
            release, r.sourceVersion(), r.failures(), r.functions(), r.units(), r.unbuilt());
      } catch (RuntimeException e) {
        // A damaged entry is recomputed and overwritten below.
      }
    }
    FixReport report =
        compute(
            tree.source(),
            Optional.of(tree),
            release,
            new String(fix, StandardCharsets.UTF_8),
            compile);
    if (compile) {
      Files.createDirectories(cached.getParent());
      Path tmp = Files.createTempFile(cached.getParent(), key, ".tmp");
      Files.writeString(tmp, MAPPER.writeValueAsString(report), StandardCharsets.UTF_8);
      Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
    return report;
  }

  /**
   * The first two checks only, against an unpacked source that need not be prepared: whether the
   * fix applies and which functions it changes. Nothing is compiled or cached.
   */
  public FixReport checkApplies(SourceTree source, String release, byte[] fix)
      throws KernelException, IOException, InterruptedException {
    return compute(
        source, Optional.empty(), release, new String(fix, StandardCharsets.UTF_8), false);
  }

  private FixReport compute(
      SourceTree source,
      Optional<PreparedTree> prepared,
      String release,
      String fixText,
      boolean compile)
      throws KernelException, IOException, InterruptedException {
    String version = source.sourceVersion();
    Source src = analyzeSource(source.source(), fixText);
    SourceAnalysis sa = src.analysis();
    Map<String, Optional<String>> originals = src.originals();
    List<FixReport.ApplyFailure> failures = applyFailures(sa);
    if (failures.isEmpty()) {
      failures.addAll(alreadyApplied(DiffParser.parse(fixText), originals, sa.files()));
    }
    if (failures.isEmpty() && compile) {
      failures.addAll(tooBig(DiffParser.parse(fixText)));
    }
    List<ChangedFunction> functions = sa.analysis().functions();
    if (!failures.isEmpty() || !compile || prepared.isEmpty()) {
      return new FixReport(
          release,
          version,
          failures,
          failures.isEmpty() ? functions : List.of(),
          List.of(),
          List.of());
    }
    Map<String, String> patched = sa.patched();
    List<UnitReport> units = new ArrayList<>();
    List<String> unbuilt = new ArrayList<>();
    PreparedTree tree = prepared.get();
    Files.createDirectories(workDir);
    Path work = Files.createTempDirectory(workDir, "check-");
    try {
      int n = 0;
      for (PatchApplier.FileResult f : sa.files()) {
        String path = f.path();
        Optional<String> original = originals.getOrDefault(path, Optional.empty());
        if (!path.endsWith(".c") || original.isEmpty() || !patched.containsKey(path)) {
          continue;
        }
        n++;
        Path before = work.resolve("before-" + n + ".c");
        Path after = work.resolve("after-" + n + ".c");
        Files.writeString(
            before, LineAlignment.alignOriginal(original.get(), f), StandardCharsets.UTF_8);
        Files.writeString(after, patched.get(path), StandardCharsets.UTF_8);
        // The patched object sees the patched headers too; the original sees the tree's.
        Map<String, Path> afterOverrides = new LinkedHashMap<>();
        afterOverrides.put(path, after);
        int h = 0;
        for (Map.Entry<String, String> e : patched.entrySet()) {
          // A header the fix creates has nothing to be bound over: the compile then fails as the
          // patched file's own failure.
          if (e.getKey().endsWith(".h")
              && originals.getOrDefault(e.getKey(), Optional.empty()).isPresent()) {
            Path header = work.resolve("header-" + n + "-" + (++h) + ".h");
            Files.writeString(header, e.getValue(), StandardCharsets.UTF_8);
            afterOverrides.put(e.getKey(), header);
          }
        }
        Optional<UnitCompiler.Unit> built = unitOf(tree, source.source().toRealPath(), path);
        if (built.isEmpty()) {
          unbuilt.add(path);
          continue;
        }
        UnitCompiler.Unit unit = built.get().withoutDebugInfo();
        Path beforeObject = work.resolve("before-" + n + ".o");
        Path afterObject = work.resolve("after-" + n + ".o");
        // Both at once: two compiles of one file, each in its own sandbox.
        CompletableFuture<Void> beforeDone = new CompletableFuture<>();
        Thread beforeThread =
            new Thread(
                () -> {
                  try {
                    compiler.compile(tree, unit, Map.of(path, before), beforeObject);
                    beforeDone.complete(null);
                  } catch (Throwable t) {
                    beforeDone.completeExceptionally(t);
                  }
                },
                "klp-source-check-before");
        beforeThread.setDaemon(true);
        beforeThread.start();
        KernelException afterFailed = null;
        try {
          compiler.compile(tree, unit, afterOverrides, afterObject);
        } catch (KernelException e) {
          afterFailed = e;
        }
        try {
          beforeDone.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof KernelException k) {
            throw k;
          }
          if (e.getCause() instanceof InterruptedException i) {
            throw i;
          }
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          throw new IllegalStateException(e.getCause());
        }
        if (afterFailed != null) {
          KernelException e = afterFailed;
          // The original compiled: what fails now is the fix's own doing.
          return new FixReport(
              release,
              version,
              List.of(
                  new FixReport.ApplyFailure(
                      path,
                      0,
                      0,
                      "the patched file does not compile with this kernel's configuration: "
                          + compilerErrors(e.getMessage())
                          + " (a fix for this kernel may need other changes first)")),
              functions,
              List.of(),
              List.of());
        }
        units.add(
            unitReport(
                path, unit.object(), functions, patched.get(path), beforeObject, afterObject));
      }
    } finally {
      FileTrees.deleteRecursively(work);
    }
    return new FixReport(release, version, List.of(), functions, units, unbuilt);
  }

  /**
   * The unit that compiles {@code path}: its own, or, for a {@code .c} file kbuild cannot compile
   * alone because another {@code .c} of its directory includes it (the scheduler's build_policy.c
   * includes rt.c, deadline.c, ...), that file's unit, compiled with {@code path} replaced.
   */
  private Optional<UnitCompiler.Unit> unitOf(PreparedTree tree, Path root, String path)
      throws KernelException, InterruptedException, IOException {
    try {
      return compiler.unitIfBuilt(tree, path);
    } catch (UnitCompiler.NotCompilable e) {
      // The kernel was built from this source and configuration: a file of it that kbuild cannot
      // compile is either included by another file, or not part of this kernel.
      Optional<String> includer = includer(root, path);
      if (includer.isEmpty()) {
        return Optional.empty();
      }
      return compiler.unitIfBuilt(tree, includer.get());
    }
  }

  /** The compiler's first error lines, on one line. */
  static String compilerErrors(String output) {
    List<String> errors =
        output
            .lines()
            .filter(l -> l.contains("error:"))
            .limit(3)
            .map(l -> Printable.line(l.strip()))
            .toList();
    return errors.isEmpty()
        ? Printable.line(output.lines().findFirst().orElse(""))
        : String.join("; ", errors);
  }

  /** A {@code .c} file of {@code path}'s directory that {@code #include}s it, if one does. */
  static Optional<String> includer(Path root, String path) throws IOException {
    int slash = path.lastIndexOf('/');
    String dir = slash < 0 ? "" : path.substring(0, slash);
    String base = path.substring(slash + 1);
    Pattern include = Pattern.compile("(?m)^\\s*#\\s*include\\s+\"" + Pattern.quote(base) + "\"");
    Path d = dir.isEmpty() ? root : root.resolve(dir);
    if (!Files.isDirectory(d)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.list(d)) {
      for (Path f : (Iterable<Path>) files.sorted()::iterator) {
        String name = f.getFileName().toString();
        if (name.endsWith(".c")
            && !name.equals(base)
            && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)
            && Files.size(f) <= MAX_SOURCE_BYTES
            && include.matcher(new String(Files.readAllBytes(f), StandardCharsets.UTF_8)).find()) {
          return Optional.of(dir.isEmpty() ? name : dir + "/" + name);
        }
      }
    }
    return Optional.empty();
  }

  /** At most this many .c files compiled per fix: livepatch fixes are small. */
  static final int MAX_UNITS = 16;

  /** A fix too big to compile and compare within a build's time. */
  static List<FixReport.ApplyFailure> tooBig(UnifiedDiff diff) {
    Map<String, Integer> sections = new TreeMap<>();
    diff.files().stream()
        .filter(f -> f.kernelPath() != null)
        .forEach(f -> sections.merge(f.kernelPath(), 1, Integer::sum));
    List<FixReport.ApplyFailure> out = new ArrayList<>();
    long units = sections.keySet().stream().filter(p -> p.endsWith(".c")).count();
    if (units > MAX_UNITS) {
      out.add(
          new FixReport.ApplyFailure(
              sections.keySet().iterator().next(),
              0,
              0,
              "the fix changes "
                  + units
                  + " .c files; the source checks compile at most "
                  + MAX_UNITS
                  + " per fix (a livepatch carries small"
                  + " fixes: split it into patches)"));
    }
    sections.forEach(
        (path, count) -> {
          // The #line alignment of the original needs the file's changes as one diff: a series of
          // patches concatenated changes it in several sections, each against the text the one
          // before
          // left.
          if (count > 1 && path.endsWith(".c")) {
            out.add(
                new FixReport.ApplyFailure(
                    path,
                    0,
                    0,
                    "the fix changes it in "
                        + count
                        + " separate sections (a series of patches?); compiling it before and after"
                        + " needs one diff per file: regenerate the fix with git diff"
                        + " FIRST^..LAST"));
          }
        });
    return out;
  }

  private static UnitReport unitReport(
      String path,
      String object,
      List<ChangedFunction> functions,
      String patchedText,
      Path beforeObject,
      Path afterObject)
      throws IOException, KernelException {
    ObjectComparison.Result cmp;
    try {
      cmp =
          ObjectComparison.compare(
              ElfFile.parse(Files.readAllBytes(beforeObject)),
              ElfFile.parse(Files.readAllBytes(afterObject)));
    } catch (ElfException e) {
      throw new KernelException("comparing the objects of " + path + ": " + e.getMessage(), e);
    }
    Set<String> sourceModified = new TreeSet<>();
    for (ChangedFunction f : functions) {
      if (f.file().equals(path) && f.change() == ChangeKind.MODIFIED) {
        sourceModified.add(f.name());
      }
    }
    Set<String> symbols = new TreeSet<>();
    Set<String> changedBases = new TreeSet<>();
    for (ObjectComparison.FunctionDiff d : cmp.functions()) {
      symbols.add(FixVerdict.baseName(d.name()));
      if (d.change() == ObjectComparison.Change.CHANGED) {
        changedBases.add(FixVerdict.baseName(d.name()));
      }
    }
    CallGraph calls = CallGraph.of(patchedText);
    List<CodeChange> changed = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    List<String> added = new ArrayList<>();
    for (ObjectComparison.FunctionDiff d : cmp.functions()) {
      String base = FixVerdict.baseName(d.name());
      switch (d.change()) {
        case CHANGED -> {
          boolean own = sourceModified.contains(base);
          List<String> carries =
              own ? List.of() : calls.reachesChanged(base, sourceModified, symbols);
          changed.add(new CodeChange(d.name(), own, carries, d.reason()));
        }
        case REMOVED -> removed.add(d.name());
        case ADDED -> added.add(d.name());
        case UNCHANGED -> {}
      }
    }
    List<String> inlinedAway = new ArrayList<>();
    List<String> codeUnchanged = new ArrayList<>();
    for (String f : sourceModified) {
      if (!symbols.contains(f)) {
        inlinedAway.add(f);
      } else if (!changedBases.contains(f)) {
        codeUnchanged.add(f);
      }
    }
    return new UnitReport(path, object, changed, inlinedAway, codeUnchanged, removed, added);
  }

  /** The hunks of {@code sa} that did not apply, each with what to do. */
  public static List<FixReport.ApplyFailure> applyFailures(SourceAnalysis sa) {
    List<FixReport.ApplyFailure> failures = new ArrayList<>();
    for (PatchApplier.FileResult f : sa.files()) {
      for (PatchApplier.HunkFailure h : f.failures()) {
        failures.add(
            new FixReport.ApplyFailure(
                f.path(),
                h.hunk(),
                h.patchLine(),
                "hunk "
                    + h.hunk()
                    + " (diff line "
                    + h.patchLine()
                    + ") does not apply: "
                    + h.message()
                    + "; make a variant of the fix for this kernel"));
      }
    }
    return failures;
  }

  /**
   * The first two checks' result, with the kernel files the fix names (empty: the tree has none).
   */
  public record Source(SourceAnalysis analysis, Map<String, Optional<String>> originals) {}

  /**
   * Applies {@code fixText} to the files of the kernel source tree {@code root} and finds the
   * functions it changes from the whole files. Only paths inside the tree are read.
   */
  public static Source analyzeSource(Path root, String fixText) throws IOException {
    Path real = root.toRealPath();
    UnifiedDiff diff = DiffParser.parse(fixText);
    Map<String, Optional<String>> originals = new HashMap<>();
    IOException[] failed = new IOException[1];
    SourceAnalysis sa =
        new SourceAnalyzer()
            .analyze(
                diff,
                path ->
                    originals.computeIfAbsent(
                        path,
                        p -> {
                          try {
                            return read(real, p);
                          } catch (IOException e) {
                            failed[0] = e;
                            return Optional.empty();
                          }
                        }));
    if (failed[0] != null) {
      throw failed[0];
    }
    return new Source(sa, originals);
  }

  /**
   * A fix that the kernel's file already contains can still apply (its added lines go in a second
   * time, at an offset): each changed file whose reversed diff applies cleanly to the kernel's file
   * is refused.
   */
  static List<FixReport.ApplyFailure> alreadyApplied(
      UnifiedDiff diff,
      Map<String, Optional<String>> originals,
      List<PatchApplier.FileResult> forward) {
    List<FixReport.ApplyFailure> out = new ArrayList<>();
    for (int i = 0; i < diff.files().size(); i++) {
      UnifiedDiff.FileDiff f = diff.files().get(i);
      if (f.isNew() || f.isDeleted() || f.binary() || f.hunks().isEmpty()) {
        continue;
      }
      Optional<String> original = originals.getOrDefault(f.kernelPath(), Optional.empty());
      if (original.isEmpty()) {
        continue;
      }
      PatchApplier.FileResult back = PatchApplier.apply(reversed(f), original.get());
      // Lines the fix adds can also exist elsewhere in the file (a sibling function with the same
      // check): only a reverse fit at least as close to where the diff says as the forward one
      // means the kernel has the change.
      if (back.applied()
          && i < forward.size()
          && forward.get(i).path().equals(f.kernelPath())
          && distance(back) <= distance(forward.get(i))) {
        out.add(
            new FixReport.ApplyFailure(
                f.kernelPath(),
                1,
                f.patchLine(),
                "the kernel already has this change (the fix applies in reverse, at least as close"
                    + " to where the diff says as forwards): this kernel has the fix, so the patch"
                    + " must not serve it"));
      }
    }
    return out;
  }

  private static long distance(PatchApplier.FileResult r) {
    return r.placements().stream().mapToLong(p -> Math.abs((long) p.offset())).sum();
  }

  /** The diff that undoes {@code f}. */
  static UnifiedDiff.FileDiff reversed(UnifiedDiff.FileDiff f) {
    List<UnifiedDiff.Hunk> hunks = new ArrayList<>();
    for (UnifiedDiff.Hunk h : f.hunks()) {
      List<UnifiedDiff.Line> lines = new ArrayList<>();
      for (UnifiedDiff.Line l : h.lines()) {
        char k = l.kind() == '-' ? '+' : l.kind() == '+' ? '-' : l.kind();
        lines.add(new UnifiedDiff.Line(k, l.text(), l.patchLine()));
      }
      hunks.add(
          new UnifiedDiff.Hunk(
              h.newStart(),
              h.newCount(),
              h.oldStart(),
              h.oldCount(),
              h.context(),
              h.patchLine(),
              lines,
              h.newEndsWithoutNewline(),
              h.oldEndsWithoutNewline()));
    }
    return new UnifiedDiff.FileDiff(f.newPath(), f.oldPath(), f.binary(), f.patchLine(), hunks);
  }

  /** The kernel's text of a file the fix names, or empty if the tree has none. */
  private static Optional<String> read(Path root, String path) throws IOException {
    if (!KERNEL_PATH.matcher(path).matches() || path.contains("/../") || path.endsWith("/..")) {
      return Optional.empty();
    }
    Path file = root.resolve(path);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    Path real = file.toRealPath();
    if (!real.startsWith(root) || Files.size(real) > MAX_SOURCE_BYTES) {
      return Optional.empty();
    }
    return Optional.of(new String(Files.readAllBytes(real), StandardCharsets.UTF_8));
  }
}
