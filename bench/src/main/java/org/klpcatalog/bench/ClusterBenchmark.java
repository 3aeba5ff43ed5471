package org.klpcatalog.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.eclipse.jgit.api.Git;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.service.webhook.WebhookReceiver;
import org.klpcatalog.source.GitFixture;
import org.klpcatalog.testing.Postgres;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The cluster's figures, with replicas of {@code serve} each in its own JVM over one throwaway
 * PostgreSQL, one shared repository and one shared artifact store, building a 40-module catalog
 * (the sample catalog on two kernels, its independent patches copied under new names and new
 * function names until 20 active patches x 2 kernels). Part 1, throughput: the time from the push
 * (announced by a webhook) until the new version is current and applied, for one replica with
 * build.jobs 1 against two replicas with build.jobs 1 each, alternating, each run on a fresh
 * database, store and repository (so every module is really built). Part 2, recovery: three
 * replicas; a replica running a module build for another's reconcile is killed with SIGKILL, and
 * the time until another replica runs that build again is measured against the check-in interval.
 * Part 3, idle: the CPU an idle replica spends per poll of an unchanged catalog, without a cluster
 * section and as the only replica of a cluster (and PostgreSQL's CPU, apart).
 *
 * <p>Usage: ClusterBenchmark [--work DIR] [--runs R] [--window S] [--checkin S]
 * [throughput|recovery|idle]
 */
public final class ClusterBenchmark {
  private static final OkHttpClient HTTP =
      new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String SECRET = "bench-webhook-secret";
  private static final Duration PUBLISH = Duration.ofMinutes(30);

  /** Independent patches of the sample catalog copied under new names: patch and its function. */
  private static final Map<String, String> COPIED =
      Map.of(
          "ns-last-pid-range", "pid_ns_ctl_handler", "cad-pid-reject-kthread", "proc_do_cad_pid");

  private static final int COPIES = 7;

  /** The repository's root (bench/run runs from there). */
  private final Path top = Path.of("").toAbsolutePath();

  private final Path work;
  private final long clockTick;
  private GitFixture catalogWork;
  private final String classPath;

  private ClusterBenchmark(Path work) throws Exception {
    this.work = work.toAbsolutePath();
    this.clockTick = Long.parseLong(run("getconf", "CLK_TCK").strip());
    this.classPath = snapshotClassPath();
  }

  /**
   * The replicas' class path: this one, with what lies in the source tree (the modules' jars and
   * classes) copied first, so that a rebuild while the benchmark runs changes no replica.
   */
  private String snapshotClassPath() throws IOException {
    Path dir = work.resolve("classpath");
    FileTrees.deleteRecursively(dir);
    Files.createDirectories(dir);
    List<String> out = new ArrayList<>();
    int i = 0;
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(e).toAbsolutePath();
      if (!p.startsWith(top) || !Files.exists(p)) {
        out.add(e);
        continue;
      }
      Path copy = dir.resolve((i++) + "-" + p.getFileName());
      if (Files.isDirectory(p)) {
        copyTree(p, copy);
      } else {
        Files.copy(p, copy);
      }
      out.add(copy.toString());
    }
    return String.join(File.pathSeparator, out);
  }

  public static void main(String[] args) throws Exception {
    Path work = Path.of("/tmp/klp-bench-cluster");
    int runs = -1;
    int window = 60;
    int checkin = -1;
    String which = "throughput";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--work" -> work = Path.of(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--window" -> window = Integer.parseInt(args[++i]);
        case "--checkin" -> checkin = Integer.parseInt(args[++i]);
        case "throughput", "recovery", "idle" -> which = args[i];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    ClusterBenchmark b = new ClusterBenchmark(work);
    Files.createDirectories(b.work);
    System.out.printf(
        Locale.ROOT,
        "cluster benchmark %s, %s; %d CPUs, %s memory; load average %s%n",
        which,
        Instant.now(),
        Runtime.getRuntime().availableProcessors(),
        memTotal(),
        loadAverage());
    switch (which) {
      case "throughput" -> b.throughput(runs < 0 ? 2 : runs);
      case "recovery" -> b.recovery(runs < 0 ? 3 : runs, checkin < 0 ? 5 : checkin);
      default -> b.idle(window, checkin < 0 ? 15 : checkin);
    }
    System.out.printf(Locale.ROOT, "load average at the end: %s%n", loadAverage());
    System.exit(0);
  }

  // ---- the catalog ----

  /** The two commits every run pushes: the catalog without patches, then with its 40 modules. */
  private record Catalog(Path bare, String empty, String full, int modules) {}

  private Catalog catalog() throws Exception {
    Path dir = work.resolve("catalog");
    FileTrees.deleteRecursively(dir);
    copyTree(top.resolve("controller/src/test/resources/sample-catalog"), dir);
    Path yaml = dir.resolve("catalog.yaml");
    Files.writeString(
        yaml,
        Files.readString(yaml)
            .replaceAll("(?m)^    - release: 6\\.1\\.0-53-amd64.*\\n.*\\n", "")
            .replaceAll("(?m)^    - release: 6\\.1\\.0-56-cloud-amd64.*\\n.*\\n", ""));
    // On one kernel only: it would make the count odd.
    FileTrees.deleteRecursively(dir.resolve("patches/binfmt-misc-restore-write-access"));
    for (Map.Entry<String, String> e : COPIED.entrySet()) {
      for (int i = 2; i < 2 + COPIES; i++) {
        String name = e.getKey() + "-copy" + i;
        Path copy = dir.resolve("patches").resolve(name);
        copyTree(dir.resolve("patches").resolve(e.getKey()), copy);
        Path manifest = copy.resolve("manifest.yaml");
        Files.writeString(
            manifest,
            Files.readString(manifest)
                .replace("  name: " + e.getKey() + "\n", "  name: " + name + "\n"));
        // Its own function, so that no two packages own one function on a kernel.
        for (String f : List.of("fix.patch", "livepatch.c")) {
          Path p = copy.resolve(f);
          Files.writeString(
              p,
              Files.readString(p)
                  .replaceAll("\\b" + e.getValue() + "\\b", e.getValue() + "_c" + i));
        }
      }
    }
    CatalogRevision rev = BuildBenchmark.read(dir);
    if (!rev.report().valid()) {
      throw new IllegalStateException("the benchmark's catalog is invalid: " + rev.report());
    }
    DesiredStateBuilder.Result d =
        DesiredStateBuilder.build(rev.report(), rev.tree(), ReleaseLedger.EMPTY, Optional.empty());
    int modules = 0;
    for (DesiredPackage p : d.state().packages()) {
      modules += (int) p.modules().stream().map(m -> m.kernelRelease()).distinct().count();
    }
    Path emptyDir = work.resolve("catalog-empty");
    FileTrees.deleteRecursively(emptyDir);
    Files.createDirectories(emptyDir);
    Files.copy(yaml, emptyDir.resolve("catalog.yaml"));
    Path bare = work.resolve("srv/catalog.git");
    FileTrees.deleteRecursively(work.resolve("srv"));
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    FileTrees.deleteRecursively(work.resolve("catalog-work"));
    catalogWork = GitFixture.create(work.resolve("catalog-work"));
    String empty = catalogWork.commit(new DirectoryTreeReader().read(emptyDir), "no patches yet");
    String full =
        catalogWork.commit(
            new DirectoryTreeReader().read(dir), modules + " module builds, 2 kernels");
    System.out.printf(
        Locale.ROOT,
        "catalog: %d patches active, %d module builds (packages x kernels); commit %s%n",
        d.state().packages().size(),
        modules,
        full.substring(0, 12));
    return new Catalog(bare, empty, full, modules);
  }

  /** Sets the bare repository's main to {@code commit}. */
  private void pushCatalog(String commit) throws Exception {
    catalogWork.push(work.resolve("srv/catalog.git").toString(), commit, "refs/heads/main", true);
  }

  // ---- part 1: throughput ----

  private void throughput(int runs) throws Exception {
    Catalog cat = catalog();
    System.out.println(
        "throughput: push + webhook -> new version current and applied, fresh database, store and"
            + " repository each run; build.jobs 1 per replica");
    System.out.printf(
        Locale.ROOT,
        "  %-4s %-9s %8s %8s %6s %-28s %10s %10s %s%n",
        "run",
        "replicas",
        "total s",
        "farm s",
        "jobs",
        "jobs per replica",
        "build s",
        "reconciler",
        "load");
    Map<Integer, List<Double>> totals = new TreeMap<>();
    for (int r = 1; r <= runs; r++) {
      for (int n : new int[] {1, 2}) {
        Result res = throughputRun(cat, r, n);
        totals.computeIfAbsent(n, k -> new ArrayList<>()).add(res.seconds);
        System.out.printf(
            Locale.ROOT,
            "  %-4d %-9d %8.1f %8.1f %6d %-28s %10.1f %10s %s -> %s%n",
            r,
            n,
            res.seconds,
            res.farmSpan,
            res.jobs,
            res.perReplica,
            res.buildSeconds,
            res.reconciler,
            res.loadBefore,
            res.loadAfter);
      }
    }
    double one = Stats.median(totals.get(1));
    double two = Stats.median(totals.get(2));
    System.out.printf(
        Locale.ROOT,
        "  median: one replica %.1f s, two replicas %.1f s; speed-up %.2fx (aim >= 1.8x), %d"
            + " runs each%n",
        one,
        two,
        one / two,
        totals.get(1).size());
  }

  private record Result(
      double seconds,
      double farmSpan,
      int jobs,
      String perReplica,
      double buildSeconds,
      String reconciler,
      String loadBefore,
      String loadAfter) {}

  private Result throughputRun(Catalog cat, int run, int n) throws Exception {
    String loadBefore = loadAverage();
    Path dir = work.resolve("throughput/run" + run + "-" + n);
    try (Cluster c = new Cluster(dir, cat, n, 1, Duration.ofSeconds(3), true)) {
      c.start();
      Replica first = c.replicas.get(0);
      long t0 = System.nanoTime();
      pushCatalog(cat.full);
      hook(first.port, cat.full);
      awaitApplied(c, first, cat.full);
      double seconds = (System.nanoTime() - t0) / 1e9;
      Map<String, Long> per = new TreeMap<>();
      double summed = 0;
      Instant firstStart = null;
      Instant lastEnd = null;
      int jobs = 0;
      try (Connection db = c.connect();
          PreparedStatement ps =
              db.prepareStatement(
                  "SELECT replica, state, started_at, finished_at FROM klp_jobs"
                      + " WHERE revision = ?")) {
        ps.setString(1, cat.full);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            jobs++;
            per.merge(rs.getString(1) + "/" + rs.getString(2), 1L, Long::sum);
            Instant s = rs.getTimestamp(3).toInstant();
            Instant e = rs.getTimestamp(4).toInstant();
            summed += Duration.between(s, e).toMillis() / 1000.0;
            firstStart = firstStart == null || s.isBefore(firstStart) ? s : firstStart;
            lastEnd = lastEnd == null || e.isAfter(lastEnd) ? e : lastEnd;
          }
        }
      }
      String reconciler = status(first).path("cluster").path("reconciledBy").asString("?");
      return new Result(
          seconds,
          firstStart == null ? 0 : Duration.between(firstStart, lastEnd).toMillis() / 1000.0,
          jobs,
          per.toString().replace(" ", ""),
          summed,
          reconciler,
          loadBefore,
          loadAverage());
    }
  }

  // ---- part 2: recovery ----

  private void recovery(int runs, int checkinSeconds) throws Exception {
    Catalog cat = catalog();
    Duration checkin = Duration.ofSeconds(checkinSeconds);
    System.out.printf(
        Locale.ROOT,
        "recovery: 3 replicas, build.jobs 1, cluster.checkinInterval %ds; SIGKILL of a replica"
            + " running a build for another's reconcile -> the build started again elsewhere%n",
        checkinSeconds);
    System.out.printf(
        Locale.ROOT,
        "  %-4s %-8s %-10s %12s %12s %9s %10s %s%n",
        "run",
        "killed",
        "recovered",
        "started s",
        "observed s",
        "/checkin",
        "publish s",
        "load");
    List<Double> times = new ArrayList<>();
    for (int r = 1; r <= runs; r++) {
      String loadBefore = loadAverage();
      Path dir = work.resolve("recovery/run" + r);
      try (Cluster c = new Cluster(dir, cat, 3, 1, checkin, true)) {
        c.start();
        long t0 = System.nanoTime();
        pushCatalog(cat.full);
        hook(c.replicas.get(0).port, cat.full);
        // A build running on a replica that is not the one reconciling.
        String job = null;
        Replica victim = null;
        Instant deadline = Instant.now().plus(Duration.ofMinutes(10));
        while (job == null) {
          if (Instant.now().isAfter(deadline)) {
            throw new IllegalStateException("no build ran on a replica that does not reconcile");
          }
          Optional<String> reconciler = c.reconciler();
          if (reconciler.isPresent()) {
            for (Map.Entry<String, String> e : c.running(cat.full).entrySet()) {
              if (!e.getValue().equals(reconciler.get())) {
                job = e.getKey();
                victim = c.replica(e.getValue());
                break;
              }
            }
          }
          if (job == null) {
            Thread.sleep(50);
          }
        }
        victim.process.destroyForcibly();
        Instant killedAt = Instant.now();
        victim.process.waitFor(30, TimeUnit.SECONDS);
        // The job's row once another replica runs it again.
        Instant observed = null;
        Instant started = null;
        String by = null;
        deadline = Instant.now().plus(Duration.ofMinutes(10));
        while (observed == null) {
          if (Instant.now().isAfter(deadline)) {
            throw new IllegalStateException("job " + job + " was not recovered");
          }
          try (Connection db = c.connect();
              PreparedStatement ps =
                  db.prepareStatement(
                      "SELECT state, replica, recovered, started_at FROM klp_jobs WHERE id = ?")) {
            ps.setString(1, job);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new IllegalStateException("job " + job + " is gone");
              }
              if (rs.getInt(3) >= 1
                  && List.of("running", "done").contains(rs.getString(1))
                  && !victim.id.equals(rs.getString(2))) {
                observed = Instant.now();
                started = rs.getTimestamp(4).toInstant();
                by = rs.getString(2);
              } else if (rs.getString(1).equals("done") && victim.id.equals(rs.getString(2))) {
                throw new IllegalStateException(
                    "job " + job + " ended on " + victim.id + " before it was killed");
              }
            }
          }
          if (observed == null) {
            Thread.sleep(50);
          }
        }
        double recovery = Duration.between(killedAt, started).toMillis() / 1000.0;
        double seen = Duration.between(killedAt, observed).toMillis() / 1000.0;
        times.add(recovery);
        Replica other = c.replicas.stream().filter(x -> x.process.isAlive()).findFirst().get();
        awaitApplied(c, other, cat.full);
        double publish = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "  %-4d %-8s %-10s %12.1f %12.1f %9.2f %10.1f %s -> %s%n",
            r,
            victim.id,
            by,
            recovery,
            seen,
            recovery / checkinSeconds,
            publish,
            loadBefore,
            loadAverage());
        System.out.printf(Locale.ROOT, "       job %s; %s%n", job, c.jobSummary(cat.full));
      }
    }
    double median = Stats.median(times);
    double max = times.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    System.out.printf(
        Locale.ROOT,
        "  kill -> recovered build started: median %.1f s, max %.1f s = %.2fx / %.2fx the"
            + " check-in interval (%ds; aim < 2x)%n",
        median,
        max,
        median / checkinSeconds,
        max / checkinSeconds,
        checkinSeconds);
  }

  // ---- part 3: idle ----

  private void idle(int window, int checkinSeconds) throws Exception {
    Catalog cat = catalog();
    pushCatalog(cat.full);
    // The modules are built once, by the first replica, and kept: only the polls are measured.
    Path builds = work.resolve("idle/builds");
    Files.createDirectories(builds);
    System.out.printf(
        Locale.ROOT,
        "idle: one replica polling the unchanged catalog every 5 s, after its first publish;"
            + " CPU (utime+stime of the JVM and its reaped children) over %d s%n",
        window);
    double[] plain;
    double[] clustered;
    try (Cluster c = new Cluster(work.resolve("idle/plain"), cat, 1, 1, null, false)) {
      c.store = builds;
      c.start();
      Replica r = c.replicas.get(0);
      awaitApplied(c, r, cat.full);
      plain = measureIdle(r, null, window);
    }
    try (Cluster c =
        new Cluster(
            work.resolve("idle/cluster"), cat, 1, 1, Duration.ofSeconds(checkinSeconds), false)) {
      c.store = builds;
      c.start();
      Replica r = c.replicas.get(0);
      awaitApplied(c, r, cat.full);
      clustered = measureIdle(r, c.pg, window);
    }
    System.out.printf(
        Locale.ROOT,
        "  %-34s %6s %8s %10s %12s %14s%n",
        "replica",
        "polls",
        "wall s",
        "JVM ms",
        "JVM ms/poll",
        "PostgreSQL ms");
    System.out.printf(
        Locale.ROOT,
        "  %-34s %6.0f %8.1f %10.0f %12.1f %14s%n",
        "(a) no cluster section",
        plain[0],
        plain[1],
        plain[2],
        plain[2] / plain[0],
        "-");
    System.out.printf(
        Locale.ROOT,
        "  %-34s %6.0f %8.1f %10.0f %12.1f %14.0f%n",
        "(b) one replica, checkin " + checkinSeconds + "s",
        clustered[0],
        clustered[1],
        clustered[2],
        clustered[2] / clustered[0],
        clustered[3]);
    double a = plain[2] / plain[0];
    double b = clustered[2] / clustered[0];
    double bPg = (clustered[2] + clustered[3]) / clustered[0];
    System.out.printf(
        Locale.ROOT,
        "  per poll: (a) %.1f ms; (b) %.1f ms JVM, %.1f ms with PostgreSQL's; b/a %.2fx without"
            + " PostgreSQL, %.2fx with it (aim < 1.5x)%n",
        a,
        b,
        bPg,
        b / a,
        bPg / a);
  }

  /** {polls, wall seconds, JVM CPU ms, PostgreSQL CPU ms} over {@code window} seconds. */
  private double[] measureIdle(Replica r, Postgres pg, int window) throws Exception {
    // One more poll after the publish, to warm up.
    double f = metric(r.port, "klp_catalog_fetches_total");
    Instant end = Instant.now().plusSeconds(60);
    while (metric(r.port, "klp_catalog_fetches_total") < f + 1 && Instant.now().isBefore(end)) {
      Thread.sleep(200);
    }
    Thread.sleep(1_000);
    double f0 = metric(r.port, "klp_catalog_fetches_total");
    long cpu0 = cpuTicks(r.process.pid(), true);
    long pg0 = pg == null ? 0 : postgresTicks(pg);
    long wall0 = System.nanoTime();
    Thread.sleep(window * 1000L);
    long cpu = cpuTicks(r.process.pid(), true) - cpu0;
    long pgCpu = pg == null ? 0 : postgresTicks(pg) - pg0;
    double wall = (System.nanoTime() - wall0) / 1e9;
    double polls = metric(r.port, "klp_catalog_fetches_total") - f0;
    if (polls <= 0) {
      // No fetch counted: as many polls as the interval allows.
      polls = Math.floor(wall / 5);
    }
    return new double[] {polls, wall, ticksToMs(cpu), ticksToMs(pgCpu)};
  }

  private double ticksToMs(long ticks) {
    return ticks * 1000.0 / clockTick;
  }

  /** utime + stime of a process (and of its reaped children when {@code children}). */
  private static long cpuTicks(long pid, boolean children) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // Fields from the state on (field 3): utime is field 14, stime 15, cutime 16, cstime 17.
      long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      if (children) {
        t += Long.parseLong(f[13]) + Long.parseLong(f[14]);
      }
      return t;
    } catch (IOException | RuntimeException e) {
      return 0; // Gone meanwhile.
    }
  }

  /** The CPU of PostgreSQL's server: the postmaster (with its reaped children) and its children. */
  private static long postgresTicks(Postgres pg) throws IOException {
    long pid =
        Long.parseLong(
            Files.readAllLines(pg.dataDirectory().resolve("postmaster.pid")).get(0).strip());
    long t = cpuTicks(pid, true);
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isPresent()) {
      for (ProcessHandle c : h.get().children().toList()) {
        t += cpuTicks(c.pid(), false);
      }
    }
    return t;
  }

  // ---- replicas ----

  /** One replica: its id, JVM, port and log. */
  private record Replica(String id, Process process, int port, Path log) {}

  /**
   * Replicas of one run over a fresh database (when clustered), store, repository and state; the
   * catalog's empty commit is published first.
   */
  private final class Cluster implements AutoCloseable {
    final Path dir;
    final Catalog cat;
    final int count;
    final int jobs;
    final Duration checkin;
    final boolean webhook;
    final List<Replica> replicas = new ArrayList<>();
    Postgres pg;
    Path store;

    Cluster(Path dir, Catalog cat, int count, int jobs, Duration checkin, boolean webhook)
        throws IOException {
      this.dir = dir;
      this.cat = cat;
      this.count = count;
      this.jobs = jobs;
      this.checkin = checkin;
      this.webhook = webhook;
      FileTrees.deleteRecursively(dir);
      Files.createDirectories(dir);
      this.store = dir.resolve("shared/store");
    }

    Path repo() {
      return dir.resolve("shared/repo");
    }

    /** Starts the replicas and waits until the catalog's current commit is applied. */
    void start() throws Exception {
      if (checkin != null) {
        pg = Postgres.start();
      }
      Files.createDirectories(store);
      Files.createDirectories(repo().getParent());
      Signer.throwaway(Path.of(repo() + ".signing-key"));
      if (webhook) {
        pushCatalog(cat.empty);
      }
      for (int i = 1; i <= count; i++) {
        launch("r" + i);
      }
      for (Replica r : replicas) {
        awaitUp(r);
      }
      if (webhook) {
        awaitApplied(this, replicas.get(0), cat.empty);
      }
    }

    private void launch(String id) throws Exception {
      int port;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path home = dir.resolve("replicas").resolve(id);
      Path cache = cache(home.resolve("cache"));
      if (checkin == null) {
        // Without a cluster the modules are kept in the cache's builds/.
        Files.createSymbolicLink(cache.resolve("builds"), store);
      }
      Files.writeString(home.resolve("webhook-secret"), SECRET);
      List<String> yaml =
          new ArrayList<>(
              List.of(
                  "source:",
                  "  url: " + cat.bare,
                  "  branch: main",
                  "  interval: 5s",
                  "  jitter: 1s",
                  "repository:",
                  "  path: " + repo(),
                  "  lockWait: 10m",
                  "build:",
                  "  jobs: " + jobs,
                  "  cache: " + cache,
                  "  sourceChecks: false",
                  "qa:",
                  "  enabled: false",
                  "server:",
                  "  listen: 127.0.0.1:" + port,
                  "webhooks:",
                  "  github:",
                  "    secretFile: " + home.resolve("webhook-secret"),
                  "stateDir: " + home.resolve("state")));
      if (checkin != null) {
        yaml.addAll(
            List.of(
                "cluster:",
                "  url: " + pg.jdbcUrl(),
                "  user: " + pg.user(),
                "  passwordFile: " + pg.passwordFile(home),
                "  checkinInterval: " + checkin.toSeconds() + "s",
                "  replica: " + id,
                "  store: " + store));
      }
      Path config = home.resolve("klp-catalog.yaml");
      Files.writeString(config, String.join("\n", yaml) + "\n");
      Path log = home.resolve("serve.log");
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-XX:+UseParallelGC",
                  "-XX:+ExitOnOutOfMemoryError",
                  "-cp",
                  classPath,
                  "org.klpcatalog.cli.Main",
                  "serve",
                  "--config",
                  config.toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      replicas.add(new Replica(id, p, port, log));
    }

    Replica replica(String id) {
      return replicas.stream().filter(r -> r.id.equals(id)).findFirst().orElseThrow();
    }

    Connection connect() throws SQLException {
      return DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
    }

    /** The replica whose reconcile job is executing, if one is. */
    Optional<String> reconciler() throws SQLException {
      try (Connection c = connect();
          Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT instance_name FROM qrtz_fired_triggers WHERE job_name = 'reconcile'"
                      + " AND state = 'EXECUTING'")) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }

    /** The running builds of a revision: job id to replica. */
    Map<String, String> running(String revision) throws SQLException {
      Map<String, String> out = new LinkedHashMap<>();
      try (Connection c = connect();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id, replica FROM klp_jobs WHERE state = 'running' AND revision = ?")) {
        ps.setString(1, revision);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), rs.getString(2));
          }
        }
      }
      return out;
    }

    /** Jobs of a revision by replica and state, with attempts and recoveries. */
    String jobSummary(String revision) throws SQLException {
      StringBuilder sb = new StringBuilder();
      try (Connection c = connect();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT replica, state, count(*), sum(attempts), sum(recovered) FROM klp_jobs"
                      + " WHERE revision = ? GROUP BY replica, state ORDER BY replica, state")) {
        ps.setString(1, revision);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sb.append(
                String.format(
                    Locale.ROOT,
                    "%s %s: %d jobs (%d attempts, %d recovered); ",
                    rs.getString(1),
                    rs.getString(2),
                    rs.getInt(3),
                    rs.getInt(4),
                    rs.getInt(5)));
          }
        }
      }
      return sb.toString().strip();
    }

    @Override
    public void close() throws Exception {
      for (Replica r : replicas) {
        r.process.destroy();
      }
      for (Replica r : replicas) {
        if (!r.process.waitFor(30, TimeUnit.SECONDS)) {
          r.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
      }
      if (pg != null) {
        pg.close();
      }
    }
  }

  /** A cache directory of a replica: its kernels, symbols, sources and prepared trees shared. */
  private Path cache(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path target = top.resolve("controller/target");
    Map<String, Path> shared = new LinkedHashMap<>();
    shared.put("kernels", target.resolve("test-kernel-cache"));
    shared.put("symbols", target.resolve("test-kernel-symbols"));
    shared.put("sources", KernelCache.defaultRoot().resolve("sources"));
    shared.put("prepared", KernelCache.defaultRoot().resolve("prepared"));
    for (Map.Entry<String, Path> e : shared.entrySet()) {
      Files.createDirectories(e.getValue());
      Path link = dir.resolve(e.getKey());
      if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, e.getValue());
      }
    }
    return dir;
  }

  private static void awaitUp(Replica r) throws Exception {
    Instant end = Instant.now().plusSeconds(180);
    while (true) {
      try {
        status(r);
        return;
      } catch (IOException e) {
        if (!r.process.isAlive() || Instant.now().isAfter(end)) {
          throw new IllegalStateException(
              "replica " + r.id + " did not start; its log: " + r.log, e);
        }
        Thread.sleep(200);
      }
    }
  }

  /** Waits until {@code commit} is applied and the repository has a current version. */
  private static void awaitApplied(Cluster c, Replica r, String commit) throws Exception {
    Instant end = Instant.now().plus(PUBLISH);
    while (true) {
      JsonNode s = status(r);
      if (commit.equals(s.path("lastAppliedRevision").asString(null))
          && Files.exists(c.repo().resolve("current"))) {
        return;
      }
      if (Instant.now().isAfter(end)) {
        throw new IllegalStateException(
            "timed out waiting for " + commit + " applied; status: " + s.toPrettyString());
      }
      for (Replica x : c.replicas) {
        if (x == r && !x.process.isAlive()) {
          throw new IllegalStateException("replica " + x.id + " died; its log: " + x.log);
        }
      }
      Thread.sleep(100);
    }
  }

  private static JsonNode status(Replica r) throws IOException {
    try (Response resp =
        HTTP.newCall(new Request.Builder().url("http://127.0.0.1:" + r.port + "/status").build())
            .execute()) {
      return MAPPER.readTree(resp.body().string());
    }
  }

  private static double metric(int port, String name) throws Exception {
    try (Response r =
        HTTP.newCall(new Request.Builder().url("http://127.0.0.1:" + port + "/metrics").build())
            .execute()) {
      Matcher m =
          Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$")
              .matcher(r.body().string());
      return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
  }

  private static void hook(int port, String commit) throws Exception {
    String body = "{\"ref\":\"refs/heads/main\",\"after\":\"" + commit + "\"}";
    String sig =
        HexFormat.of()
            .formatHex(
                WebhookReceiver.hmac(
                    SECRET.getBytes(StandardCharsets.UTF_8),
                    body.getBytes(StandardCharsets.UTF_8)));
    Request req =
        new Request.Builder()
            .url("http://127.0.0.1:" + port + "/hooks/github")
            .header("X-GitHub-Event", "push")
            .header("X-Hub-Signature-256", "sha256=" + sig)
            .post(RequestBody.create(body, MediaType.get("application/json")))
            .build();
    try (Response r = HTTP.newCall(req).execute()) {
      if (r.code() != 202) {
        throw new IllegalStateException("webhook answered " + r.code() + " " + r.body().string());
      }
    }
  }

  // ---- the machine ----

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + "/" + f[1] + "/" + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  private static String memTotal() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
      return lines
          .filter(l -> l.startsWith("MemTotal:"))
          .map(
              l ->
                  String.format(
                      Locale.ROOT, "%.1f GiB", Long.parseLong(l.replaceAll("\\D", "")) / 1048576.0))
          .findFirst()
          .orElse("?");
    } catch (IOException e) {
      return "?";
    }
  }

  private static String run(String... argv) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
