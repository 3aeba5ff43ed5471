package org.klpcatalog.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.qa.GuestScript;
import org.klpcatalog.qa.QaRunner;
import org.klpcatalog.qa.Vm;
import picocli.CommandLine.Option;

/** Options of the VMs patch QA boots (qa, and the QA gate of reconcile). */
final class QaOptions {
  @Option(
      names = "--vms",
      paramLabel = "N",
      description =
          "VMs at a time (default: one per core, as far as memory allows: --vm-memory each, 1 GiB"
              + " kept).")
  int vms;

  @Option(
      names = "--vm-memory",
      paramLabel = "MIB",
      description = "Memory of each VM (default: 512).")
  int memoryMb = 512;

  @Option(
      names = "--accel",
      paramLabel = "auto|kvm|tcg",
      description =
          "KVM, software emulation, or KVM when a probe guest boots with it (default: auto).")
  Vm.Accel accel = Vm.Accel.AUTO;

  @Option(
      names = "--vm-timeout",
      paramLabel = "SECONDS",
      description = "Time limit of one VM (default: derived from its tests and steps).")
  long vmTimeout;

  @Option(
      names = "--test-timeout",
      paramLabel = "SECONDS",
      description = "Time limit of one test in the guest (default: 60).")
  int testTimeout = 60;

  /** Progress of QA on standard error: notes, and a line per finished VM, after {@code prefix}. */
  static QaRunner.Listener progress(Terminal t, String prefix) {
    return new QaRunner.Listener() {
      public void note(String message) {
        t.err().println(prefix + Terminal.safe(message));
      }

      public void finished(QaRunner.JobResult r, int done, int total) {
        synchronized (t) {
          t.err()
              .printf(
                  Locale.ROOT,
                  "%s[%d/%d] %s on %s: %s (%.1f s)%n",
                  prefix,
                  done,
                  total,
                  r.job().subject(),
                  r.job().kernel(),
                  r.outcome(),
                  r.seconds());
        }
      }
    };
  }

  /** What is wrong with the options, for a usage error; empty when nothing is. */
  List<String> problems() {
    List<String> out = new ArrayList<>();
    if (vms < 0) {
      out.add("--vms must be 0 (automatic) or more");
    }
    if (memoryMb < 128) {
      out.add("--vm-memory must be at least 128 (MiB)");
    }
    if (vmTimeout < 0) {
      out.add("--vm-timeout must be 0 (derived) or more");
    }
    if (testTimeout < 1) {
      out.add("--test-timeout must be at least 1 (second)");
    }
    return out;
  }

  QaRunner.Options options(Path work, Path cache, List<Path> keys, KernelProviders providers) {
    return new QaRunner.Options(
        work,
        cache != null ? cache : KernelCache.defaultRoot(),
        keys,
        vms,
        memoryMb,
        accel,
        Duration.ofSeconds(vmTimeout),
        GuestScript.Limits.withTestSeconds(testTimeout),
        providers);
  }
}
