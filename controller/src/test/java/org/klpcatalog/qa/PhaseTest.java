package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The protocol's table read by all its users: the script runs every phase the table gives a job and
 * prints its markers, the transcript reads them back, the verdict finds what is missing.
 */
class PhaseTest {
  static final Path OLD = Path.of("/x/kpatch-demo-1-0.x86_64.rpm");

  /** A job that runs every phase: late module patching, an upgrade, two stress cycles. */
  static QaJob everything() {
    return VerdictTest.job(List.of("binfmt_misc"), List.of(OLD), 2);
  }

  static QaJob together() {
    return new QaJob(
        "all-together@" + VerdictTest.K,
        QaJob.Kind.TOGETHER,
        VerdictTest.K,
        List.of(
            new QaJob.Pkg("kpatch-a", "a", "kpatch-a-1-1.x86_64", Path.of("a.rpm"), "kpatch_a_1_1"),
            new QaJob.Pkg(
                "kpatch-b", "b", "kpatch-b-1-1.x86_64", Path.of("b.rpm"), "kpatch_b_1_1")),
        List.of(
            new QaTest("a", "a-LOADED.test", "patches/a/tests/a-LOADED.test", new byte[0]),
            new QaTest("b", "b-LOADED.test", "patches/b/tests/b-LOADED.test", new byte[0])),
        List.of("binfmt_misc"),
        List.of(),
        0);
  }

  static Transcript transcript(List<String> console) {
    return Transcript.parse(String.join("\n", console), FakeGuest.NONCE);
  }

  @Test
  void aJobRunsThePhasesItsFieldsAskFor() {
    assertThat(Phase.runs(everything()))
        .extracting(Phase.Run::name)
        .containsExactly(
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
            "stress-1-install",
            "stress-1-remove",
            "stress-2-install",
            "stress-2-remove",
            "stress-after",
            "end");
    // A TOGETHER job has target modules but runs only the phases of every job.
    assertThat(Phase.runs(together()))
        .extracting(Phase.Run::name)
        .containsExactly("boot", "baseline", "install", "loaded", "remove", "removed", "end");
  }

  @Test
  void everyNameTheScriptWritesIsReadBackAsItsPhase() {
    for (Phase.Run run : Phase.runs(everything())) {
      assertThat(Phase.named(run.name())).contains(run.phase());
    }
    assertThat(Phase.named("stress-12-remove")).contains(Phase.STRESS_REMOVE);
    assertThat(Phase.named("stress-x-remove")).isEmpty();
    assertThat(Phase.named("late-module")).isEmpty();
  }

  @Test
  void theScriptPrintsExactlyTheMarkersTheTranscriptReads() {
    String script = GuestScript.write(everything(), GuestScript.Limits.DEFAULT);
    Set<String> printed = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)(?:^|[\\s;{])m ([A-Z]+) ").matcher(script);
    while (m.find()) {
      printed.add(m.group(1));
    }
    assertThat(printed)
        .containsExactlyInAnyOrderElementsOf(Stream.of(Marker.values()).map(Marker::name).toList());
    for (Marker marker : Marker.values()) {
      String line = Marker.PREFIX + " " + FakeGuest.NONCE + " " + marker + " boot x";
      assertThat(transcript(List.of(line)).events())
          .singleElement()
          .satisfies(e -> assertThat(e.marker()).isEqualTo(marker));
    }
    assertThat(transcript(List.of(Marker.PREFIX + " " + FakeGuest.NONCE + " HELLO boot")).events())
        .isEmpty();
  }

  @Test
  void everyPhaseTheScriptRunsReportsItsMarkerAndState() {
    QaJob job = everything();
    Transcript t = transcript(FakeGuest.console(job));
    for (Phase.Run run : Phase.runs(job)) {
      assertThat(t.in(run.name()))
          .as(run.name())
          .anySatisfy(e -> assertThat(e.marker()).isEqualTo(run.phase().action.marker));
      assertThat(t.in(run.name()).stream().anyMatch(e -> e.marker() == Marker.TAINT))
          .as(run.name() + " reports its state")
          .isEqualTo(run.phase().reportsState());
    }
    assertThat(t.events()).allSatisfy(e -> assertThat(Phase.named(e.phase())).isPresent());
  }

  @Test
  void aWellBehavedGuestPassesEveryStepOfEveryKindOfJob() {
    for (QaJob job :
        List.of(
            VerdictTest.job(List.of(), List.of(), 0),
            VerdictTest.job(List.of("binfmt_misc"), List.of(), 0),
            VerdictTest.job(List.of(), List.of(OLD), 0),
            VerdictTest.job(List.of(), List.of(), 3),
            everything(),
            together())) {
      List<Verdict.StepResult> steps = Verdict.judge(job, transcript(FakeGuest.console(job)), "");
      assertThat(steps).extracting(Verdict.StepResult::step).isEqualTo(Verdict.steps(job));
      assertThat(steps)
          .as(job.id() + " " + job.previous() + " " + job.stress())
          .allSatisfy(s -> assertThat(s.problems()).isEmpty());
    }
  }

  @Test
  void aPhaseThatDoesNotReportItsResultOrStateFailsItsStepAlone() {
    QaJob job = everything();
    List<String> console = FakeGuest.console(job);
    for (Phase.Run run : Phase.runs(job)) {
      if (!run.phase().action.rpm() && !run.phase().reportsState()) {
        continue;
      }
      String rpm = " RPM " + run.name() + " ";
      String taint = " TAINT " + run.name() + " ";
      List<String> cut = new ArrayList<>(console);
      cut.removeIf(l -> l.contains(rpm) || l.contains(taint));
      List<String> expected = new ArrayList<>();
      if (run.phase().action.rpm()) {
        expected.add(run.name() + ": the guest reported no rpm result");
      }
      if (run.phase().reportsState()) {
        expected.add(run.name() + ": the guest reported no state");
      }
      for (Verdict.StepResult s : Verdict.judge(job, transcript(cut), "")) {
        assertThat(s.problems())
            .as(run.name() + " missing, step " + s.step().label)
            .isEqualTo(s.step() == run.phase().step ? expected : List.of());
      }
    }
  }

  @Test
  void aGuestWithoutItsEndMarkerStoppedInTheFinalState() {
    QaJob job = everything();
    List<String> console = new ArrayList<>(FakeGuest.console(job));
    console.removeIf(l -> l.endsWith(" END end"));
    List<Verdict.StepResult> steps = Verdict.judge(job, transcript(console), "");
    assertThat(steps.get(steps.size() - 1).problems())
        .containsExactly("the guest stopped here: it powered off before the end");
    assertThat(steps.subList(0, steps.size() - 1))
        .allSatisfy(s -> assertThat(s.status()).isEqualTo(Verdict.Status.PASSED));
  }

  @Test
  void theVmsTimeLimitIsEachPhasesShare() {
    GuestScript.Limits limits = GuestScript.Limits.DEFAULT;
    // Six suites of two tests at 60 s; eleven rpm steps of one package at 30 s, plus 30 s for rpm.
    assertThat(limits.vm(everything(), true)).isEqualTo(Duration.ofSeconds(120 + 720 + 660));
    assertThat(limits.vm(everything(), false)).isEqualTo(Duration.ofSeconds(2 * 1500));
    // A TOGETHER job with target modules keeps the late-module share as margin: four suites,
    // four rpm steps of two packages.
    assertThat(limits.vm(together(), true)).isEqualTo(Duration.ofSeconds(120 + 480 + 360));
    assertThat(limits.idle(together(), true)).isEqualTo(Duration.ofSeconds(60 + 60 + 60));
    assertThat(limits.idle(together(), false)).isEqualTo(Duration.ofSeconds(360));
  }
}
