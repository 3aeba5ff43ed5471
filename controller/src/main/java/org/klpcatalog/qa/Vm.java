package org.klpcatalog.qa;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.klpcatalog.exec.ToolRegistry;

/**
 * Boots a kernel with an initramfs in qemu: one vCPU, no devices but the serial console (which the
 * guest's output goes to and the host reads back from a log file), no network, and the guest's
 * poweroff ends qemu ({@code -no-reboot}; a panic reboots at once, so it ends qemu too). Every boot
 * has a time limit; a hung guest is killed.
 */
public final class Vm {
  public enum Accel {
    AUTO,
    KVM,
    TCG
  }

  /**
   * What a boot gave: the console text, whether it was killed at the time limit or for writing more
   * than {@link #CONSOLE_LIMIT}, or for printing nothing for the idle limit (a hung guest), qemu's
   * exit status, and how long it ran.
   */
  public record Boot(
      String console,
      boolean timedOut,
      boolean idle,
      boolean overflow,
      int exitCode,
      double seconds) {}

  /** At most this much console is kept: a guest printing without end is stopped there. */
  static final int CONSOLE_LIMIT = 32 << 20;

  private Vm() {}

  static List<String> command(Path kernel, Path initrd, int memoryMb, boolean kvm) {
    return command(kernel, initrd, memoryMb, kvm, List.of(), "");
  }

  /**
   * The qemu command line; {@code moreArgs} go after the console's serial port (a second {@code
   * -serial} becomes the guest's ttyS1), {@code moreParams} after the kernel parameters.
   */
  static List<String> command(
      Path kernel,
      Path initrd,
      int memoryMb,
      boolean kvm,
      List<String> moreArgs,
      String moreParams) {
    List<String> argv =
        new ArrayList<>(
            List.of(
                "qemu-system-x86_64",
                "-nodefaults",
                "-no-user-config",
                "-m",
                Integer.toString(memoryMb),
                "-smp",
                "1",
                "-display",
                "none",
                "-serial",
                "stdio"));
    argv.addAll(moreArgs);
    argv.addAll(
        List.of(
            "-no-reboot",
            "-kernel",
            kernel.toString(),
            "-initrd",
            initrd.toString(),
            "-append",
            "console=ttyS0 quiet loglevel=1 panic=-1 printk.devkmsg=on"
                + (moreParams.isEmpty() ? "" : " " + moreParams)));
    if (kvm) {
      argv.addAll(List.of("-accel", "kvm", "-cpu", "host"));
    } else {
      argv.addAll(List.of("-accel", "tcg"));
    }
    return argv;
  }

  /**
   * Boots and returns the console: the serial port, read from qemu's standard output into {@code
   * log} (at most {@link #CONSOLE_LIMIT}); qemu's own messages go to {@code log} with the suffix
   * {@code .qemu}. An interrupted caller kills qemu.
   */
  public static Boot boot(
      Path kernel, Path initrd, int memoryMb, boolean kvm, Duration limit, Path log)
      throws IOException, InterruptedException {
    return boot(kernel, initrd, memoryMb, kvm, limit, limit, log);
  }

  /** {@link #boot} that also kills a guest printing nothing for {@code idleLimit}. */
  public static Boot boot(
      Path kernel,
      Path initrd,
      int memoryMb,
      boolean kvm,
      Duration limit,
      Duration idleLimit,
      Path log)
      throws IOException, InterruptedException {
    return boot(command(kernel, initrd, memoryMb, kvm), limit, idleLimit, log);
  }

  /** Boots the qemu command line {@code argv} (from {@link #command}) as {@link #boot} does. */
  static Boot boot(List<String> argv, Duration limit, Duration idleLimit, Path log)
      throws IOException, InterruptedException {
    Path qemuLog = log.resolveSibling(log.getFileName() + ".qemu");
    Files.deleteIfExists(log);
    Files.deleteIfExists(qemuLog);
    ToolRegistry.checkDeclared(argv.get(0));
    ProcessBuilder pb =
        new ProcessBuilder(argv)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectError(qemuLog.toFile());
    long t0 = System.nanoTime();
    Process p = pb.start();
    AtomicBoolean overflow = new AtomicBoolean();
    AtomicLong lastOutput = new AtomicLong(System.nanoTime());
    Thread reader =
        new Thread(
            () -> {
              try (InputStream in = p.getInputStream();
                  OutputStream out = Files.newOutputStream(log)) {
                byte[] buf = new byte[65536];
                long total = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                  int keep = (int) Math.max(0, Math.min(n, CONSOLE_LIMIT - total));
                  out.write(buf, 0, keep);
                  total += n;
                  lastOutput.set(System.nanoTime());
                  if (total > CONSOLE_LIMIT) {
                    overflow.set(true);
                    p.destroyForcibly();
                    break;
                  }
                }
              } catch (IOException e) {
                // The process went away; what was read is in the log.
              }
            },
            "klp-qa-console");
    reader.start();
    boolean done = false;
    boolean idle = false;
    long deadline = t0 + limit.toNanos();
    try {
      while (!done) {
        long now = System.nanoTime();
        if (now >= deadline) {
          break;
        }
        if (now - lastOutput.get() > idleLimit.toNanos()) {
          idle = true;
          break;
        }
        done = p.waitFor(Math.min(1000, (deadline - now) / 1_000_000 + 1), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      reader.join(5000);
      throw e;
    }
    if (!done) {
      p.destroyForcibly();
      p.waitFor();
    }
    reader.join();
    double seconds = (System.nanoTime() - t0) / 1e9;
    String console = Files.isRegularFile(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    return new Boot(
        console, !done && !idle, idle, overflow.get(), done ? p.exitValue() : -1, seconds);
  }

  /**
   * Whether KVM works here: {@code /dev/kvm} must be usable, and a guest must boot with it and
   * print a marker within the limit (some hosts expose a {@code /dev/kvm} that cannot run a guest).
   */
  static boolean kvmWorks(Path kernel, Path base, Path work)
      throws IOException, InterruptedException {
    Path dev = Path.of("/dev/kvm");
    if (!Files.isReadable(dev) || !Files.isWritable(dev)) {
      return false;
    }
    Path initrd = work.resolve("kvm-probe.img");
    GuestImage.initrd(
        base,
        Map.of(
            "init",
            "#!/bin/sh\necho KLPQA-KVM-PROBE-OK\npoweroff -f\n".getBytes(StandardCharsets.UTF_8)),
        initrd);
    Boot b = boot(kernel, initrd, 256, true, Duration.ofSeconds(30), work.resolve("kvm-probe.log"));
    return !b.timedOut() && b.console().contains("KLPQA-KVM-PROBE-OK");
  }
}
