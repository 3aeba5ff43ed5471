package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.klpcatalog.catalog.analysis.CLexer.LineInfo;
import org.klpcatalog.catalog.analysis.CScanner.Attribution;
import org.klpcatalog.catalog.analysis.CScanner.Kind;
import org.klpcatalog.catalog.analysis.PatchApplier.FileResult;
import org.klpcatalog.catalog.analysis.PatchApplier.HunkFailure;
import org.klpcatalog.catalog.analysis.PatchApplier.Placement;
import org.klpcatalog.catalog.analysis.SourceFunctions.Definition;
import org.klpcatalog.catalog.analysis.UnifiedDiff.FileDiff;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Hunk;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Line;

/**
 * What a fix changes in one kernel's real source. Every file of the fix is applied to the kernel's
 * file ({@link PatchApplier}, no fuzz); for each C file (.c, .h) that applied, the changed
 * functions come from the whole original and patched files ({@link SourceFunctions}), not from hunk
 * headers:
 *
 * <ul>
 *   <li>modified: a function defined in both files, one of whose definitions (header included)
 *       holds a removed line (in the original) or an added line (in the patched file);
 *   <li>added: defined only in the patched file; deleted: only in the original (a rename is both);
 *   <li>two definitions of one name in a file (the branches of an {@code #if}) are one function;
 *   <li>{@code patchLine}: the first diff line that changes one of its definitions.
 * </ul>
 *
 * <p>Flags about functions ({@code init-function}, {@code exit-function}, {@code inline-function}
 * in .c files, {@code signature-change}, {@code unpatchable-function}) are computed from those
 * definitions. Flags about text outside functions ({@code data-structure}, {@code global-data},
 * {@code macro}, {@code outside-function}) come from the {@link PatchAnalyzer} rules applied to the
 * changed lines that lie outside every definition, each line attributed by scanning the whole file
 * it is in; per-file flags ({@code header}, {@code non-source-file}, a new or deleted file) are
 * {@link PatchAnalyzer}'s. A file that does not apply, or is not C, is analysed from the diff text
 * alone ({@link PatchAnalyzer}), and each hunk that did not apply is a problem. Paths the analyser
 * ignores (Documentation/, tools/, ...) and paths that are not kernel paths are neither looked up
 * nor applied. Pure and thread-safe; {@code originals} is called once per path.
 */
public final class SourceAnalyzer {
  private final PatchAnalyzer text;

  /** An analyser using {@link PatchAnalyzer#DEFAULT_UNPATCHABLE}. */
  public SourceAnalyzer() {
    this(PatchAnalyzer.DEFAULT_UNPATCHABLE);
  }

  /** An analyser with the catalog's unpatchable list (plain names or {@code file:name} keys). */
  public SourceAnalyzer(Collection<String> unpatchable) {
    this.text = new PatchAnalyzer(unpatchable);
  }

  /**
   * Analyses {@code diff} against one kernel's source: {@code originals} gives a file's text by
   * kernel path, empty when the tree has no such file.
   */
  public SourceAnalysis analyze(UnifiedDiff diff, Function<String, Optional<String>> originals) {
    Map<String, ChangedFunction> functions = new TreeMap<>();
    Map<String, Flag> flags = new LinkedHashMap<>();
    List<PatchAnalysis.Problem> problems = new ArrayList<>();
    Set<String> files = new TreeSet<>();
    for (UnifiedDiff.DiffProblem p : diff.problems()) {
      problems.add(new PatchAnalysis.Problem(p.patchLine(), p.message()));
    }
    Map<String, Optional<String>> current = new HashMap<>(); // a mail may change a file twice
    Map<String, Integer> resultIndex = new HashMap<>();
    List<FileResult> results = new ArrayList<>();
    for (FileDiff f : diff.files()) {
      String path = f.kernelPath();
      if (path == null) {
        continue;
      }
      PatchAnalysis base = text.analyze(new UnifiedDiff(List.of(f), List.of()));
      files.addAll(base.files());
      if (!PatchAnalyzer.isKernelPath(path) || PatchAnalyzer.isIgnored(path)) {
        addAll(base, functions, flags, problems);
        continue;
      }
      Optional<String> before = current.computeIfAbsent(path, originals);
      FileResult r = PatchApplier.apply(f, before.orElse(null));
      for (HunkFailure failure : r.failures()) {
        problems.add(new PatchAnalysis.Problem(failure.patchLine(), failure.message()));
      }
      Integer seen = resultIndex.get(path);
      if (seen == null) {
        resultIndex.put(path, results.size());
        results.add(r);
      } else if (!results.get(seen).applied() || !r.applied()) {
        results.set(seen, results.get(seen).applied() ? r : results.get(seen));
      } else {
        results.set(seen, new FileResult(path, r.patched(), r.placements(), List.of()));
      }
      if (r.applied()) {
        current.put(path, r.patched());
      }
      boolean cSource = path.endsWith(".c") || path.endsWith(".h");
      if (!r.applied() || !cSource || f.binary()) {
        addAll(base, functions, flags, problems);
        continue;
      }
      for (Flag flag : base.flags()) {
        if (flag.kind() == FlagKind.HEADER
            || flag.kind() == FlagKind.NON_SOURCE_FILE
            || flag.kind() == FlagKind.OUTSIDE_FUNCTION && flag.key().equals(path)) {
          addFlag(flags, flag);
        }
      }
      analyzeFile(path, f, before.orElse(""), r, functions, flags);
    }
    for (ChangedFunction cf : functions.values()) {
      Flag u = text.unpatchableFlag(cf);
      if (u != null) {
        addFlag(flags, u);
      }
    }
    List<Flag> flagList = new ArrayList<>(flags.values());
    flagList.sort(Comparator.comparingInt(Flag::patchLine).thenComparing(Flag::key));
    problems.sort(Comparator.comparingInt(PatchAnalysis.Problem::patchLine));
    PatchAnalysis analysis =
        new PatchAnalysis(
            List.copyOf(functions.values()),
            List.copyOf(flagList),
            List.copyOf(problems),
            List.copyOf(files));
    return new SourceAnalysis(analysis, List.copyOf(results));
  }

  private static void addAll(
      PatchAnalysis base,
      Map<String, ChangedFunction> functions,
      Map<String, Flag> flags,
      List<PatchAnalysis.Problem> problems) {
    for (ChangedFunction cf : base.functions()) {
      merge(functions, cf);
    }
    for (Flag flag : base.flags()) {
      addFlag(flags, flag);
    }
    problems.addAll(base.problems());
  }

  /** Keeps one entry per key: the first kind seen, the smallest diff line. */
  private static void merge(Map<String, ChangedFunction> functions, ChangedFunction cf) {
    functions.merge(
        cf.key(),
        cf,
        (a, b) ->
            a.patchLine() <= b.patchLine()
                ? a
                : new ChangedFunction(a.file(), a.name(), a.change(), b.patchLine()));
  }

  /** Keeps one flag per kind and key: the one at the smallest diff line. */
  private static void addFlag(Map<String, Flag> flags, Flag f) {
    flags.merge(f.kind().id() + " " + f.key(), f, (a, b) -> a.patchLine() <= b.patchLine() ? a : b);
  }

  private void analyzeFile(
      String path,
      FileDiff f,
      String original,
      FileResult r,
      Map<String, ChangedFunction> functions,
      Map<String, Flag> flags) {
    String patched = r.patched().orElseThrow();
    List<LineInfo> oldLines = CLexer.lex(original);
    List<LineInfo> newLines = CLexer.lex(patched);
    // The diff line that removed each original line / added each patched line (0: unchanged).
    int[] removed = new int[oldLines.size() + 1];
    int[] added = new int[newLines.size() + 1];
    int firstChange = Integer.MAX_VALUE;
    for (Placement p : r.placements()) {
      Hunk h = f.hunks().get(p.hunk() - 1);
      int o = p.oldLine() - 1;
      int n = p.newLine() - 1;
      for (Line l : h.lines()) {
        if (l.kind() == '-') {
          removed[o++] = l.patchLine();
          firstChange = Math.min(firstChange, l.patchLine());
        } else if (l.kind() == '+') {
          added[n++] = l.patchLine();
          firstChange = Math.min(firstChange, l.patchLine());
        } else {
          o++;
          n++;
        }
      }
    }
    if (firstChange == Integer.MAX_VALUE) {
      return; // only context: nothing changes
    }
    List<Definition> oldDefs = SourceFunctions.scan(oldLines);
    List<Definition> newDefs = SourceFunctions.scan(newLines);
    Map<String, List<Definition>> oldByName = byName(oldDefs);
    Map<String, List<Definition>> newByName = byName(newDefs);
    Set<String> names = new TreeSet<>(oldByName.keySet());
    names.addAll(newByName.keySet());
    boolean cFile = path.endsWith(".c");
    for (String name : names) {
      List<Definition> o = oldByName.getOrDefault(name, List.of());
      List<Definition> n = newByName.getOrDefault(name, List.of());
      int first = Math.min(firstChanged(o, removed), firstChanged(n, added));
      ChangeKind kind;
      if (!o.isEmpty() && !n.isEmpty()) {
        if (first == Integer.MAX_VALUE) {
          continue;
        }
        kind = ChangeKind.MODIFIED;
      } else {
        kind = o.isEmpty() ? ChangeKind.ADDED : ChangeKind.DELETED;
        if (first == Integer.MAX_VALUE) {
          first = firstChange; // appears or vanishes through a change around it (an #if)
        }
      }
      merge(functions, new ChangedFunction(path, name, kind, first));
      if (kind == ChangeKind.MODIFIED) {
        functionFlags(path, name, first, cFile, o, n, flags);
      }
    }
    outsideFlags(path, oldLines, oldDefs, removed, flags);
    outsideFlags(path, newLines, newDefs, added, flags);
  }

  private static Map<String, List<Definition>> byName(List<Definition> defs) {
    Map<String, List<Definition>> out = new HashMap<>();
    for (Definition d : defs) {
      out.computeIfAbsent(d.name(), k -> new ArrayList<>()).add(d);
    }
    return out;
  }

  private static int firstChanged(List<Definition> defs, int[] changed) {
    int first = Integer.MAX_VALUE;
    for (Definition d : defs) {
      for (int line = d.firstLine(); line <= d.lastLine() && line - 1 < changed.length; line++) {
        int p = changed[line - 1];
        if (p != 0) {
          first = Math.min(first, p);
        }
      }
    }
    return first;
  }

  private static void functionFlags(
      String path,
      String name,
      int first,
      boolean cFile,
      List<Definition> o,
      List<Definition> n,
      Map<String, Flag> flags) {
    String key = path + ":" + name;
    List<Definition> all = new ArrayList<>(o);
    all.addAll(n);
    if (all.stream().anyMatch(Definition::isInit)) {
      addFlag(
          flags,
          new Flag(
              FlagKind.INIT_FUNCTION,
              key,
              first,
              "changes __init function " + name + ": it ran at boot and its code is freed"));
    }
    if (all.stream().anyMatch(Definition::isExit)) {
      addFlag(
          flags,
          new Flag(
              FlagKind.EXIT_FUNCTION,
              key,
              first,
              "changes __exit function " + name + ": it only runs when its module is removed"));
    }
    if (cFile && all.stream().anyMatch(Definition::isInline)) {
      addFlag(
          flags,
          new Flag(
              FlagKind.INLINE_FUNCTION,
              key,
              first,
              "changes inline function "
                  + name
                  + ": the compiler copied it into its callers;"
                  + " the module must replace those callers (list them in spec.extraFunctions)"));
    }
    Set<String> before = new TreeSet<>();
    o.forEach(d -> before.add(d.signature()));
    Set<String> after = new TreeSet<>();
    n.forEach(d -> after.add(d.signature()));
    if (!Objects.equals(before, after)) {
      addFlag(
          flags,
          new Flag(
              FlagKind.SIGNATURE_CHANGE,
              key,
              first,
              "changes the signature of "
                  + name
                  + ": callers compiled against the old one pass"
                  + " the old arguments"));
    }
  }

  /**
   * Flags for changed lines outside every function definition, each attributed to its top-level
   * construct by scanning the whole file.
   */
  private static void outsideFlags(
      String path,
      List<LineInfo> lines,
      List<Definition> defs,
      int[] changed,
      Map<String, Flag> flags) {
    boolean any = false;
    boolean[] inFunction = new boolean[lines.size()];
    for (Definition d : defs) {
      for (int line = d.firstLine(); line <= d.lastLine() && line <= lines.size(); line++) {
        inFunction[line - 1] = true;
      }
    }
    for (int i = 0; i < lines.size(); i++) {
      any |= changed[i] != 0 && !inFunction[i];
    }
    if (!any) {
      return;
    }
    List<String> raw = new ArrayList<>(lines.size());
    for (LineInfo li : lines) {
      raw.add(li.raw());
    }
    List<Attribution> attrs = CScanner.scan(raw, "");
    for (int i = 0; i < lines.size(); i++) {
      if (changed[i] == 0 || inFunction[i]) {
        continue;
      }
      Attribution a = attrs.get(i);
      if (a.construct() == null
          || a.trivia()
          || a.construct().kind == Kind.FUNCTION
          || a.construct().kind == Kind.UNKNOWN) {
        continue;
      }
      Flag flag = PatchAnalyzer.outsideFunctionFlag(path, a.construct(), changed[i]);
      if (flag != null) {
        addFlag(flags, flag);
      }
    }
  }
}
