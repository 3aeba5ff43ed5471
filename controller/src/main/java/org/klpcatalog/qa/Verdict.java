package org.klpcatalog.qa;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Judges a job's transcript against the protocol. Pure: the same transcript always gives the same
 * steps. Each step is one test case of the report; a step fails with every problem found in it.
 *
 * <ul>
 *   <li>Regression tests pass in every suite run; a {@code -LOADED} test fails before install,
 *       passes while the patch is loaded, fails after removal.
 *   <li>rpm exits 0 for every install, upgrade and removal.
 *   <li>After install: exactly the job's livepatches are in sysfs, enabled, with no transition in
 *       progress (kpatch load waits for it), kpatch has installed their modules and rpm lists the
 *       packages. After removal: no livepatch, no installed module, no package.
 *   <li>Late module patching: a target module loaded after the patch is patched when it loads
 *       ({@code patched} 0 before, 1 after).
 *   <li>Everywhere: no {@code Call Trace}, {@code WARNING:}, {@code BUG:}, Oops or panic in the
 *       kernel log, and no taint flag but K (livepatch), O (out-of-tree) and E (unsigned).
 * </ul>
 */
public final class Verdict {
  /** Taint flags a livepatch module may set: K (15), O (12), E (13). */
  public static final long ALLOWED_TAINT = (1L << 15) | (1L << 12) | (1L << 13);

  static final Pattern KERNEL_PROBLEM =
      Pattern.compile(
          "Call Trace|WARNING:|BUG:|Oops|general protection fault|Kernel panic|kernel BUG|RIP: ");

  /** The steps of a job, in order, as report test cases. */
  public enum Step {
    BOOT("boot"),
    BASELINE("baseline"),
    INSTALL("install"),
    LOADED("loaded"),
    REMOVE("remove"),
    REMOVED("removed"),
    LATE("late-module"),
    UPGRADE("upgrade"),
    STRESS("stress"),
    FINAL("final-state");

    public final String label;

    Step(String label) {
      this.label = label;
    }
  }

  public enum Status {
    PASSED,
    FAILED,
    SKIPPED
  }

  /** One step's outcome, the problems found, and the output that explains them. */
  public record StepResult(Step step, Status status, List<String> problems, List<String> output) {}

  private Verdict() {}

  /** The step a phase of the guest script belongs to. */
  static Step stepOf(String phase) {
    if (phase.startsWith("late")) {
      return Step.LATE;
    }
    if (phase.startsWith("upgrade")) {
      return Step.UPGRADE;
    }
    if (phase.startsWith("stress")) {
      return Step.STRESS;
    }
    return switch (phase) {
      case "boot" -> Step.BOOT;
      case "baseline" -> Step.BASELINE;
      case "install" -> Step.INSTALL;
      case "loaded" -> Step.LOADED;
      case "remove" -> Step.REMOVE;
      case "removed" -> Step.REMOVED;
      default -> Step.FINAL;
    };
  }

  /** The steps a job runs, in order. */
  public static List<Step> steps(QaJob job) {
    List<Step> steps =
        new ArrayList<>(
            List.of(
                Step.BOOT, Step.BASELINE, Step.INSTALL, Step.LOADED, Step.REMOVE, Step.REMOVED));
    if (job.kind() == QaJob.Kind.PATCH) {
      if (!job.targetModules().isEmpty()) {
        steps.add(Step.LATE);
      }
      if (!job.previous().isEmpty()) {
        steps.add(Step.UPGRADE);
      }
      if (job.stress() > 0) {
        steps.add(Step.STRESS);
      }
    }
    steps.add(Step.FINAL);
    return steps;
  }

  /**
   * Judges a run. {@code stopped} says why the guest ended when it did not reach the end (timed
   * out, crashed): the step it was in fails with that reason and later steps are not run.
   */
  public static List<StepResult> judge(QaJob job, Transcript t, String stopped) {
    Map<Step, List<String>> problems = new LinkedHashMap<>();
    Map<Step, List<String>> output = new LinkedHashMap<>();
    List<Step> steps = steps(job);
    steps.forEach(
        s -> {
          problems.put(s, new ArrayList<>());
          output.put(s, new ArrayList<>());
        });
    Set<String> modules = new TreeSet<>();
    Set<String> names = new TreeSet<>();
    job.packages()
        .forEach(
            p -> {
              modules.add(p.module());
              names.add(p.name());
            });
    Set<Step> seen = new LinkedHashSet<>();
    for (Transcript.Event e : t.events()) {
      Step step = stepOf(e.phase());
      if (!problems.containsKey(step)) {
        continue;
      }
      seen.add(step);
      List<String> p = problems.get(step);
      switch (e.what()) {
        case "TEST" -> {
          boolean pass = e.arg(1).equals("0");
          boolean expectPass = expectPass(e.arg(0), e.phase());
          if (pass != expectPass) {
            p.add(
                e.arg(0)
                    + " "
                    + (pass ? "passed" : "failed (exit " + e.arg(1) + ")")
                    + " "
                    + when(e.phase())
                    + ", expected to "
                    + (expectPass ? "pass" : "fail")
                    + explain(e.arg(0), e.phase()));
            output.get(step).add("--- " + e.arg(0) + " (" + e.phase() + "), exit " + e.arg(1));
            output.get(step).addAll(e.output());
          }
        }
        case "RPM" -> {
          if (!e.arg(0).equals("0")) {
            p.add("rpm failed (exit " + e.arg(0) + ") at " + e.phase());
          }
          if (!e.arg(0).equals("0") || !e.output().isEmpty()) {
            output.get(step).add("--- rpm (" + e.phase() + "), exit " + e.arg(0));
            output.get(step).addAll(e.output());
          }
        }
        case "UNLOAD" -> {
          if (!e.arg(1).equals("0") && !e.arg(1).equals("absent")) {
            p.add(
                "target module "
                    + e.arg(0)
                    + " could not be unloaded to test late patching (rmmod exit "
                    + e.arg(1)
                    + "); is a test leaving it in use?");
            output.get(step).addAll(e.output());
          }
        }
        case "MODPROBE" -> {
          if (!e.arg(1).equals("0")) {
            p.add(
                "target module "
                    + e.arg(0)
                    + " did not load with the patch in place (modprobe exit "
                    + e.arg(1)
                    + ")");
            output.get(step).addAll(e.output());
          }
        }
        case "TAINT" -> {
          long taint = parseLong(e.arg(0));
          if ((taint & ~ALLOWED_TAINT) != 0) {
            p.add(
                "kernel tainted "
                    + taint
                    + " "
                    + when(e.phase())
                    + ": flags "
                    + TaintFlags.describe(taint & ~ALLOWED_TAINT)
                    + " beyond the livepatch's K, O and E");
          }
        }
        case "DMESG" -> {
          List<String> bad =
              e.output().stream().filter(l -> KERNEL_PROBLEM.matcher(l).find()).toList();
          if (!bad.isEmpty()) {
            p.add("kernel log " + when(e.phase()) + ": " + bad.get(0).strip());
            output.get(step).add("--- kernel log (" + e.phase() + ")");
            output.get(step).addAll(e.output());
          }
        }
        default -> {}
      }
    }
    // Every test reports a result in every suite the guest reached.
    for (String phase : suitesPassed(job, t)) {
      Step step = stepOf(phase);
      if (!problems.containsKey(step)) {
        continue;
      }
      Set<String> reported = new TreeSet<>();
      t.in(phase).stream()
          .filter(e -> e.what().equals("TEST"))
          .forEach(e -> reported.add(e.arg(0)));
      for (QaTest test : job.tests()) {
        if (!reported.contains(test.id())) {
          problems.get(step).add(test.id() + " reported no result " + when(phase));
        }
      }
    }
    // Every rpm step and state check the script has, up to where the guest got, reported.
    int furthest = t.events().stream().mapToInt(e -> order(e.phase())).max().orElse(-1);
    List<String[]> script = scriptPhases(job);
    // States after an rpm transaction read rpm's database back.
    Set<String> rpmStates = new HashSet<>();
    script.stream()
        .filter(ph -> ph.length > 2 && ph[2].equals("rpm"))
        .forEach(ph -> rpmStates.add(ph[1]));
    for (String[] ph : script) {
      String phase = ph[1];
      Step step = stepOf(phase);
      if (!problems.containsKey(step) || !(order(phase) < furthest || t.finished())) {
        continue;
      }
      String what = ph[0].equals("rpmstep") ? "RPM" : "TAINT";
      if (t.in(phase).stream().noneMatch(e -> e.what().equals(what))) {
        problems
            .get(step)
            .add(
                phase + ": the guest reported no " + (what.equals("RPM") ? "rpm result" : "state"));
      }
    }
    // The state after each phase that changes it.
    for (String phase : statePhases(t)) {
      Step step = stepOf(phase);
      if (!problems.containsKey(step)) {
        continue;
      }
      checkState(
          job, phase, rpmStates.contains(phase), t.in(phase), modules, names, problems.get(step));
    }
    List<StepResult> results = new ArrayList<>();
    boolean reachedEnd = t.finished();
    Step last = seen.isEmpty() ? Step.BOOT : List.copyOf(seen).get(seen.size() - 1);
    boolean after = false;
    for (Step s : steps) {
      List<String> p = problems.get(s);
      if (after) {
        results.add(
            new StepResult(
                s,
                Status.FAILED,
                List.of("not run: the guest stopped in step " + last.label),
                List.of()));
        continue;
      }
      if (!reachedEnd && s == last) {
        List<String> all = new ArrayList<>(p);
        all.add(
            "the guest stopped here: "
                + (stopped.isEmpty() ? "it powered off before the end" : stopped));
        results.add(new StepResult(s, Status.FAILED, all, output.get(s)));
        after = true;
        continue;
      }
      results.add(
          new StepResult(
              s, p.isEmpty() ? Status.PASSED : Status.FAILED, List.copyOf(p), output.get(s)));
    }
    return results;
  }

  /**
   * The rpm steps and state checks of the job's script: {"rpmstep", phase} or {"state", phase[,
   * "rpm"]}.
   */
  private static List<String[]> scriptPhases(QaJob job) {
    List<String[]> out = new ArrayList<>();
    String script;
    try {
      script = GuestScript.write(job, GuestScript.Limits.DEFAULT);
    } catch (IllegalArgumentException e) {
      return out;
    }
    for (String line : script.split("\n")) {
      String[] f = line.split(" ");
      if (f.length >= 2 && (f[0].equals("rpmstep") || f[0].equals("state"))) {
        out.add(
            f.length > 2 && f[0].equals("state")
                ? new String[] {f[0], f[1], f[2]}
                : new String[] {f[0], f[1]});
      }
    }
    return out;
  }

  /** The script's phases in order; stress cycles share one place. */
  private static final List<String> ORDER =
      List.of(
          "boot",
          "baseline",
          "install",
          "loaded",
          "remove",
          "removed",
          "late-unload",
          "late-install",
          "late-load",
          "late",
          "late-remove",
          "upgrade-old",
          "upgrade",
          "upgraded",
          "upgrade-remove",
          "stress",
          "stress-after",
          "end");

  private static int order(String phase) {
    int i = ORDER.indexOf(phase.matches("stress-\\d+-.*") ? "stress" : phase);
    return i < 0 ? ORDER.size() : i;
  }

  /** The suites the job runs that the guest went past (some marker of a later phase came). */
  private static List<String> suitesPassed(QaJob job, Transcript t) {
    List<String> suites = new ArrayList<>(List.of("baseline", "loaded", "removed"));
    if (job.kind() == QaJob.Kind.PATCH) {
      if (!job.targetModules().isEmpty()) {
        suites.add("late");
      }
      if (!job.previous().isEmpty()) {
        suites.add("upgraded");
      }
      if (job.stress() > 0) {
        suites.add("stress-after");
      }
    }
    int furthest = t.events().stream().mapToInt(e -> order(e.phase())).max().orElse(-1);
    return suites.stream().filter(s -> order(s) < furthest).toList();
  }

  private static List<String> statePhases(Transcript t) {
    Set<String> phases = new LinkedHashSet<>();
    for (Transcript.Event e : t.events()) {
      if (e.what().equals("TAINT")) {
        phases.add(e.phase());
      }
    }
    return List.copyOf(phases);
  }

  private static void checkState(
      QaJob job,
      String phase,
      boolean readsRpm,
      List<Transcript.Event> events,
      Set<String> modules,
      Set<String> names,
      List<String> problems) {
    Map<String, String[]> lp = new LinkedHashMap<>();
    Map<String, String> patched = new LinkedHashMap<>();
    Set<String> kpatch = new TreeSet<>();
    Set<String> rpmdb = new TreeSet<>();
    boolean queried = false;
    for (Transcript.Event e : events) {
      switch (e.what()) {
        case "RPMQ" -> {
          queried = true;
          if (!e.arg(0).equals("0")) {
            problems.add(
                "after " + phase + ": rpm could not read its database (exit " + e.arg(0) + ")");
          }
        }
        case "LP" -> lp.put(e.arg(0), new String[] {e.arg(1), e.arg(2)});
        case "OBJ" -> patched.put(e.arg(1), e.arg(2));
        case "KPATCH" -> kpatch.add(e.arg(0));
        case "RPMDB" -> rpmdb.add(e.arg(0));
        default -> {}
      }
    }
    boolean loadedPhase =
        phase.equals("install")
            || phase.equals("late-install")
            || phase.equals("late-load")
            || phase.equals("upgrade")
            || phase.matches("stress-\\d+-install");
    boolean oldPhase = phase.equals("upgrade-old");
    if (readsRpm && !queried) {
      problems.add("after " + phase + ": rpm's database was not read");
    }
    if (loadedPhase) {
      for (String m : modules) {
        String[] s = lp.get(m);
        if (s == null) {
          problems.add(
              "after "
                  + phase
                  + ": livepatch "
                  + m
                  + " is not loaded (no /sys/kernel/livepatch/"
                  + m
                  + ")");
        } else {
          if (!s[0].equals("1")) {
            problems.add("after " + phase + ": livepatch " + m + " is loaded but not enabled");
          }
          if (!s[1].equals("0")) {
            problems.add("after " + phase + ": livepatch " + m + " is still in transition");
          }
        }
        if (!kpatch.contains(job.kernel() + "/" + m + ".ko")) {
          problems.add(
              "after " + phase + ": kpatch has not installed " + m + ".ko for " + job.kernel());
        }
      }
      Set<String> extra = new TreeSet<>(lp.keySet());
      extra.removeAll(modules);
      if (!extra.isEmpty()) {
        problems.add(
            "after " + phase + ": other livepatches are still loaded: " + String.join(", ", extra));
      }
      if (queried && !rpmdb.equals(names)) {
        problems.add(
            "after "
                + phase
                + ": rpm lists "
                + (rpmdb.isEmpty() ? "nothing" : String.join(", ", rpmdb))
                + " installed, expected "
                + String.join(", ", names));
      }
    } else if (oldPhase) {
      if (lp.isEmpty()) {
        problems.add("after " + phase + ": the previous version loaded no livepatch");
      }
      lp.forEach(
          (m, s) -> {
            if (!s[0].equals("1") || !s[1].equals("0")) {
              problems.add("after " + phase + ": livepatch " + m + " is not enabled and settled");
            }
          });
    } else {
      if (!lp.isEmpty()) {
        problems.add(
            "after " + phase + ": livepatches still loaded: " + String.join(", ", lp.keySet()));
      }
      if (!phase.equals("boot") && !phase.equals("late-unload")) {
        if (!kpatch.isEmpty()) {
          problems.add(
              "after "
                  + phase
                  + ": kpatch still has modules installed: "
                  + String.join(", ", kpatch));
        }
        if (queried && !rpmdb.isEmpty()) {
          problems.add("after " + phase + ": rpm still lists " + String.join(", ", rpmdb));
        }
      }
    }
    if (phase.equals("late-install")) {
      for (String target : job.targetModules()) {
        String v = patched.get(target);
        if (v != null && !v.equals("0")) {
          problems.add(
              "after late-install: object "
                  + target
                  + " reports patched while the module is not loaded");
        }
      }
    }
    if (phase.equals("late-load")) {
      for (String target : job.targetModules()) {
        String v = patched.get(target);
        if (!"1".equals(v)) {
          problems.add(
              "after late-load: "
                  + target
                  + " was loaded after the livepatch but is "
                  + (v == null ? "not one of its objects" : "not patched"));
        }
      }
    }
  }

  static boolean expectPass(String testId, String phase) {
    boolean loaded = testId.endsWith("-LOADED.test");
    if (!loaded) {
      return true;
    }
    return phase.equals("loaded") || phase.equals("late") || phase.equals("upgraded");
  }

  private static String explain(String testId, String phase) {
    if (!testId.endsWith("-LOADED.test")) {
      return " (a regression test must pass with and without the patch)";
    }
    return expectPass(testId, phase)
        ? " (a -LOADED test passes while the patch is loaded)"
        : phase.equals("baseline")
            ? " (before install: the test does not detect the unpatched kernel)"
            : " (after removal: the patch's effect outlived it, or the test does not detect the"
                + " unpatched kernel)";
  }

  private static String when(String phase) {
    return switch (phase) {
      case "baseline" -> "before install";
      case "loaded" -> "with the patch loaded";
      case "removed" -> "after removal";
      case "late" -> "with the target module loaded after the patch";
      case "upgraded" -> "after the upgrade";
      case "stress-after" -> "after the stress cycles";
      case "boot" -> "at boot";
      case "install" -> "after install";
      case "remove" -> "after the removal";
      case "upgrade" -> "after the upgrade";
      default -> "at " + phase;
    };
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
