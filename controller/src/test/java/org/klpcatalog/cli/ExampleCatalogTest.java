package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.klpcatalog.testing.ExampleCatalogs;

/** {@code analyze} gives the right functions for every fix of the example catalog. */
class ExampleCatalogTest {
  static final Path PATCHES = ExampleCatalogs.SAMPLE.resolve("patches");

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "binfmt-misc-removed-entry/fix.patch,        fs/binfmt_misc.c:bm_entry_read",
    "binfmt-misc-restore-write-access/fix.patch, fs/binfmt_misc.c:put_binfmt_handler",
    "cad-pid-reject-kthread/fix.patch,           kernel/sysctl.c:proc_do_cad_pid",
    "ns-last-pid-range/fix.patch,                kernel/pid_namespace.c:pid_ns_ctl_handler",
    "printk-restrict-audit/fix.patch,           "
        + " kernel/printk/sysctl.c:proc_dointvec_minmax_sysadmin",
    "proc-cwd-kthread/fix-6.1.176.patch,         fs/proc/base.c:proc_cwd_link",
    "proc-cwd-kthread/fix.patch,                 fs/proc/base.c:proc_cwd_link",
    "sysrq-reject-negative/fix.patch,            kernel/sysctl.c:sysrq_sysctl_handler",
    "sysrq-validate-mask/fix.patch,              kernel/sysctl.c:sysrq_sysctl_handler",
  })
  void analyzeFindsTheFunctionEachExampleFixChanges(String fix, String function) {
    CliRun r = CliRun.of("analyze", PATCHES.resolve(fix).toString());
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo("modified " + function + "\n");
  }
}
