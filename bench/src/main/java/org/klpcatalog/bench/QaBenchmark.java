package org.klpcatalog.bench;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.cli.Main;
import org.klpcatalog.cli.Terminal;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.qa.GuestImage;
import org.klpcatalog.qa.GuestRuntime;
import org.klpcatalog.qa.Vm;

/**
 * The cost of the QA protocol per patch x kernel cycle against its floor, in the same run: the same
 * kernel booted with the same base image straight to poweroff. Each round boots the floor once and
 * runs {@code klp-catalog qa} for one patch on one kernel (one VM, no all-together run); the cycle
 * time is the VM's time from the report. Kernels and the package are cached after the first round,
 * which is not counted.
 *
 * <p>Usage: QaBenchmark [--catalog DIR] [--patch NAME] [--kernel RELEASE] [--module NAME] [--runs
 * R] [--work DIR] [--accel auto|kvm|tcg]
 */
public final class QaBenchmark {
  public static void main(String[] args) throws Exception {
    Path catalog = Path.of("controller/src/test/resources/sample-catalog");
    String patch = "binfmt-misc-restore-write-access";
    String release = "6.1.0-50-amd64";
    String module = "binfmt_misc";
    int runs = 5;
    Path work = Path.of(System.getProperty("java.io.tmpdir"), "klp-bench-qa");
    String accel = "tcg";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--catalog" -> catalog = Path.of(args[++i]);
        case "--patch" -> patch = args[++i];
        case "--kernel" -> release = args[++i];
        case "--module" -> module = args[++i];
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        case "--accel" -> accel = args[++i];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Files.createDirectories(work);
    Path cache = work.resolve("cache");
    Path report = work.resolve("qa.xml");
    List<String> qa =
        List.of(
            "qa",
            "--catalog",
            catalog.toString(),
            "--patch",
            patch,
            "--kernel",
            release,
            "--no-together",
            "--report",
            report.toString(),
            "--cache",
            cache.toString(),
            "--accel",
            accel,
            "--vms",
            "1");
    // Warm-up: kernel image, module, package, guest base.
    run(qa);
    Path key = work.resolve("qa-work/build/RPM-GPG-KEY-klp-catalog");
    KernelTree tree = new KernelCache(cache).provide(Kernel.of(release, null, "debian"), true);
    Path base =
        GuestImage.base(
            cache.resolve("qa"),
            tree,
            Set.of(module),
            List.of(key),
            GuestRuntime.build(cache.resolve("qa")));
    Path initrd = work.resolve("floor.img");
    GuestImage.initrd(
        base, Map.of("init", "#!/bin/sh\npoweroff -f\n".getBytes(StandardCharsets.UTF_8)), initrd);
    double[] floor = new double[runs];
    double[] cycle = new double[runs];
    for (int r = 0; r < runs; r++) {
      Vm.Boot b =
          Vm.boot(
              tree.image().orElseThrow(),
              initrd,
              512,
              accel.equals("kvm"),
              Duration.ofMinutes(5),
              work.resolve("floor.log"));
      floor[r] = b.seconds();
      run(qa);
      cycle[r] = suiteTime(Files.readString(report));
      System.out.printf(
          Locale.ROOT,
          "round %d: floor %.2f s, QA cycle %.2f s (%.2fx)%n",
          r + 1,
          floor[r],
          cycle[r],
          cycle[r] / floor[r]);
    }
    double f = median(floor);
    double c = median(cycle);
    System.out.printf(
        Locale.ROOT,
        "%s on %s (%s, %d rounds): median floor (boot to poweroff) %.2f s,"
            + " median QA cycle %.2f s, ratio %.2fx (aim: under 2x)%n",
        patch,
        release,
        accel,
        runs,
        f,
        c,
        c / f);
  }

  private static void run(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            new Terminal(new PrintWriter(out, true), new PrintWriter(err, true), false),
            args.toArray(String[]::new));
    if (code != 0) {
      throw new IllegalStateException("qa failed (" + code + "):\n" + out + err);
    }
  }

  private static double suiteTime(String xml) {
    Matcher m = Pattern.compile("<testsuite [^>]*time=\"([0-9.]+)\"").matcher(xml);
    List<Double> times = new ArrayList<>();
    while (m.find()) {
      times.add(Double.parseDouble(m.group(1)));
    }
    if (times.size() != 1) {
      throw new IllegalStateException("expected one VM in the report, found " + times.size());
    }
    return times.get(0);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
