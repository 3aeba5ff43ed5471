package org.klpcatalog.qa;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.klpcatalog.qa.Verdict.Step;

/**
 * The QA protocol as one table: every phase the guest runs, in order. Each phase names the report
 * step it belongs to (which also says which jobs run it), what the guest does in it (and so the
 * marker it reports and its share of the VM's time limit), what the state the guest reports after
 * it must show, and how messages name its time. {@link GuestScript} writes the guest's {@code
 * /init} from it, {@link Transcript} and {@link Verdict} read the markers back against it, {@link
 * GuestScript.Limits} derives the VM's time limit from it. Pure.
 */
public enum Phase {
  BOOT("boot", Step.BOOT, Action.BEGIN, State.NO_LIVEPATCH, "at boot"),
  BASELINE("baseline", Step.BASELINE, Action.TESTS, State.NOTHING, "before install"),
  INSTALL("install", Step.INSTALL, Action.INSTALL, State.PATCH, "after install"),
  LOADED("loaded", Step.LOADED, Action.TESTS_PATCHED, State.UNREPORTED, "with the patch loaded"),
  REMOVE("remove", Step.REMOVE, Action.REMOVE, State.NOTHING, "after the removal"),
  REMOVED("removed", Step.REMOVED, Action.TESTS, State.UNREPORTED, "after removal"),
  // Late module patching: the patch loaded while its target modules are absent, then the modules
  // loaded (the kernel patches them as they come), then everything removed.
  LATE_UNLOAD("late-unload", Step.LATE, Action.UNLOAD_TARGETS, State.UNREPORTED, null),
  LATE_INSTALL("late-install", Step.LATE, Action.INSTALL, State.PATCH_TARGETS_ABSENT, null),
  LATE_LOAD("late-load", Step.LATE, Action.LOAD_TARGETS, State.PATCH_TARGETS_PATCHED, null),
  LATE(
      "late",
      Step.LATE,
      Action.TESTS_PATCHED,
      State.UNREPORTED,
      "with the target module loaded after the patch"),
  LATE_REMOVE("late-remove", Step.LATE, Action.REMOVE, State.NOTHING, null),
  // From the previous version: it installed, then rpm -U to the new one.
  UPGRADE_OLD("upgrade-old", Step.UPGRADE, Action.INSTALL_PREVIOUS, State.PREVIOUS, null),
  UPGRADE("upgrade", Step.UPGRADE, Action.UPGRADE, State.PATCH, "after the upgrade"),
  UPGRADED("upgraded", Step.UPGRADE, Action.TESTS_PATCHED, State.UNREPORTED, "after the upgrade"),
  UPGRADE_REMOVE("upgrade-remove", Step.UPGRADE, Action.REMOVE, State.NOTHING, null),
  // Stress: the phases named with a cycle run once per cycle, then the tests.
  STRESS_INSTALL("stress-%d-install", Step.STRESS, Action.INSTALL, State.PATCH, null),
  STRESS_REMOVE("stress-%d-remove", Step.STRESS, Action.REMOVE, State.NOTHING, null),
  STRESS_AFTER(
      "stress-after", Step.STRESS, Action.TESTS, State.UNREPORTED, "after the stress cycles"),
  END("end", Step.FINAL, Action.END, State.NOTHING, null);

  /**
   * What the guest does in a phase: the guest script's shell function and the marker it reports.
   * The state report follows the action, except END's marker, which comes last.
   */
  enum Action {
    /** The BEGIN marker with the kernel release. */
    BEGIN("m", Marker.BEGIN),
    /** Every test, the patch not loaded: {@code -LOADED} tests must fail. */
    TESTS("suite", Marker.TEST),
    /** Every test, the patch loaded: every test must pass. */
    TESTS_PATCHED("suite", Marker.TEST),
    /** rpm -i of the packages under test. */
    INSTALL("rpmstep", Marker.RPM),
    /** rpm -i of the previous version's packages. */
    INSTALL_PREVIOUS("rpmstep", Marker.RPM),
    /** rpm -U to the packages under test. */
    UPGRADE("rpmstep", Marker.RPM),
    /** rpm -e of the packages under test. */
    REMOVE("rpmstep", Marker.RPM),
    /** The target modules removed, their file systems unmounted. */
    UNLOAD_TARGETS("unload_targets", Marker.UNLOAD),
    /** The target modules loaded. */
    LOAD_TARGETS("load_targets", Marker.MODPROBE),
    /** The END marker: the guest got to the end. */
    END("m", Marker.END);

    final String function;
    final Marker marker;

    Action(String function, Marker marker) {
      this.function = function;
      this.marker = marker;
    }

    boolean rpm() {
      return marker == Marker.RPM;
    }

    /**
     * The phase's share of the VM's time limit: every test at its limit, or an rpm transaction at
     * kpatch's transition limit per package plus time for rpm.
     */
    long seconds(QaJob job, GuestScript.Limits limits) {
      if (marker == Marker.TEST) {
        return job.tests().size() * (long) limits.testSeconds();
      }
      return rpm() ? limits.transitionSeconds() * (long) job.packages().size() + 30 : 0;
    }
  }

  /**
   * What the state the guest reports after a phase (livepatches, their objects, kpatch's modules,
   * after rpm the packages rpm lists, the taint) must show.
   */
  enum State {
    /** No state reported after the phase. */
    UNREPORTED,
    /** No livepatch loaded (kpatch's and rpm's lists not checked). */
    NO_LIVEPATCH,
    /** No livepatch, no module kpatch has installed, no package under test rpm lists. */
    NOTHING,
    /** Some livepatch (the previous version's) loaded, every one enabled and settled. */
    PREVIOUS,
    /**
     * Exactly the job's livepatches loaded, enabled, not in transition; kpatch has installed their
     * modules; rpm lists exactly the packages under test.
     */
    PATCH,
    /** As {@link #PATCH}, and no target module (not loaded yet) reports itself patched. */
    PATCH_TARGETS_ABSENT,
    /** As {@link #PATCH}, and every target module (loaded after the patch) is patched. */
    PATCH_TARGETS_PATCHED
  }

  /** A phase as a job runs it: a phase named with a cycle once per stress cycle. */
  public record Run(Phase phase, int cycle) {
    /** The phase's name in the script and its markers. */
    public String name() {
      return phase.cycles() ? phase.label.formatted(cycle) : phase.label;
    }
  }

  private final String label;
  final Step step;
  final Action action;
  final State state;
  private final String when;
  private final Pattern names;

  Phase(String label, Step step, Action action, State state, String when) {
    this.label = label;
    this.step = step;
    this.action = action;
    this.state = state;
    this.when = when;
    this.names =
        Pattern.compile(
            Arrays.stream(label.split("%d", -1))
                .map(Pattern::quote)
                .collect(Collectors.joining("[0-9]+")));
  }

  /** Whether the guest reports the state after the phase. */
  boolean reportsState() {
    return state != State.UNREPORTED;
  }

  private boolean cycles() {
    return label.contains("%d");
  }

  /**
   * How many times the job's fields ask for the phase, whatever the job's kind: late module
   * patching with target modules, the upgrade with a previous version, the stress phases with
   * stress cycles (those named with a cycle once per cycle).
   */
  int asked(QaJob job) {
    return switch (step) {
      case LATE -> job.targetModules().isEmpty() ? 0 : 1;
      case UPGRADE -> job.previous().isEmpty() ? 0 : 1;
      case STRESS -> cycles() ? job.stress() : job.stress() > 0 ? 1 : 0;
      default -> 1;
    };
  }

  /** How many times a job runs the phase: late, upgrade and stress phases only in PATCH jobs. */
  private int times(QaJob job) {
    boolean patchOnly = step == Step.LATE || step == Step.UPGRADE || step == Step.STRESS;
    return patchOnly && job.kind() != QaJob.Kind.PATCH ? 0 : asked(job);
  }

  /** The phases a job runs, in order; the phases of a stress cycle together, cycle by cycle. */
  public static List<Run> runs(QaJob job) {
    List<Run> runs = new ArrayList<>();
    List<Phase> all = List.of(values());
    for (int i = 0; i < all.size(); i++) {
      int end = i + 1;
      while (all.get(i).cycles() && end < all.size() && all.get(end).cycles()) {
        end++;
      }
      for (int cycle = 1; cycle <= all.get(i).times(job); cycle++) {
        for (Phase p : all.subList(i, end)) {
          runs.add(new Run(p, p.cycles() ? cycle : 0));
        }
      }
      i = end - 1;
    }
    return runs;
  }

  /** The phase a name in a marker belongs to; none for a name the script does not write. */
  public static Optional<Phase> named(String name) {
    return Arrays.stream(values()).filter(p -> p.names.matcher(name).matches()).findFirst();
  }

  /**
   * Where a phase comes in the protocol, to tell how far a guest got. The phases of a stress cycle
   * share one place, so any stress cycle counts as the same point.
   */
  static int place(String name) {
    return named(name)
        .map(p -> p.cycles() ? STRESS_INSTALL.ordinal() : p.ordinal())
        .orElse(values().length);
  }

  /** The report step a phase named in a marker belongs to; the final state for other names. */
  static Step stepOf(String name) {
    return named(name).map(p -> p.step).orElse(Step.FINAL);
  }

  /** How messages name the time of a phase: "after install", "at stress-1-remove". */
  static String when(String name) {
    return named(name).map(p -> p.when).filter(w -> w != null).orElse("at " + name);
  }
}
