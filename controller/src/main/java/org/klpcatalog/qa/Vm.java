package org.klpcatalog.qa;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.klpcatalog.exec.Command;

/**
 * Boots a kernel with an initramfs in qemu: one vCPU, no devices but the serial console (which
 * the guest's output goes to and the host reads back from a log file), no network, and the
 * guest's poweroff ends qemu ({@code -no-reboot}; a panic reboots at once, so it ends qemu too).
 * Every boot has a time limit; a hung guest is killed.
 */
public final class Vm {
  public enum Accel { AUTO, KVM, TCG }

  /** What a boot gave: the console text, whether it was killed at the limit, and how long it took. */
  public record Boot(String console, boolean timedOut, int exitCode, double seconds) {}

  private Vm() {}

  /** At most this much of a console is read back (a guest could print without end). */
  static final int CONSOLE_LIMIT = 32 << 20;

  static List<String> command(Path kernel, Path initrd, int memoryMb, boolean kvm, Path console) {
    List<String> argv = new ArrayList<>(List.of("qemu-system-x86_64", "-nodefaults", "-no-user-config",
        "-m", Integer.toString(memoryMb), "-smp", "1", "-display", "none", "-serial", "file:" + console, "-no-reboot",
        "-kernel", kernel.toString(), "-initrd", initrd.toString(),
        "-append", "console=ttyS0 quiet loglevel=1 panic=-1 printk.devkmsg=on"));
    if (kvm) {
      argv.addAll(List.of("-accel", "kvm", "-cpu", "host"));
    } else {
      argv.addAll(List.of("-accel", "tcg"));
    }
    return argv;
  }

  /**
   * Boots and returns the console (the serial port, written to {@code log}); qemu's own messages
   * go to {@code log} with the suffix {@code .qemu}.
   */
  public static Boot boot(Path kernel, Path initrd, int memoryMb, boolean kvm, Duration limit, Path log)
      throws IOException, InterruptedException {
    Files.deleteIfExists(log);
    Path qemuLog = log.resolveSibling(log.getFileName() + ".qemu");
    Files.deleteIfExists(qemuLog);
    long t0 = System.nanoTime();
    Command.Result r = Command.of(command(kernel, initrd, memoryMb, kvm, log.toAbsolutePath())).timeout(limit)
        .log(qemuLog).run();
    double seconds = (System.nanoTime() - t0) / 1e9;
    String console = "";
    if (Files.isRegularFile(log)) {
      try (var in = Files.newInputStream(log)) {
        console = new String(in.readNBytes(CONSOLE_LIMIT), StandardCharsets.UTF_8);
      }
    }
    if (!r.ok() && !r.output().isBlank()) {
      console = console + "\n" + r.output();
    }
    return new Boot(console, r.timedOut(), r.exitCode(), seconds);
  }

  /**
   * Whether KVM works here: {@code /dev/kvm} must be usable, and a guest must boot with it and
   * print a marker within the limit (some hosts expose a {@code /dev/kvm} that cannot run a guest).
   */
  static boolean kvmWorks(Path kernel, Path base, Path work) throws IOException, InterruptedException {
    Path dev = Path.of("/dev/kvm");
    if (!Files.isReadable(dev) || !Files.isWritable(dev)) {
      return false;
    }
    Path initrd = work.resolve("kvm-probe.img");
    GuestImage.initrd(base, Map.of("init", "#!/bin/sh\necho KLPQA-KVM-PROBE-OK\npoweroff -f\n"
        .getBytes(StandardCharsets.UTF_8)), initrd);
    Boot b = boot(kernel, initrd, 256, true, Duration.ofSeconds(30), work.resolve("kvm-probe.log"));
    return !b.timedOut() && b.console().contains("KLPQA-KVM-PROBE-OK");
  }
}
