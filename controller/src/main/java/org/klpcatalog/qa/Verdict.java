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
 * Which phases a job runs, the step each belongs to, the markers each must report and what its
 * state must show come from {@link Phase}; the rules, in short:
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

  /** The steps a job runs, in order: those of its phases. */
  public static List<Step> steps(QaJob job) {
    return Phase.runs(job).stream().map(r -> r.phase().step).distinct().toList();
  }

  /**
   * Judges a run. {@code stopped} says why the guest ended when it did not reach the end (timed
   * out, crashed): the step it was in fails with that reason and later steps are not run.
   */
  public static List<StepResult> judge(QaJob job, Transcript t, String stopped) {
    List<Step> steps = steps(job);
    Findings found = new Findings(steps);
    // What each marker reports.
    t.events().forEach(e -> checkEvent(e, found));
    // Every test reports a result in every suite the guest went past.
    checkTestsReported(job, t, found);
    // Every rpm step and state report of the job's phases, up to where the guest got, came.
    checkPhasesReported(job, t, found);
    // The state after each phase that reports one.
    checkStates(job, t, found);
    return results(steps, found, lastStepReached(t, found), t.finished(), stopped);
  }

  /** The problems found and the output that explains them, per step of the job. */
  private static final class Findings {
    final Map<Step, List<String>> problems = new LinkedHashMap<>();
    final Map<Step, List<String>> output = new LinkedHashMap<>();

    Findings(List<Step> steps) {
      steps.forEach(
          s -> {
            problems.put(s, new ArrayList<>());
            output.put(s, new ArrayList<>());
          });
    }

    /** Whether the job runs the step: markers of steps it does not run are ignored. */
    boolean judges(Step step) {
      return problems.containsKey(step);
    }
  }

  private static void checkEvent(Transcript.Event e, Findings found) {
    Step step = Phase.stepOf(e.phase());
    if (!found.judges(step)) {
      return;
    }
    List<String> problems = found.problems.get(step);
    List<String> output = found.output.get(step);
    switch (e.marker()) {
      case TEST -> checkTest(e, problems, output);
      case RPM -> checkRpm(e, problems, output);
      case UNLOAD -> checkUnload(e, problems, output);
      case MODPROBE -> checkModprobe(e, problems, output);
      case TAINT -> checkTaint(e, problems);
      case DMESG -> checkKernelLog(e, problems, output);
      default -> {}
    }
  }

  private static void checkTest(Transcript.Event e, List<String> problems, List<String> output) {
    boolean pass = e.arg(1).equals("0");
    boolean expectPass = expectPass(e.arg(0), e.phase());
    if (pass != expectPass) {
      problems.add(
          e.arg(0)
              + " "
              + (pass ? "passed" : "failed (exit " + e.arg(1) + ")")
              + " "
              + Phase.when(e.phase())
              + ", expected to "
              + (expectPass ? "pass" : "fail")
              + explain(e.arg(0), e.phase()));
      output.add("--- " + e.arg(0) + " (" + e.phase() + "), exit " + e.arg(1));
      output.addAll(e.output());
    }
  }

  private static void checkRpm(Transcript.Event e, List<String> problems, List<String> output) {
    if (!e.arg(0).equals("0")) {
      problems.add("rpm failed (exit " + e.arg(0) + ") at " + e.phase());
    }
    if (!e.arg(0).equals("0") || !e.output().isEmpty()) {
      output.add("--- rpm (" + e.phase() + "), exit " + e.arg(0));
      output.addAll(e.output());
    }
  }

  private static void checkUnload(Transcript.Event e, List<String> problems, List<String> output) {
    if (!e.arg(1).equals("0") && !e.arg(1).equals("absent")) {
      problems.add(
          "target module "
              + e.arg(0)
              + " could not be unloaded to test late patching (rmmod exit "
              + e.arg(1)
              + "); is a test leaving it in use?");
      output.addAll(e.output());
    }
  }

  private static void checkModprobe(
      Transcript.Event e, List<String> problems, List<String> output) {
    if (!e.arg(1).equals("0")) {
      problems.add(
          "target module "
              + e.arg(0)
              + " did not load with the patch in place (modprobe exit "
              + e.arg(1)
              + ")");
      output.addAll(e.output());
    }
  }

  private static void checkTaint(Transcript.Event e, List<String> problems) {
    long taint = parseLong(e.arg(0));
    if ((taint & ~ALLOWED_TAINT) != 0) {
      problems.add(
          "kernel tainted "
              + taint
              + " "
              + Phase.when(e.phase())
              + ": flags "
              + TaintFlags.describe(taint & ~ALLOWED_TAINT)
              + " beyond the livepatch's K, O and E");
    }
  }

  private static void checkKernelLog(
      Transcript.Event e, List<String> problems, List<String> output) {
    List<String> bad = e.output().stream().filter(l -> KERNEL_PROBLEM.matcher(l).find()).toList();
    if (!bad.isEmpty()) {
      problems.add("kernel log " + Phase.when(e.phase()) + ": " + bad.get(0).strip());
      output.add("--- kernel log (" + e.phase() + ")");
      output.addAll(e.output());
    }
  }

  /** Each test of the job has a result in every suite the guest went past. */
  private static void checkTestsReported(QaJob job, Transcript t, Findings found) {
    int furthest = furthestPlace(t);
    for (Phase.Run run : Phase.runs(job)) {
      String phase = run.name();
      Step step = run.phase().step;
      if (run.phase().action.marker != Marker.TEST
          || Phase.place(phase) >= furthest
          || !found.judges(step)) {
        continue;
      }
      Set<String> reported = new TreeSet<>();
      t.in(phase).stream()
          .filter(e -> e.marker() == Marker.TEST)
          .forEach(e -> reported.add(e.arg(0)));
      for (QaTest test : job.tests()) {
        if (!reported.contains(test.id())) {
          found.problems.get(step).add(test.id() + " reported no result " + Phase.when(phase));
        }
      }
    }
  }

  /**
   * Each rpm step has its result and each state report its taint (the report's last marker), in
   * every phase the guest went past or when it got to the end.
   */
  private static void checkPhasesReported(QaJob job, Transcript t, Findings found) {
    int furthest = furthestPlace(t);
    for (Phase.Run run : Phase.runs(job)) {
      String phase = run.name();
      Step step = run.phase().step;
      if (!found.judges(step) || !(Phase.place(phase) < furthest || t.finished())) {
        continue;
      }
      if (run.phase().action.rpm()
          && t.in(phase).stream().noneMatch(e -> e.marker() == Marker.RPM)) {
        found.problems.get(step).add(phase + ": the guest reported no rpm result");
      }
      if (run.phase().reportsState()
          && t.in(phase).stream().noneMatch(e -> e.marker() == Marker.TAINT)) {
        found.problems.get(step).add(phase + ": the guest reported no state");
      }
    }
  }

  /** The place of the furthest phase any marker came from; -1 for none. */
  private static int furthestPlace(Transcript t) {
    return t.events().stream().mapToInt(e -> Phase.place(e.phase())).max().orElse(-1);
  }

  /** The state each phase reported (a TAINT marker ends a report) against what it must show. */
  private static void checkStates(QaJob job, Transcript t, Findings found) {
    // States after an rpm transaction read rpm's database back.
    Set<String> rpmStates = new HashSet<>();
    Phase.runs(job).stream()
        .filter(r -> r.phase().action.rpm())
        .forEach(r -> rpmStates.add(r.name()));
    Set<String> phases = new LinkedHashSet<>();
    t.events().stream().filter(e -> e.marker() == Marker.TAINT).forEach(e -> phases.add(e.phase()));
    for (String phase : phases) {
      Step step = Phase.stepOf(phase);
      if (found.judges(step)) {
        checkState(job, phase, rpmStates.contains(phase), t.in(phase), found.problems.get(step));
      }
    }
  }

  /** A livepatch as sysfs shows it. */
  private record Livepatch(String enabled, String transition) {
    boolean enabledAndSettled() {
      return enabled.equals("1") && transition.equals("0");
    }
  }

  /**
   * One state report: the livepatches, their objects' patched flags, kpatch's installed modules,
   * the packages rpm lists, and rpm's exit status for each time it read its database.
   */
  private record ReportedState(
      Map<String, Livepatch> livepatches,
      Map<String, String> patched,
      Set<String> kpatch,
      Set<String> rpmdb,
      List<String> rpmQueries) {
    static ReportedState of(List<Transcript.Event> events) {
      ReportedState s =
          new ReportedState(
              new LinkedHashMap<>(),
              new LinkedHashMap<>(),
              new TreeSet<>(),
              new TreeSet<>(),
              new ArrayList<>());
      for (Transcript.Event e : events) {
        switch (e.marker()) {
          case RPMQ -> s.rpmQueries.add(e.arg(0));
          case LP -> s.livepatches.put(e.arg(0), new Livepatch(e.arg(1), e.arg(2)));
          case OBJ -> s.patched.put(e.arg(1), e.arg(2));
          case KPATCH -> s.kpatch.add(e.arg(0));
          case RPMDB -> s.rpmdb.add(e.arg(0));
          default -> {}
        }
      }
      return s;
    }

    boolean queried() {
      return !rpmQueries.isEmpty();
    }
  }

  private static void checkState(
      QaJob job,
      String phase,
      boolean readsRpm,
      List<Transcript.Event> events,
      List<String> problems) {
    ReportedState state = ReportedState.of(events);
    for (String exit : state.rpmQueries()) {
      if (!exit.equals("0")) {
        problems.add("after " + phase + ": rpm could not read its database (exit " + exit + ")");
      }
    }
    if (readsRpm && !state.queried()) {
      problems.add("after " + phase + ": rpm's database was not read");
    }
    Phase.State expected = Phase.named(phase).map(p -> p.state).orElse(Phase.State.NOTHING);
    switch (expected) {
      case PATCH, PATCH_TARGETS_ABSENT, PATCH_TARGETS_PATCHED ->
          checkPatchLoaded(job, phase, state, problems);
      case PREVIOUS -> checkPreviousLoaded(phase, state, problems);
      case NO_LIVEPATCH -> checkNothingLoaded(phase, state, false, problems);
      case NOTHING, UNREPORTED -> checkNothingLoaded(phase, state, true, problems);
    }
    if (expected == Phase.State.PATCH_TARGETS_ABSENT) {
      checkTargetsNotPatched(job, phase, state, problems);
    }
    if (expected == Phase.State.PATCH_TARGETS_PATCHED) {
      checkTargetsPatched(job, phase, state, problems);
    }
  }

  /** Exactly the job's livepatches, enabled and settled, installed by kpatch and listed by rpm. */
  private static void checkPatchLoaded(
      QaJob job, String phase, ReportedState state, List<String> problems) {
    Set<String> modules = new TreeSet<>();
    Set<String> names = new TreeSet<>();
    job.packages()
        .forEach(
            p -> {
              modules.add(p.module());
              names.add(p.name());
            });
    for (String m : modules) {
      Livepatch lp = state.livepatches().get(m);
      if (lp == null) {
        problems.add(
            "after "
                + phase
                + ": livepatch "
                + m
                + " is not loaded (no /sys/kernel/livepatch/"
                + m
                + ")");
      } else {
        if (!lp.enabled().equals("1")) {
          problems.add("after " + phase + ": livepatch " + m + " is loaded but not enabled");
        }
        if (!lp.transition().equals("0")) {
          problems.add("after " + phase + ": livepatch " + m + " is still in transition");
        }
      }
      if (!state.kpatch().contains(job.kernel() + "/" + m + ".ko")) {
        problems.add(
            "after " + phase + ": kpatch has not installed " + m + ".ko for " + job.kernel());
      }
    }
    Set<String> extra = new TreeSet<>(state.livepatches().keySet());
    extra.removeAll(modules);
    if (!extra.isEmpty()) {
      problems.add(
          "after " + phase + ": other livepatches are still loaded: " + String.join(", ", extra));
    }
    if (state.queried() && !state.rpmdb().equals(names)) {
      problems.add(
          "after "
              + phase
              + ": rpm lists "
              + (state.rpmdb().isEmpty() ? "nothing" : String.join(", ", state.rpmdb()))
              + " installed, expected "
              + String.join(", ", names));
    }
  }

  /** Some livepatch loaded (the previous version's), each enabled and settled. */
  private static void checkPreviousLoaded(
      String phase, ReportedState state, List<String> problems) {
    if (state.livepatches().isEmpty()) {
      problems.add("after " + phase + ": the previous version loaded no livepatch");
    }
    state
        .livepatches()
        .forEach(
            (m, lp) -> {
              if (!lp.enabledAndSettled()) {
                problems.add("after " + phase + ": livepatch " + m + " is not enabled and settled");
              }
            });
  }

  /** No livepatch; with {@code installed}, no module kpatch installed and no package rpm lists. */
  private static void checkNothingLoaded(
      String phase, ReportedState state, boolean installed, List<String> problems) {
    if (!state.livepatches().isEmpty()) {
      problems.add(
          "after "
              + phase
              + ": livepatches still loaded: "
              + String.join(", ", state.livepatches().keySet()));
    }
    if (!installed) {
      return;
    }
    if (!state.kpatch().isEmpty()) {
      problems.add(
          "after "
              + phase
              + ": kpatch still has modules installed: "
              + String.join(", ", state.kpatch()));
    }
    if (state.queried() && !state.rpmdb().isEmpty()) {
      problems.add("after " + phase + ": rpm still lists " + String.join(", ", state.rpmdb()));
    }
  }

  /** The target modules, not loaded yet, do not report themselves patched. */
  private static void checkTargetsNotPatched(
      QaJob job, String phase, ReportedState state, List<String> problems) {
    for (String target : job.targetModules()) {
      String v = state.patched().get(target);
      if (v != null && !v.equals("0")) {
        problems.add(
            "after "
                + phase
                + ": object "
                + target
                + " reports patched while the module is not loaded");
      }
    }
  }

  /** Each target module, loaded after the livepatch, is patched. */
  private static void checkTargetsPatched(
      QaJob job, String phase, ReportedState state, List<String> problems) {
    for (String target : job.targetModules()) {
      String v = state.patched().get(target);
      if (!"1".equals(v)) {
        problems.add(
            "after "
                + phase
                + ": "
                + target
                + " was loaded after the livepatch but is "
                + (v == null ? "not one of its objects" : "not patched"));
      }
    }
  }

  /** The step of the last phase the guest got to (the step first seen last); boot for none. */
  private static Step lastStepReached(Transcript t, Findings found) {
    Set<Step> seen = new LinkedHashSet<>();
    t.events().stream().map(e -> Phase.stepOf(e.phase())).filter(found::judges).forEach(seen::add);
    return seen.isEmpty() ? Step.BOOT : List.copyOf(seen).get(seen.size() - 1);
  }

  /**
   * The step results: each passes without problems; when the guest did not reach the end, the step
   * it stopped in fails with the reason and the later ones are not run.
   */
  private static List<StepResult> results(
      List<Step> steps, Findings found, Step last, boolean reachedEnd, String stopped) {
    List<StepResult> results = new ArrayList<>();
    boolean after = false;
    for (Step s : steps) {
      List<String> p = found.problems.get(s);
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
        results.add(new StepResult(s, Status.FAILED, all, found.output.get(s)));
        after = true;
        continue;
      }
      results.add(
          new StepResult(
              s, p.isEmpty() ? Status.PASSED : Status.FAILED, List.copyOf(p), found.output.get(s)));
    }
    return results;
  }

  /** A {@code -LOADED} test passes in the suites run with the patch loaded; any other always. */
  static boolean expectPass(String testId, String phase) {
    return !testId.endsWith("-LOADED.test")
        || Phase.named(phase).filter(p -> p.action == Phase.Action.TESTS_PATCHED).isPresent();
  }

  private static String explain(String testId, String phase) {
    if (!testId.endsWith("-LOADED.test")) {
      return " (a regression test must pass with and without the patch)";
    }
    return expectPass(testId, phase)
        ? " (a -LOADED test passes while the patch is loaded)"
        : Phase.named(phase).orElse(null) == Phase.BASELINE
            ? " (before install: the test does not detect the unpatched kernel)"
            : " (after removal: the patch's effect outlived it, or the test does not detect the"
                + " unpatched kernel)";
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
