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
 * step it belongs to, which jobs run it, what the guest does in it (and so the marker it reports
 * and its share of the time limit), whether the guest reports the state after it, and what that
 * state must show. {@link GuestScript} writes the guest's {@code /init} from it, {@link Verdict}
 * judges a {@link Transcript} against it, {@link GuestScript.Limits} derives the VM's time limit
 * from it. Pure.
 */
public enum Phase {
  BOOT("boot", Step.BOOT, Part.EVERY_JOB, Action.BEGIN, true, Expect.NO_LIVEPATCH, "at boot"),
  BASELINE(
      "baseline",
      Step.BASELINE,
      Part.EVERY_JOB,
      Action.SUITE,
      true,
      Expect.NOTHING,
      "before install"),
  INSTALL(
      "install", Step.INSTALL, Part.EVERY_JOB, Action.INSTALL, true, Expect.PATCH, "after install"),
  LOADED(
      "loaded",
      Step.LOADED,
      Part.EVERY_JOB,
      Action.SUITE,
      false,
      Expect.PATCH,
      "with the patch loaded"),
  REMOVE(
      "remove",
      Step.REMOVE,
      Part.EVERY_JOB,
      Action.REMOVE,
      true,
      Expect.NOTHING,
      "after the removal"),
  REMOVED(
      "removed",
      Step.REMOVED,
      Part.EVERY_JOB,
      Action.SUITE,
      false,
      Expect.NOTHING,
      "after removal"),
  // Late module patching: the patch loaded while its target modules are absent, then the modules
  // loaded (the kernel patches them as they come), then everything removed.
  LATE_UNLOAD(
      "late-unload",
      Step.LATE,
      Part.LATE_MODULE,
      Action.UNLOAD_TARGETS,
      false,
      Expect.NO_LIVEPATCH,
      null),
  LATE_INSTALL(
      "late-install",
      Step.LATE,
      Part.LATE_MODULE,
      Action.INSTALL,
      true,
      Expect.PATCH_TARGETS_ABSENT,
      null),
  LATE_LOAD(
      "late-load",
      Step.LATE,
      Part.LATE_MODULE,
      Action.LOAD_TARGETS,
      true,
      Expect.PATCH_TARGETS_PATCHED,
      null),
  LATE(
      "late",
      Step.LATE,
      Part.LATE_MODULE,
      Action.SUITE,
      false,
      Expect.PATCH,
      "with the target module loaded after the patch"),
  LATE_REMOVE(
      "late-remove", Step.LATE, Part.LATE_MODULE, Action.REMOVE, true, Expect.NOTHING, null),
  // An upgrade from the previous version: it installed, then rpm -U to the new one.
  UPGRADE_OLD(
      "upgrade-old",
      Step.UPGRADE,
      Part.UPGRADE,
      Action.INSTALL_PREVIOUS,
      true,
      Expect.PREVIOUS,
      null),
  UPGRADE(
      "upgrade",
      Step.UPGRADE,
      Part.UPGRADE,
      Action.UPGRADE,
      true,
      Expect.PATCH,
      "after the upgrade"),
  UPGRADED(
      "upgraded",
      Step.UPGRADE,
      Part.UPGRADE,
      Action.SUITE,
      false,
      Expect.PATCH,
      "after the upgrade"),
  UPGRADE_REMOVE(
      "upgrade-remove", Step.UPGRADE, Part.UPGRADE, Action.REMOVE, true, Expect.NOTHING, null),
  // Stress: install and remove once per cycle, then the tests.
  STRESS_INSTALL(
      "stress-%d-install",
      Step.STRESS, Part.STRESS_CYCLE, Action.INSTALL, true, Expect.PATCH, null),
  STRESS_REMOVE(
      "stress-%d-remove",
      Step.STRESS, Part.STRESS_CYCLE, Action.REMOVE, true, Expect.NOTHING, null),
  STRESS_AFTER(
      "stress-after",
      Step.STRESS,
      Part.AFTER_STRESS,
      Action.SUITE,
      false,
      Expect.NOTHING,
      "after the stress cycles"),
  END("end", Step.FINAL, Part.EVERY_JOB, Action.END, true, Expect.NOTHING, null);

  /** Which jobs run a phase, and how many times. */
  enum Part {
    EVERY_JOB,
    /** PATCH jobs with target modules. */
    LATE_MODULE,
    /** PATCH jobs with a previous version. */
    UPGRADE,
    /** PATCH jobs, once per stress cycle (the phases of a cycle run together, in order). */
    STRESS_CYCLE,
    /** PATCH jobs with stress cycles, once after them. */
    AFTER_STRESS;

    /** How many times a job runs the part's phases. */
    int times(QaJob job) {
      return this == EVERY_JOB || job.kind() == QaJob.Kind.PATCH ? asked(job) : 0;
    }

    /** How many times the job's fields ask for the part, whatever its kind. */
    int asked(QaJob job) {
      return switch (this) {
        case EVERY_JOB -> 1;
        case LATE_MODULE -> job.targetModules().isEmpty() ? 0 : 1;
        case UPGRADE -> job.previous().isEmpty() ? 0 : 1;
        case STRESS_CYCLE -> job.stress();
        case AFTER_STRESS -> job.stress() > 0 ? 1 : 0;
      };
    }
  }

  /**
   * What the guest does in a phase: the script's shell function, the marker it reports, and when
   * the state follows (after the action; END's marker comes last, after the state).
   */
  enum Action {
    /** The BEGIN marker with the kernel release. */
    BEGIN("m", Marker.BEGIN),
    /** Every test, each at its time limit. */
    SUITE("suite", Marker.TEST),
    /** rpm -i of the packages under test. */
    INSTALL("rpmstep", Marker.RPM),
    /** rpm -i of the previous version's packages. */
    INSTALL_PREVIOUS("rpmstep", Marker.RPM),
    /** rpm -U to the packages under test. */
    UPGRADE("rpmstep", Marker.RPM),
    /** rpm -e of the packages under test. */
    REMOVE("rpmstep", Marker.RPM),
    /** The target modules unloaded, their file systems unmounted. */
    UNLOAD_TARGETS("unload_targets", Marker.UNLOAD),
    /** The target modules loaded. */
    LOAD_TARGETS("load_targets", Marker.MODPROBE),
    /** The END marker, after the state: the guest got to the end. */
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
      if (this == SUITE) {
        return job.tests().size() * (long) limits.testSeconds();
      }
      return rpm() ? limits.transitionSeconds() * (long) job.packages().size() + 30 : 0;
    }
  }

  /** What the state reported after a phase must show. */
  enum Expect {
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
    PATCH_TARGETS_PATCHED;

    /** Whether the job's livepatches are loaded: a {@code -LOADED} test must pass. */
    boolean patchLoaded() {
      return this == PATCH || this == PATCH_TARGETS_ABSENT || this == PATCH_TARGETS_PATCHED;
    }
  }

  /** A phase as a job runs it: stress phases once per cycle, named with the cycle. */
  public record Run(Phase phase, int cycle) {
    /** The phase's name in the script and its markers. */
    public String name() {
      return phase.part == Part.STRESS_CYCLE ? phase.label.formatted(cycle) : phase.label;
    }
  }

  private final String label;
  final Step step;
  final Part part;
  final Action action;

  /** Whether the guest reports the state (livepatches, kpatch, taint; rpm after rpm) after it. */
  final boolean reportsState;

  final Expect expect;
  private final String when;
  private final Pattern names;

  Phase(
      String label,
      Step step,
      Part part,
      Action action,
      boolean reportsState,
      Expect expect,
      String when) {
    this.label = label;
    this.step = step;
    this.part = part;
    this.action = action;
    this.reportsState = reportsState;
    this.expect = expect;
    this.when = when;
    this.names =
        Pattern.compile(
            Arrays.stream(label.split("%d", -1))
                .map(Pattern::quote)
                .collect(Collectors.joining("[0-9]+")));
  }

  /** The phases a job runs, in order. */
  public static List<Run> runs(QaJob job) {
    List<Run> runs = new ArrayList<>();
    Phase[] all = values();
    for (int first = 0; first < all.length; ) {
      Part part = all[first].part;
      int end = first;
      while (end < all.length && all[end].part == part) {
        end++;
      }
      int times = part.times(job);
      for (int cycle = 1; cycle <= times; cycle++) {
        for (int i = first; i < end; i++) {
          runs.add(new Run(all[i], part == Part.STRESS_CYCLE ? cycle : 0));
        }
      }
      first = end;
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
        .map(p -> p.part == Part.STRESS_CYCLE ? STRESS_INSTALL.ordinal() : p.ordinal())
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
