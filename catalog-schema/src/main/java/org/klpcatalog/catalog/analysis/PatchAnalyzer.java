package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.klpcatalog.catalog.analysis.CScanner.Attribution;
import org.klpcatalog.catalog.analysis.CScanner.Construct;
import org.klpcatalog.catalog.analysis.CScanner.Kind;
import org.klpcatalog.catalog.analysis.UnifiedDiff.FileDiff;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Hunk;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Line;
import org.klpcatalog.catalog.diag.Printable;

/**
 * Computes what a kernel source fix changes: the functions (modified, added, deleted), and the
 * flagged changes a livepatch cannot carry without review. Pure and thread-safe.
 */
public final class PatchAnalyzer {
  /**
   * Functions no patch may change unless the catalog says otherwise: they are always on the stack
   * of some task (so the livepatch transition never completes) or run the patching itself.
   */
  public static final List<String> DEFAULT_UNPATCHABLE =
      List.of(
          "schedule",
          "__schedule",
          "schedule_timeout",
          "preempt_schedule",
          "preempt_schedule_irq",
          "do_exit",
          "do_group_exit",
          "do_idle",
          "cpu_startup_entry",
          "cpuidle_enter_state",
          "default_idle",
          "kthread",
          "worker_thread",
          "smpboot_thread_fn",
          "rcu_gp_kthread",
          "ret_from_fork",
          "do_syscall_64",
          "klp_enable_patch",
          "klp_try_switch_task",
          "ftrace_ops_list_func");

  /** Paths whose changes never reach a running kernel: documentation and user-space tools. */
  private static final List<String> IGNORED_PREFIXES =
      List.of("Documentation/", "tools/", "samples/", "scripts/", "LICENSES/", "MAINTAINERS");

  private final Set<String> unpatchableNames = new TreeSet<>();
  private final Set<String> unpatchableKeys = new TreeSet<>();

  /** An analyser using {@link #DEFAULT_UNPATCHABLE}. */
  public PatchAnalyzer() {
    this(DEFAULT_UNPATCHABLE);
  }

  /** An analyser with the catalog's list: plain names, or {@code path/file.c:name} keys. */
  public PatchAnalyzer(Collection<String> unpatchable) {
    for (String u : unpatchable) {
      if (u.contains(":")) {
        unpatchableKeys.add(u);
      } else {
        unpatchableNames.add(u);
      }
    }
  }

  public PatchAnalysis analyze(String diffText) {
    return analyze(DiffParser.parse(diffText));
  }

  public PatchAnalysis analyze(UnifiedDiff diff) {
    Map<String, Merged> functions = new TreeMap<>();
    Map<String, Flag> flags = new LinkedHashMap<>();
    List<PatchAnalysis.Problem> problems = new ArrayList<>();
    Set<String> files = new TreeSet<>();
    for (UnifiedDiff.DiffProblem p : diff.problems()) {
      problems.add(new PatchAnalysis.Problem(p.patchLine(), p.message()));
    }
    for (FileDiff f : diff.files()) {
      String path = f.kernelPath();
      if (path == null) {
        continue;
      }
      if (isIgnored(path)) {
        files.add(path);
        continue;
      }
      if (!isKernelPath(path)) {
        problems.add(
            new PatchAnalysis.Problem(
                f.patchLine(),
                "the diff changes '"
                    + CScanner.abbreviate(Printable.line(path))
                    + "', which is not a kernel source path (letters, digits, '_', '.', '+' and '-'"
                    + " between '/'); make the diff from a kernel tree with git diff"));
        continue;
      }
      files.add(path);
      boolean c = path.endsWith(".c");
      boolean h = path.endsWith(".h");
      if (f.binary() || !(c || h)) {
        addFlag(
            flags,
            new Flag(
                FlagKind.NON_SOURCE_FILE,
                path,
                f.patchLine(),
                "changes "
                    + path
                    + ", which is not C source; a livepatch can only carry changes to"
                    + " functions"));
        continue;
      }
      if (h) {
        addFlag(
            flags,
            new Flag(
                FlagKind.HEADER,
                path,
                f.patchLine(),
                "changes header "
                    + path
                    + ": its inline functions, macros and types are compiled"
                    + " into callers the diff does not show"));
      }
      if (c && f.isNew()) {
        addFlag(
            flags,
            new Flag(
                FlagKind.OUTSIDE_FUNCTION,
                path,
                f.patchLine(),
                "adds file " + path + ", which the running kernel does not have"));
      } else if (c && f.isDeleted()) {
        addFlag(
            flags,
            new Flag(
                FlagKind.OUTSIDE_FUNCTION,
                path,
                f.patchLine(),
                "deletes file "
                    + path
                    + "; a livepatch cannot remove code from the running kernel"));
      }
      for (Hunk hunk : f.hunks()) {
        analyzeHunk(path, c, hunk, functions, flags, problems);
      }
    }
    List<ChangedFunction> result = new ArrayList<>();
    for (Merged m : functions.values()) {
      result.add(new ChangedFunction(m.file, m.name, m.kind(), m.firstLine));
      Flag unpatchable = unpatchableFlag(result.get(result.size() - 1));
      if (unpatchable != null) {
        addFlag(flags, unpatchable);
      }
    }
    List<Flag> flagList = new ArrayList<>(flags.values());
    flagList.sort(Comparator.comparingInt(Flag::patchLine).thenComparing(Flag::key));
    problems.sort(Comparator.comparingInt(PatchAnalysis.Problem::patchLine));
    return new PatchAnalysis(
        List.copyOf(result), List.copyOf(flagList), List.copyOf(problems), List.copyOf(files));
  }

  /** The flag a changed function the catalog lists as unpatchable raises, or null. */
  Flag unpatchableFlag(ChangedFunction f) {
    if (unpatchableNames.contains(f.name()) || unpatchableKeys.contains(f.key())) {
      return new Flag(
          FlagKind.UNPATCHABLE_FUNCTION,
          f.key(),
          f.patchLine(),
          "changes "
              + f.name()
              + ", which the catalog lists as unpatchable (always on some"
              + " task's stack, or part of the patching machinery)");
    }
    return null;
  }

  /**
   * Whether a path is one a kernel tree has: a relative path of names made of letters, digits, '_',
   * '.', '+' and '-', none of them "." or "..". Paths end up in the package's capability names
   * ({@code kpatch-function(file.c:function)}) and in messages, so anything else (a quoted name
   * with a line break, a comma, a parenthesis) is refused rather than carried into a spec file.
   */
  static boolean isKernelPath(String path) {
    if (path.isEmpty() || path.startsWith("/") || path.endsWith("/")) {
      return false;
    }
    int segmentStart = 0;
    for (int i = 0; i <= path.length(); i++) {
      char c = i < path.length() ? path.charAt(i) : '/';
      if (c == '/') {
        String segment = path.substring(segmentStart, i);
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
          return false;
        }
        segmentStart = i + 1;
      } else if (!(c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || c == '_'
          || c == '.'
          || c == '+'
          || c == '-')) {
        return false;
      }
    }
    return true;
  }

  static boolean isIgnored(String path) {
    for (String p : IGNORED_PREFIXES) {
      if (path.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  private static void addFlag(Map<String, Flag> flags, Flag f) {
    flags.putIfAbsent(f.kind().id() + " " + f.key(), f);
  }

  /** Per-function facts gathered over every hunk of one file. */
  private static final class Merged {
    final String file;
    final String name;
    int firstLine = Integer.MAX_VALUE;
    boolean modified;
    boolean added;
    boolean deleted;

    Merged(String file, String name) {
      this.file = file;
      this.name = name;
    }

    ChangeKind kind() {
      if (modified || added && deleted) {
        return ChangeKind.MODIFIED;
      }
      return added ? ChangeKind.ADDED : ChangeKind.DELETED;
    }
  }

  /** What one side of a hunk says about one function construct. */
  private static final class Side {
    boolean present;
    boolean headerChanged;
    boolean changed;
    int firstChangedLine = Integer.MAX_VALUE;
    final StringBuilder header = new StringBuilder();
    Construct construct;
  }

  private void analyzeHunk(
      String path,
      boolean cFile,
      Hunk hunk,
      Map<String, Merged> functions,
      Map<String, Flag> flags,
      List<PatchAnalysis.Problem> problems) {
    Map<String, Side> oldSide = new LinkedHashMap<>();
    Map<String, Side> newSide = new LinkedHashMap<>();
    List<PatchAnalysis.Problem> unplaced = new ArrayList<>();
    scanSide(path, hunk, '-', oldSide, flags, unplaced);
    scanSide(path, hunk, '+', newSide, flags, unplaced);
    // Both sides of a hunk report the same unplaceable change; keep the first line once.
    unplaced.stream()
        .min(Comparator.comparingInt(PatchAnalysis.Problem::patchLine))
        .ifPresent(problems::add);
    Set<String> names = new TreeSet<>();
    names.addAll(oldSide.keySet());
    names.addAll(newSide.keySet());
    for (String name : names) {
      Side o = oldSide.get(name);
      Side n = newSide.get(name);
      boolean changed = o != null && o.changed || n != null && n.changed;
      if (!changed) {
        continue;
      }
      Merged m = functions.computeIfAbsent(path + ":" + name, k -> new Merged(path, name));
      int first =
          Math.min(
              o != null ? o.firstChangedLine : Integer.MAX_VALUE,
              n != null ? n.firstChangedLine : Integer.MAX_VALUE);
      m.firstLine = Math.min(m.firstLine, first);
      boolean addedHere = n != null && n.headerChanged && (o == null || !o.present);
      boolean deletedHere = o != null && o.headerChanged && (n == null || !n.present);
      if (addedHere) {
        m.added = true;
      } else if (deletedHere) {
        m.deleted = true;
      } else {
        m.modified = true;
        if (o != null
            && n != null
            && o.headerChanged
            && n.headerChanged
            && !normalise(o.header).equals(normalise(n.header))) {
          addFlag(
              flags,
              new Flag(
                  FlagKind.SIGNATURE_CHANGE,
                  path + ":" + name,
                  first,
                  "changes the signature of "
                      + name
                      + ": callers compiled against the old one pass"
                      + " the old arguments"));
        }
      }
      Construct c = (n != null ? n : o).construct;
      if (!addedHere && !deletedHere) {
        if (c.isInit()) {
          addFlag(
              flags,
              new Flag(
                  FlagKind.INIT_FUNCTION,
                  path + ":" + name,
                  first,
                  "changes __init function " + name + ": it ran at boot and its code is freed"));
        }
        if (c.isExit()) {
          addFlag(
              flags,
              new Flag(
                  FlagKind.EXIT_FUNCTION,
                  path + ":" + name,
                  first,
                  "changes __exit function " + name + ": it only runs when its module is removed"));
        }
        if (cFile && c.isInline()) {
          addFlag(
              flags,
              new Flag(
                  FlagKind.INLINE_FUNCTION,
                  path + ":" + name,
                  first,
                  "changes inline function "
                      + name
                      + ": the compiler copied it into its callers; the module must replace those"
                      + " callers (list them in spec.extraFunctions)"));
        }
      }
    }
  }

  private static String normalise(CharSequence s) {
    return s.toString().replaceAll("\\s+", " ").strip();
  }

  /**
   * Scans one side ('-' old or '+' new) of a hunk, recording function constructs into {@code sides}
   * and flags for changed top-level constructs that are not functions.
   */
  private void scanSide(
      String path,
      Hunk hunk,
      char changeMark,
      Map<String, Side> sides,
      Map<String, Flag> flags,
      List<PatchAnalysis.Problem> problems) {
    List<Line> view = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (Line l : hunk.lines()) {
      if (l.kind() == ' ' || l.kind() == changeMark) {
        view.add(l);
        texts.add(l.text());
      }
    }
    List<Attribution> attrs = CScanner.scan(texts, hunk.context());
    Map<Construct, Boolean> reportedUnknown = new IdentityHashMap<>();
    for (int i = 0; i < view.size(); i++) {
      Line line = view.get(i);
      Attribution a = attrs.get(i);
      Construct c = a.construct();
      boolean changed = line.kind() == changeMark;
      if (c == null) {
        continue; // top-level blank lines and comments
      }
      if (c.kind == Kind.FUNCTION) {
        Side s = sides.computeIfAbsent(c.name, k -> new Side());
        s.present = true;
        s.construct = c;
        if (a.inHeader() || c.startIndex == i) {
          s.header.append(line.text()).append(' ');
          if (changed) {
            s.headerChanged = true;
          }
        }
        if (changed) {
          s.changed = true;
          s.firstChangedLine = Math.min(s.firstChangedLine, line.patchLine());
        }
        continue;
      }
      if (!changed || a.trivia()) {
        continue;
      }
      if (c.kind != Kind.UNKNOWN) {
        Flag f = outsideFunctionFlag(path, c, line.patchLine());
        if (f != null) {
          addFlag(flags, f);
        }
        continue;
      }
      if (reportedUnknown.put(c, Boolean.TRUE) == null) {
        problems.add(
            new PatchAnalysis.Problem(
                line.patchLine(),
                "cannot tell which function this change in "
                    + path
                    + " belongs to: the hunk"
                    + " header names no function; regenerate the diff with 'git diff' or"
                    + " 'diff -up' so each hunk header names its function"));
      }
    }
  }

  /**
   * The flag a changed line of a top-level construct other than a function raises, or null ({@code
   * #include} lines, prototypes and declarations raise none; nor does UNKNOWN, which the hunk
   * analysis reports as a problem).
   */
  static Flag outsideFunctionFlag(String path, Construct c, int patchLine) {
    switch (c.kind) {
      case DATA_STRUCTURE:
        return new Flag(
            FlagKind.DATA_STRUCTURE,
            path + ":" + c.name,
            patchLine,
            "changes the definition of "
                + c.name
                + ": data in the running kernel keeps the"
                + " old layout (use a shadow variable in the module instead)");
      case GLOBAL:
        return new Flag(
            FlagKind.GLOBAL_DATA,
            path + ":" + c.name,
            patchLine,
            "changes global data '"
                + c.name
                + "' outside any function: the running kernel"
                + " keeps the old variable");
      case MACRO:
        return new Flag(
            FlagKind.MACRO,
            path + ":" + c.name,
            patchLine,
            "changes macro " + c.name + ": code compiled with the old definition keeps it");
      case DIRECTIVE:
      case OTHER:
        return new Flag(
            FlagKind.OUTSIDE_FUNCTION,
            path + ":" + c.name,
            patchLine,
            "changes '" + c.name + "' outside any function");
      default:
        return null;
    }
  }
}
