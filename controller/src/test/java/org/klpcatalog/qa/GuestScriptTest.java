package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestScriptTest {
  @Test
  void runsTheProtocolInOrderWithLateUpgradeAndStressOnlyWhenAsked() {
    String plain =
        GuestScript.write(VerdictTest.job(List.of(), List.of(), 0), GuestScript.Limits.DEFAULT);
    assertThat(plain)
        .contains("rpmstep install -i /qa/new/kpatch-demo-1-1.x86_64.rpm\n")
        .contains("rpmstep remove -e kpatch-demo\n")
        .doesNotContain("late-install")
        .doesNotContain("upgrade-old")
        .doesNotContain("stress-1");
    assertThat(plain.indexOf("suite baseline")).isLessThan(plain.indexOf("rpmstep install"));
    assertThat(plain.indexOf("suite loaded")).isLessThan(plain.indexOf("rpmstep remove"));
    assertThat(plain.indexOf("rpmstep remove")).isLessThan(plain.indexOf("suite removed"));
    assertThat(plain).endsWith("m END end\npoweroff -f\n");
    // The nonce is read and the file removed before anything else runs.
    assertThat(plain.indexOf("rm -f /qa/nonce")).isLessThan(plain.indexOf("m BEGIN"));

    String all =
        GuestScript.write(
            VerdictTest.job(
                List.of("binfmt_misc"), List.of(Path.of("/x/kpatch-demo-1-0.x86_64.rpm")), 2),
            GuestScript.Limits.DEFAULT);
    assertThat(all)
        .contains("unload_targets late-unload binfmt_misc\n")
        .contains("load_targets late-load binfmt_misc\n")
        .contains("rpmstep upgrade-old -i /qa/old/kpatch-demo-1-0.x86_64.rpm\n")
        .contains("rpmstep upgrade -U /qa/new/kpatch-demo-1-1.x86_64.rpm\n")
        .contains("rpmstep stress-2-remove -e kpatch-demo\n")
        .contains("suite stress-after\n");
    assertThat(all.indexOf("rpmstep late-install"))
        .isLessThan(all.indexOf("load_targets late-load"));
  }

  @Test
  void refusesNamesThatAreNotInertInShell() {
    QaJob bad =
        new QaJob(
            "x",
            QaJob.Kind.PATCH,
            "6.1.0-50-amd64",
            List.of(
                new QaJob.Pkg(
                    "kpatch-x;reboot", "x", "kpatch-x-1-1.x86_64", Path.of("x.rpm"), "kpatch_x")),
            List.of(),
            List.of(),
            List.of(),
            0);
    assertThatThrownBy(() -> GuestScript.write(bad, GuestScript.Limits.DEFAULT))
        .hasMessageContaining("not a safe name for the guest script: kpatch-x;reboot");
    QaJob badTest =
        new QaJob(
            "x",
            QaJob.Kind.PATCH,
            "6.1.0-50-amd64",
            List.of(
                new QaJob.Pkg(
                    "kpatch-x", "x", "kpatch-x-1-1.x86_64", Path.of("x.rpm"), "kpatch_x")),
            List.of(new QaTest("x", "$(reboot).test", "p", new byte[0])),
            List.of(),
            List.of(),
            0);
    assertThatThrownBy(() -> GuestScript.write(badTest, GuestScript.Limits.DEFAULT))
        .hasMessageContaining("x/$(reboot).test");
  }

  @Test
  void theKernelProblemPatternReachesTheGuestIntact() {
    String s =
        GuestScript.write(VerdictTest.job(List.of(), List.of(), 0), GuestScript.Limits.DEFAULT);
    assertThat(s).contains("grep -E -A 20 '" + Verdict.KERNEL_PROBLEM.pattern() + "'");
    assertThat(Verdict.KERNEL_PROBLEM.pattern()).doesNotContain("'");
  }
}
