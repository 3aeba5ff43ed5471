package org.klpcatalog.qa;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.KernelTree;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs QA jobs: fetches each kernel's image (its provider, cached), builds the guest bases, then
 * boots one VM per job, as many at once as the cores and memory allow, and judges each run.
 */
public final class QaRunner {
  private static final Logger LOG = LoggerFactory.getLogger(QaRunner.class);

  /**
   * How to run. {@code jobs} 0 means as many VMs as cores and memory allow; {@code timeout} is each
   * VM's limit (0 for one derived from the job).
   */
  public record Options(
      Path work,
      Path cacheRoot,
      List<Path> keys,
      int jobs,
      int memoryMb,
      Vm.Accel accel,
      Duration timeout,
      GuestScript.Limits limits,
      KernelProviders kernelProviders) {
    public Options withKeys(List<Path> other) {
      return new Options(
          work, cacheRoot, other, jobs, memoryMb, accel, timeout, limits, kernelProviders);
    }
  }

  /** One job's outcome. */
  public record JobResult(
      QaJob job, List<Verdict.StepResult> steps, Path console, double seconds, String accel) {
    public boolean passed() {
      return steps.stream().noneMatch(s -> s.status() == Verdict.Status.FAILED);
    }

    public List<Verdict.StepResult> failed() {
      return steps.stream().filter(s -> s.status() == Verdict.Status.FAILED).toList();
    }

    /** "passed", or "FAILED at" the first failed step: for progress lines. */
    public String outcome() {
      return passed() ? "passed" : "FAILED at " + failed().get(0).step().label;
    }
  }

  /** Progress: a job started or finished, or a note (fetching a kernel, KVM or not). */
  public interface Listener {
    void note(String message);

    void finished(JobResult result, int done, int total);
  }

  /** Whether a probe guest booted with KVM, once known. */
  private static Boolean kvmProbe;

  private QaRunner() {}

  /** VMs at once: one per core, as long as each gets its memory and the host keeps 1 GiB. */
  public static int defaultParallelism(int memoryMb) {
    int cores = Runtime.getRuntime().availableProcessors();
    long availableMb = MemInfo.availableMb();
    long byMemory = availableMb <= 0 ? cores : Math.max(1, (availableMb - 1024) / (memoryMb + 128));
    return (int) Math.max(1, Math.min(cores, byMemory));
  }

  public static List<JobResult> run(
      List<QaJob> jobs, Map<String, Kernel> kernels, Options options, Listener listener)
      throws IOException, InterruptedException {
    Files.createDirectories(options.work());
    Path cache = options.cacheRoot().resolve("qa");
    Files.createDirectories(cache);
    Path runtime = GuestRuntime.build(cache);
    KernelCache kernelCache = new KernelCache(options.cacheRoot(), options.kernelProviders());
    // Kernel images and guest bases, one per kernel.
    Map<String, Set<String>> targets = new LinkedHashMap<>();
    for (QaJob j : jobs) {
      targets.computeIfAbsent(j.kernel(), k -> new LinkedHashSet<>()).addAll(j.targetModules());
    }
    Map<String, KernelTree> trees = new LinkedHashMap<>();
    Map<String, Path> bases = new LinkedHashMap<>();
    Map<String, String> unavailable = new LinkedHashMap<>();
    for (Map.Entry<String, Set<String>> e : targets.entrySet()) {
      String release = e.getKey();
      Kernel kernel = kernels.get(release);
      try {
        if (kernel == null) {
          throw new KernelException("kernel " + release + " is not in the catalog");
        }
        listener.note("kernel " + release + ": image and modules (" + kernel.provider() + ")");
        KernelTree tree = kernelCache.provide(kernel, true);
        bases.put(release, GuestImage.base(cache, tree, e.getValue(), options.keys(), runtime));
        trees.put(release, tree);
      } catch (KernelException | IOException ex) {
        unavailable.put(release, ex.getMessage());
      }
    }
    boolean kvm = false;
    if (options.accel() != Vm.Accel.TCG && !trees.isEmpty()) {
      String first = trees.keySet().iterator().next();
      synchronized (QaRunner.class) {
        // Probed once per process: a service gating every reconcile need not boot the probe again.
        if (kvmProbe == null) {
          kvmProbe =
              Vm.kvmWorks(trees.get(first).image().orElseThrow(), bases.get(first), options.work());
        }
        kvm = kvmProbe;
      }
      if (!kvm && options.accel() == Vm.Accel.KVM) {
        throw new IOException(
            "KVM was asked for (--accel kvm) but a guest does not boot with it here"
                + " (see "
                + options.work().resolve("kvm-probe.log")
                + ")");
      }
    }
    String accel = kvm ? "kvm" : "tcg";
    int parallel = options.jobs() > 0 ? options.jobs() : defaultParallelism(options.memoryMb());
    listener.note(
        jobs.size()
            + " VM(s) to boot, "
            + parallel
            + " at a time, "
            + (kvm ? "with KVM" : "with software emulation (no usable KVM)"));
    ExecutorService pool =
        Executors.newFixedThreadPool(
            parallel,
            r -> {
              Thread t = new Thread(r, "klp-qa-vm");
              t.setDaemon(true);
              return t;
            });
    AtomicInteger done = new AtomicInteger();
    List<Future<JobResult>> futures = new ArrayList<>();
    boolean useKvm = kvm;
    try {
      for (QaJob job : jobs) {
        futures.add(
            pool.submit(
                () -> {
                  JobResult r =
                      unavailable.containsKey(job.kernel())
                          ? new JobResult(
                              job,
                              Verdict.judge(
                                  job,
                                  new Transcript(List.of()),
                                  "the kernel is unavailable: " + unavailable.get(job.kernel())),
                              Path.of(""),
                              0,
                              accel)
                          : runOne(
                              job,
                              trees.get(job.kernel()),
                              bases.get(job.kernel()),
                              useKvm,
                              options);
                  listener.finished(r, done.incrementAndGet(), jobs.size());
                  return r;
                }));
      }
      List<JobResult> results = new ArrayList<>();
      for (Future<JobResult> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          Throwable c = e.getCause();
          if (c instanceof IOException io) {
            throw io;
          }
          throw new IOException("QA failed: " + c, c);
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  static JobResult runOne(QaJob job, KernelTree tree, Path base, boolean kvm, Options options)
      throws IOException, InterruptedException {
    Path dir = options.work().resolve(job.id());
    Files.createDirectories(dir);
    byte[] nonceBytes = new byte[12];
    new SecureRandom().nextBytes(nonceBytes);
    String nonce = HexFormat.of().formatHex(nonceBytes);
    Map<String, byte[]> overlay = new LinkedHashMap<>();
    String script;
    try {
      script = GuestScript.write(job, options.limits());
    } catch (IllegalArgumentException e) {
      // Names the schema allows but a shell could misread (a module named "-f"): refused.
      return new JobResult(
          job,
          Verdict.judge(job, new Transcript(List.of()), e.getMessage()),
          Path.of(""),
          0,
          kvm ? "kvm" : "tcg");
    }
    overlay.put("init", script.getBytes(StandardCharsets.UTF_8));
    overlay.put(GuestScript.NONCE.substring(1), nonce.getBytes(StandardCharsets.UTF_8));
    for (QaTest t : job.tests()) {
      overlay.put(GuestScript.TESTS.substring(1) + "/" + t.group() + "/" + t.name(), t.content());
    }
    for (QaJob.Pkg p : job.packages()) {
      overlay.put(
          GuestScript.NEW.substring(1) + "/" + p.nevra() + ".rpm", Files.readAllBytes(p.rpm()));
    }
    for (Path p : job.previous()) {
      overlay.put(GuestScript.OLD.substring(1) + "/" + p.getFileName(), Files.readAllBytes(p));
    }
    Files.writeString(dir.resolve("init.sh"), script, StandardCharsets.UTF_8);
    Path initrd = dir.resolve("initrd.img");
    GuestImage.initrd(base, overlay, initrd);
    Duration limit = options.timeout().isZero() ? options.limits().vm(job, kvm) : options.timeout();
    Path console = dir.resolve("console.log");
    LOG.debug("booting {} ({})", job.id(), kvm ? "kvm" : "tcg");
    Duration idle = options.limits().idle(job, kvm);
    Vm.Boot boot =
        Vm.boot(tree.image().orElseThrow(), initrd, options.memoryMb(), kvm, limit, idle, console);
    Files.deleteIfExists(initrd);
    Transcript t = Transcript.parse(boot.console(), nonce);
    String stopped =
        boot.overflow()
            ? "the console passed " + (Vm.CONSOLE_LIMIT >> 20) + " MiB; the VM was killed"
            : boot.idle()
                ? "no output for " + idle.toSeconds() + " s (a hung guest); the VM was killed"
                : boot.timedOut()
                    ? "no end within " + limit.toSeconds() + " s; the VM was killed"
                    : t.finished()
                        ? ""
                        : "the guest ended early (panic or power off; qemu exit "
                            + boot.exitCode()
                            + ")";
    return new JobResult(
        job, Verdict.judge(job, t, stopped), console, boot.seconds(), kvm ? "kvm" : "tcg");
  }
}
