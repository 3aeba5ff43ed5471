package org.klpcatalog.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.klpcatalog.catalog.analysis.ChangedFunction;
import org.klpcatalog.catalog.analysis.DiffParser;
import org.klpcatalog.catalog.analysis.PatchAnalyzer;
import org.klpcatalog.catalog.analysis.SourceAnalysis;
import org.klpcatalog.catalog.analysis.SourceAnalyzer;
import org.klpcatalog.catalog.analysis.UnifiedDiff;
import org.klpcatalog.exec.Command;

/**
 * Evaluates the changed functions of the source analysis on real kernel changes: for two kernel
 * trees, every .c file that differs (Documentation/, tools/, scripts/ and samples/ left out) is
 * diffed with {@code diff -up}, analysed by {@link SourceAnalyzer} against the old tree's file and
 * by the diff-text {@link PatchAnalyzer}, and both are scored against an independent oracle:
 * universal-ctags' function ranges in the old and new file, a function counting as changed when its
 * range in either file holds a changed line. Prints recall and precision of both and the functions
 * each misses or adds.
 *
 * <pre>bench/run srcfn --old TREE --new TREE [--limit FILES] [--show N]</pre>
 */
public final class SourceAnalysisBenchmark {
  private static final List<String> SKIPPED =
      List.of("Documentation/", "tools/", "scripts/", "samples/");
  private static final Pattern TAG =
      Pattern.compile(
          "\"name\": \"([^\"]*)\".*?\"line\": (\\d+).*?\"kind\": \"function\".*?\"end\": (\\d+)");
  private static final Pattern SYSCALL =
      Pattern.compile("^(COMPAT_)?SYSCALL_DEFINE\\d\\s*\\(\\s*(\\w+)");

  private SourceAnalysisBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path oldTree = null;
    Path newTree = null;
    int limit = Integer.MAX_VALUE;
    int show = 40;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--old" -> oldTree = Path.of(args[++i]);
        case "--new" -> newTree = Path.of(args[++i]);
        case "--limit" -> limit = Integer.parseInt(args[++i]);
        case "--show" -> show = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (oldTree == null || newTree == null) {
      System.err.println("usage: bench/run srcfn --old TREE --new TREE [--limit FILES] [--show N]");
      System.exit(2);
    }
    List<String> changed = changedFiles(oldTree, newTree, limit);
    System.out.printf("%d .c files differ between %s and %s%n", changed.size(), oldTree, newTree);
    Score source = new Score("source (SourceAnalyzer)");
    Score text = new Score("diff text (PatchAnalyzer)");
    int notApplied = 0;
    long analysisNanos = 0;
    SourceAnalyzer sourceAnalyzer = new SourceAnalyzer();
    PatchAnalyzer textAnalyzer = new PatchAnalyzer();
    for (String path : changed) {
      // Decoded as the diff's output is (UTF-8, malformed bytes replaced alike).
      String oldText =
          new String(Files.readAllBytes(oldTree.resolve(path)), StandardCharsets.UTF_8);
      String newText =
          new String(Files.readAllBytes(newTree.resolve(path)), StandardCharsets.UTF_8);
      String diff = diff(oldTree, newTree, path);
      UnifiedDiff parsed = DiffParser.parse(diff);
      long t0 = System.nanoTime();
      SourceAnalysis sa =
          sourceAnalyzer.analyze(
              parsed, p -> p.equals(path) ? Optional.of(oldText) : Optional.empty());
      analysisNanos += System.nanoTime() - t0;
      if (!sa.applies() || !newText.equals(sa.patched().get(path))) {
        notApplied++;
        System.out.println("NOT APPLIED " + path + ": " + sa.analysis().problems());
      }
      Set<String> oracle = oracle(path, oldTree, newTree, parsed);
      source.add(path, names(sa.analysis().functions()), oracle);
      text.add(path, names(textAnalyzer.analyze(parsed).functions()), oracle);
    }
    System.out.printf(
        "files not applied or patched differently: %d; source analysis %.2f s%n",
        notApplied, analysisNanos / 1e9);
    source.print(show);
    text.print(show);
  }

  private static List<String> changedFiles(Path oldTree, Path newTree, int limit)
      throws IOException {
    return changedFiles(oldTree, newTree, limit, SKIPPED);
  }

  /**
   * The .c files of both trees whose bytes differ, in path order, outside {@code skipped} prefixes.
   */
  static List<String> changedFiles(Path oldTree, Path newTree, int limit, List<String> skipped)
      throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(oldTree)) {
      for (Path p :
          (Iterable<Path>) s.filter(f -> f.toString().endsWith(".c")).sorted()::iterator) {
        String rel = oldTree.relativize(p).toString();
        if (skipped.stream().anyMatch(rel::startsWith) || !Files.isRegularFile(p)) {
          continue;
        }
        Path q = newTree.resolve(rel);
        if (Files.isRegularFile(q)
            && (Files.size(p) != Files.size(q) || Files.mismatch(p, q) >= 0)) {
          out.add(rel);
          if (out.size() >= limit) {
            break;
          }
        }
      }
    }
    return out;
  }

  private static Set<String> names(List<ChangedFunction> functions) {
    Set<String> out = new TreeSet<>();
    functions.forEach(f -> out.add(f.key()));
    return out;
  }

  /** Functions whose ctags range in the old or new file holds a removed or added line. */
  private static Set<String> oracle(String path, Path oldTree, Path newTree, UnifiedDiff diff)
      throws IOException, InterruptedException {
    Set<Integer> removed = new TreeSet<>();
    Set<Integer> added = new TreeSet<>();
    for (UnifiedDiff.Hunk h : diff.files().get(0).hunks()) {
      int o = h.oldStart();
      int n = h.newStart();
      for (UnifiedDiff.Line l : h.lines()) {
        switch (l.kind()) {
          case '-' -> removed.add(o++);
          case '+' -> added.add(n++);
          default -> {
            o++;
            n++;
          }
        }
      }
    }
    Set<String> out = new TreeSet<>();
    ranges(path, oldTree, removed, out);
    ranges(path, newTree, added, out);
    return out;
  }

  private static void ranges(String path, Path tree, Set<Integer> lines, Set<String> out)
      throws IOException, InterruptedException {
    Path file = tree.resolve(path);
    String json =
        Command.of(
                "ctags",
                "--c-kinds=f",
                "--fields=+ne",
                "--output-format=json",
                "-o",
                "-",
                file.toString())
            .timeout(Duration.ofMinutes(2))
            .check();
    List<String> source = null;
    for (String line : json.split("\n")) {
      Matcher m = TAG.matcher(line);
      if (!m.find()) {
        continue;
      }
      int first = Integer.parseInt(m.group(2));
      int last = Integer.parseInt(m.group(3));
      boolean hit = false;
      for (int l : lines) {
        hit |= l >= first && l <= last;
      }
      if (!hit) {
        continue;
      }
      String name = m.group(1);
      if (name.contains("SYSCALL_DEFINE")) {
        if (source == null) {
          source = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        }
        Matcher s = SYSCALL.matcher(source.get(first - 1));
        if (s.find()) {
          name = (s.group(1) != null ? "__do_compat_sys_" : "__do_sys_") + s.group(2);
        }
      }
      out.add(path + ":" + name);
    }
  }

  /** Recall and precision of one analyser over all files, with what it missed and added. */
  private static final class Score {
    final String name;
    int truePositives;
    int oracleCount;
    int reportedCount;
    final List<String> misses = new ArrayList<>();
    final List<String> extras = new ArrayList<>();

    Score(String name) {
      this.name = name;
    }

    void add(String path, Set<String> reported, Set<String> oracle) {
      oracleCount += oracle.size();
      reportedCount += reported.size();
      for (String o : oracle) {
        if (reported.contains(o)) {
          truePositives++;
        } else {
          misses.add(o);
        }
      }
      for (String r : reported) {
        if (!oracle.contains(r)) {
          extras.add(r);
        }
      }
    }

    void print(int show) {
      System.out.printf(
          "%s: oracle %d, reported %d, found %d: recall %.4f, precision %.4f%n",
          name,
          oracleCount,
          reportedCount,
          truePositives,
          oracleCount == 0 ? 1.0 : (double) truePositives / oracleCount,
          reportedCount == 0 ? 1.0 : (double) truePositives / reportedCount);
      System.out.printf("  missed (%d):%n", misses.size());
      misses.stream().limit(show).forEach(m -> System.out.println("    " + m));
      System.out.printf("  not in the oracle (%d):%n", extras.size());
      extras.stream().limit(show).forEach(m -> System.out.println("    " + m));
    }
  }

  /** {@code diff -up} of one file between two kernel trees, labelled a/PATH and b/PATH. */
  static String diff(Path oldTree, Path newTree, String path)
      throws IOException, InterruptedException {
    return Command.of(
            "diff",
            "-up",
            "--label",
            "a/" + path,
            "--label",
            "b/" + path,
            oldTree.resolve(path).toString(),
            newTree.resolve(path).toString())
        .timeout(Duration.ofMinutes(2))
        .run()
        .output();
  }
}
