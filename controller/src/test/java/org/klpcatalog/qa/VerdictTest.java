package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The protocol's judgement on transcripts as the guest script writes them. */
class VerdictTest {
  static final String N = "0123abcd";
  static final String K = "6.1.0-50-amd64";
  static final String MOD = "kpatch_demo_1_1";

  static QaJob job(List<String> targets, List<Path> previous, int stress) {
    return new QaJob(
        "kpatch-demo@" + K,
        QaJob.Kind.PATCH,
        K,
        List.of(
            new QaJob.Pkg("kpatch-demo", "demo", "kpatch-demo-1-1.x86_64", Path.of("x.rpm"), MOD)),
        List.of(
            new QaTest(
                "demo", "demo-LOADED.test", "patches/demo/tests/demo-LOADED.test", new byte[0]),
            new QaTest("demo", "works.test", "patches/demo/tests/works.test", new byte[0])),
        targets,
        previous,
        stress);
  }

  /** A transcript of a run where everything behaves, built like the guest script prints it. */
  static List<String> good(boolean late) {
    List<String> l = new ArrayList<>();
    l.add("SeaBIOS noise");
    m(l, "BEGIN boot " + K);
    state(l, "boot", false, 0);
    suite(l, "baseline", false);
    state(l, "baseline", false, 0);
    m(l, "RPM install 0");
    state(l, "install", true, 45056);
    suite(l, "loaded", true);
    m(l, "RPM remove 0");
    state(l, "remove", false, 45056);
    suite(l, "removed", false);
    if (late) {
      m(l, "UNLOAD late-unload binfmt_misc 0");
      m(l, "RPM late-install 0");
      state(l, "late-install", true, 45056);
      l.add(l.size() - 3, "@@KLPQA " + N + " OBJ late-install " + MOD + " binfmt_misc 0");
      m(l, "MODPROBE late-load binfmt_misc 0");
      state(l, "late-load", true, 45056);
      l.add(l.size() - 3, "@@KLPQA " + N + " OBJ late-load " + MOD + " binfmt_misc 1");
      suite(l, "late", true);
      m(l, "RPM late-remove 0");
      state(l, "late-remove", false, 45056);
    }
    state(l, "end", false, 45056);
    m(l, "END end");
    return l;
  }

  static void m(List<String> l, String s) {
    l.add("@@KLPQA " + N + " " + s);
  }

  static void suite(List<String> l, String phase, boolean loaded) {
    m(l, "TEST " + phase + " demo/demo-LOADED.test " + (loaded ? 0 : 1));
    m(l, "TEST " + phase + " demo/works.test 0");
  }

  static void state(List<String> l, String phase, boolean loaded, long taint) {
    if (loaded) {
      m(l, "LP " + phase + " " + MOD + " 1 0");
      m(l, "KPATCH " + phase + " " + K + "/" + MOD + ".ko");
    }
    if (List.of("install", "remove", "late-install", "late-remove").contains(phase)) {
      m(l, "RPMQ " + phase + " 0");
      if (loaded) {
        m(l, "RPMDB " + phase + " kpatch-demo");
      }
    }
    m(l, "TAINT " + phase + " " + taint);
  }

  static Map<Verdict.Step, Verdict.StepResult> judge(
      QaJob job, List<String> lines, String stopped) {
    return Verdict.judge(job, Transcript.parse(String.join("\n", lines), N), stopped).stream()
        .collect(Collectors.toMap(Verdict.StepResult::step, Function.identity()));
  }

  @Test
  void aGoodRunPassesEveryStepInOrder() {
    List<Verdict.StepResult> steps =
        Verdict.judge(
            job(List.of("binfmt_misc"), List.of(), 0),
            Transcript.parse(String.join("\n", good(true)), N),
            "");
    assertThat(steps)
        .extracting(s -> s.step().label)
        .containsExactly(
            "boot",
            "baseline",
            "install",
            "loaded",
            "remove",
            "removed",
            "late-module",
            "final-state");
    assertThat(steps).allSatisfy(s -> assertThat(s.problems()).isEmpty());
  }

  @Test
  void aLoadedTestThatStillPassesAfterRemovalFailsTheRemovedStep() {
    List<String> l = good(false);
    int i = l.indexOf("@@KLPQA " + N + " TEST removed demo/demo-LOADED.test 1");
    l.set(i, "@@KLPQA " + N + " TEST removed demo/demo-LOADED.test 0");
    var r = judge(job(List.of(), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.REMOVED).status()).isEqualTo(Verdict.Status.FAILED);
    assertThat(r.get(Verdict.Step.REMOVED).problems())
        .singleElement()
        .asString()
        .contains("demo/demo-LOADED.test passed after removal, expected to fail");
    assertThat(r.get(Verdict.Step.LOADED).status()).isEqualTo(Verdict.Status.PASSED);
  }

  @Test
  void aRegressionTestMustPassInEverySuite() {
    List<String> l = good(false);
    l.set(
        l.indexOf("@@KLPQA " + N + " TEST loaded demo/works.test 0"),
        "@@KLPQA " + N + " TEST loaded demo/works.test 1");
    l.add(l.indexOf("@@KLPQA " + N + " TEST loaded demo/works.test 1") + 1, "| something broke");
    var r = judge(job(List.of(), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.LOADED).problems())
        .singleElement()
        .asString()
        .contains("demo/works.test failed (exit 1) with the patch loaded");
    assertThat(r.get(Verdict.Step.LOADED).output()).contains("| something broke".substring(2));
  }

  @Test
  void kernelWarningsAndForeignTaintFailTheStepTheyAppearIn() {
    List<String> l = good(false);
    int i = l.indexOf("@@KLPQA " + N + " TAINT install 45056");
    l.set(i, "@@KLPQA " + N + " TAINT install " + (45056 | 512));
    l.add(i + 1, "@@KLPQA " + N + " DMESG install");
    l.add(
        i + 2,
        "| [    5.1] WARNING: CPU: 0 PID: 77 at demo.c:12 livepatch_init+0x10/0x20"
            + " [kpatch_demo_1_1]");
    l.add(i + 3, "| [    5.1] Call Trace:");
    var r = judge(job(List.of(), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.INSTALL).problems()).hasSize(2);
    assertThat(String.join("\n", r.get(Verdict.Step.INSTALL).problems()))
        .contains("W(bit 9)")
        .contains("kernel log after install: [    5.1] WARNING: CPU: 0");
    assertThat(r.get(Verdict.Step.BASELINE).status()).isEqualTo(Verdict.Status.PASSED);
  }

  @Test
  void aPatchThatDidNotLoadOrStayedAfterRemovalIsCaught() {
    List<String> l = good(false);
    l.remove("@@KLPQA " + N + " LP install " + MOD + " 1 0");
    l.add(
        l.indexOf("@@KLPQA " + N + " TAINT remove 45056"),
        "@@KLPQA " + N + " LP remove " + MOD + " 0 1");
    var r = judge(job(List.of(), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.INSTALL).problems())
        .singleElement()
        .asString()
        .contains("livepatch " + MOD + " is not loaded");
    assertThat(r.get(Verdict.Step.REMOVE).problems())
        .singleElement()
        .asString()
        .contains("livepatches still loaded: " + MOD);
  }

  @Test
  void rpmMustListExactlyThePackagesUnderTestAndReadItsDatabaseAfterEveryChange() {
    List<String> l = good(false);
    l.add(
        l.indexOf("@@KLPQA " + N + " TAINT remove 45056"),
        "@@KLPQA " + N + " RPMDB remove kpatch-demo");
    l.remove("@@KLPQA " + N + " RPMQ install 0");
    var r = judge(job(List.of(), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.REMOVE).problems())
        .containsExactly("after remove: rpm still lists kpatch-demo");
    assertThat(r.get(Verdict.Step.INSTALL).problems())
        .containsExactly("after install: rpm's database was not read");
  }

  @Test
  void lateModulePatchingNeedsTheTargetPatchedWhenItLoads() {
    List<String> l = good(true);
    l.set(
        l.indexOf("@@KLPQA " + N + " OBJ late-load " + MOD + " binfmt_misc 1"),
        "@@KLPQA " + N + " OBJ late-load " + MOD + " binfmt_misc 0");
    var r = judge(job(List.of("binfmt_misc"), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.LATE).problems())
        .singleElement()
        .asString()
        .contains("binfmt_misc was loaded after the livepatch but is not patched");
  }

  @Test
  void aGuestThatHangsFailsItsStepAndTheRestAreNotRun() {
    List<String> l = good(false);
    List<String> cut = new ArrayList<>(l.subList(0, l.indexOf("@@KLPQA " + N + " RPM remove 0")));
    var r = judge(job(List.of(), List.of(), 0), cut, "no end within 300 s; the VM was killed");
    assertThat(r.get(Verdict.Step.LOADED).problems())
        .contains("the guest stopped here: no end within 300 s; the VM was killed");
    assertThat(r.get(Verdict.Step.REMOVE).problems())
        .containsExactly("not run: the guest stopped in step loaded");
    assertThat(r.get(Verdict.Step.INSTALL).status()).isEqualTo(Verdict.Status.PASSED);
  }

  @Test
  void aMissingRpmResultOrStateIsAFailureNotAPass() {
    List<String> l = good(false);
    l.remove("@@KLPQA " + N + " RPM remove 0");
    l.remove("@@KLPQA " + N + " TAINT baseline 0");
    var r = judge(job(List.of(), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.REMOVE).problems())
        .containsExactly("remove: the guest reported no rpm result");
    assertThat(r.get(Verdict.Step.BASELINE).problems())
        .containsExactly("baseline: the guest reported no state");
  }

  @Test
  void aTestWithoutAResultIsAFailureNotAPass() {
    List<String> l = good(false);
    l.remove("@@KLPQA " + N + " TEST baseline demo/works.test 0");
    var r = judge(job(List.of(), List.of(), 0), l, "");
    assertThat(r.get(Verdict.Step.BASELINE).problems())
        .singleElement()
        .asString()
        .contains("demo/works.test reported no result before install");
  }

  @Test
  void markersWithAnotherNonceAreIgnoredAndMarkersAfterKernelTextAreFound() {
    String console =
        String.join(
            "\n",
            List.of(
                "@@KLPQA deadbeef TEST loaded demo/demo-LOADED.test 0",
                "[    1.5] some kernel line@@KLPQA " + N + " TEST loaded demo/works.test 0",
                "| output of the test",
                "| @@KLPQA " + N + " END end"));
    Transcript t = Transcript.parse(console, N);
    assertThat(t.events())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.args()).containsExactly("demo/works.test", "0");
              assertThat(e.output())
                  .containsExactly("output of the test", "@@KLPQA " + N + " END end");
            });
    assertThat(t.finished()).isFalse();
  }

  @Test
  void theStepsFollowWhatTheJobRuns() {
    assertThat(Verdict.steps(job(List.of(), List.of(Path.of("old.rpm")), 3)))
        .extracting(s -> s.label)
        .containsExactly(
            "boot",
            "baseline",
            "install",
            "loaded",
            "remove",
            "removed",
            "upgrade",
            "stress",
            "final-state");
  }
}
