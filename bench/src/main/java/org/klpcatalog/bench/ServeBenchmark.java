package org.klpcatalog.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.eclipse.jgit.api.Git;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.repo.FixturePublisher;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.service.ConfigReader;
import org.klpcatalog.service.Service;
import org.klpcatalog.service.webhook.WebhookReceiver;
import org.klpcatalog.source.GitFixture;
import org.klpcatalog.source.GitOptions;
import org.klpcatalog.source.GitSource;

/**
 * The service's figures. Part 1, latency: a one-patch change to the example catalog is pushed to a
 * git daemon and announced with a signed webhook; the time until the repository's new version is
 * current, against the build step inside it (the floor: what any controller must spend). Part 2,
 * the CPU an idle service spends polling an unchanged 10,000-patch catalog every 30 s (its
 * repository in sync), against `git fetch` of the same unchanged branch.
 *
 * <p>Usage: ServeBenchmark [--work DIR] [--runs R] [--polls P] [--patches N] [latency|idle]
 */
public final class ServeBenchmark {
  private static final OkHttpClient HTTP =
      new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
  private static final String SECRET = "bench-webhook-secret";

  public static void main(String[] args) throws Exception {
    Path work = Path.of("/tmp/klp-bench-serve");
    int runs = 5;
    int polls = 8;
    int patches = 10_000;
    String which = "all";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--work" -> work = Path.of(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--polls" -> polls = Integer.parseInt(args[++i]);
        case "--patches" -> patches = Integer.parseInt(args[++i]);
        case "latency", "idle" -> which = args[i];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Files.createDirectories(work);
    if (!which.equals("idle")) {
      latency(work.resolve("latency"), runs);
    }
    if (!which.equals("latency")) {
      idle(work.resolve("idle"), patches, polls);
    }
    System.exit(0);
  }

  private static Path config(Path dir, String url, String interval, Path cache, boolean unsigned)
      throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("webhook-secret"), SECRET);
    Path f = dir.resolve("klp-catalog.yaml");
    Files.writeString(
        f,
        "source:\n  url: "
            + url
            + "\n  interval: "
            + interval
            + "\n  jitter: 1s\n"
            + "repository:\n  path: repo\nqa:\n  enabled: false\n"
            + (unsigned ? "signing:\n  unsigned: true\n" : "")
            + "build:\n  jobs: 2\n  cache: "
            + cache
            + "\n"
            + "server:\n"
            + "  listen: 127.0.0.1:0\n"
            + "webhooks:\n"
            + "  github:\n"
            + "    secretFile: webhook-secret\n"
            + "stateDir: state\n"
            + "log:\n"
            + "  level: warn\n");
    return f;
  }

  static void latency(Path work, int runs) throws Exception {
    FileTrees.deleteRecursively(work.resolve("srv"));
    FileTrees.deleteRecursively(work.resolve("work"));
    FileTrees.deleteRecursively(work.resolve("service"));
    Path bare = work.resolve("srv/catalog.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    Path cache = work.resolve("cache");
    Files.createDirectories(cache);
    try (GitFixture repo = GitFixture.create(work.resolve("work"));
        GitFixture.Daemon daemon = GitFixture.Daemon.serveWritable(work.resolve("srv"))) {
      String url = daemon.url("catalog.git");
      repo.commit(
          new DirectoryTreeReader().read(Path.of("controller/src/test/resources/sample-catalog")),
          "the example catalog");
      repo.push(url, "main", "refs/heads/main", false);
      Path config = config(work.resolve("service"), url, "1h", cache, false);
      try (Service service = Service.start(ConfigReader.read(config))) {
        int port = service.port();
        long t = System.nanoTime();
        awaitApplied(port, head(repo));
        System.out.printf(
            Locale.ROOT,
            "example catalog first published (the warm-up; modules built or cached): %.1f s%n",
            (System.nanoTime() - t) / 1e9);
        System.out.println(
            "one-patch change (ns-last-pid-range/livepatch.c: 4 modules rebuilt, 1 package), push +"
                + " webhook -> new version current:");
        System.out.printf(
            Locale.ROOT,
            "  %-4s %9s %9s %9s %9s %12s%n",
            "run",
            "latency s",
            "build s",
            "publish s",
            "other s",
            "latency/build");
        List<double[]> rows = new ArrayList<>();
        for (int r = 1; r <= runs; r++) {
          Path src = repo.dir().resolve("patches/ns-last-pid-range/livepatch.c");
          Files.writeString(
              src,
              Files.readString(src, StandardCharsets.UTF_8)
                  + "/* bench change "
                  + System.nanoTime()
                  + " */\n",
              StandardCharsets.UTF_8);
          repo.git().add().addFilepattern(".").call();
          String commit =
              repo.git().commit().setMessage("change " + r).setSign(false).call().name();
          repo.push(url, "main", "refs/heads/main", false);
          double build0 = metric(port, "klp_catalog_build_duration_seconds_sum");
          double publish0 = metric(port, "klp_catalog_publish_duration_seconds_sum");
          long t0 = System.nanoTime();
          String body = "{\"ref\":\"refs/heads/main\",\"after\":\"" + commit + "\"}";
          hook(port, body);
          awaitApplied(port, commit);
          double latency = (System.nanoTime() - t0) / 1e9;
          double build = metric(port, "klp_catalog_build_duration_seconds_sum") - build0;
          double publish = metric(port, "klp_catalog_publish_duration_seconds_sum") - publish0;
          rows.add(new double[] {latency, build, publish, latency - build - publish});
          System.out.printf(
              Locale.ROOT,
              "  %-4d %9.2f %9.2f %9.2f %9.2f %12.2f%n",
              r,
              latency,
              build,
              publish,
              latency - build - publish,
              latency / build);
        }
        double[] med = new double[4];
        for (int k = 0; k < 4; k++) {
          final int col = k;
          med[k] = Stats.median(rows.stream().map(x -> x[col]).toList());
        }
        System.out.printf(
            Locale.ROOT,
            "  median: latency %.2f s, build %.2f s, publish %.2f s, other %.2f s;"
                + " controller overhead (latency - build) %.2f s; latency/build %.2f%n",
            med[0],
            med[1],
            med[2],
            med[3],
            med[0] - med[1],
            med[0] / med[1]);
      }
    }
  }

  static void idle(Path work, int patches, int polls) throws Exception {
    Path catalog = work.resolve("catalog-" + patches);
    Path bare = work.resolve("srv/catalog.git");
    if (!Files.exists(bare.resolve("HEAD"))) {
      FileTrees.deleteRecursively(catalog);
      new SyntheticCatalog(patches, 20, 42).write(catalog);
      try (Git g = Git.init().setDirectory(catalog.toFile()).setInitialBranch("main").call()) {
        g.add().addFilepattern(".").call();
        g.commit().setMessage("synthetic").setSign(false).call();
      }
      Git.cloneRepository()
          .setBare(true)
          .setURI(catalog.toUri().toString())
          .setDirectory(bare.toFile())
          .call()
          .close();
    }
    Path repo = work.resolve("service/repo");
    try (GitFixture.Daemon daemon = GitFixture.Daemon.serve(work.resolve("srv"))) {
      String url = daemon.url("catalog.git");
      if (!Files.exists(repo.resolve("current"))) {
        // The repository in sync with the catalog, as the service computes it, with stub packages.
        long t0 = System.nanoTime();
        try (GitSource src =
            GitSource.mirror(url, GitOptions.defaults().withCacheDir(work.resolve("prep")))) {
          String head = src.fetchBranch("main");
          CatalogRevision rev = new CatalogReader(new CatalogValidator()).readCommit(src, head);
          DesiredStateBuilder.Result d =
              DesiredStateBuilder.build(
                  rev.report(), rev.tree(), rev.historyLedger().orElseThrow(), rev.commit());
          FixturePublisher.publish(d.state(), d.ledger(), repo, "1");
          System.out.printf(
              Locale.ROOT,
              "published %d stub packages in sync with the catalog (%.0f s)%n",
              d.state().packages().size(),
              (System.nanoTime() - t0) / 1e9);
        }
      }
      FileTrees.deleteRecursively(work.resolve("service/state"));
      Path config = config(work.resolve("service"), url, "30s", work.resolve("cache"), true);
      var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      try (Service service = Service.start(ConfigReader.read(config))) {
        int port = service.port();
        long t0 = System.nanoTime();
        while (!status(port).contains("\"reason\" : \"InSync\"")) {
          Thread.sleep(100);
        }
        System.out.printf(
            Locale.ROOT,
            "%d-patch catalog: first reconcile (plan, nothing to do): %.1f s%n",
            patches,
            (System.nanoTime() - t0) / 1e9);
        // The second poll also warms up; measure from the third.
        double fetches = metric(port, "klp_catalog_fetches_total");
        while (metric(port, "klp_catalog_fetches_total") < fetches + 1) {
          Thread.sleep(200);
        }
        // Nothing but the service runs in this process while it is measured: no HTTP requests.
        var threads = ManagementFactory.getThreadMXBean();
        long worker0 = reconcilerCpu(threads);
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        double f0 = metric(port, "klp_catalog_fetches_total");
        Thread.sleep(polls * 30_000L + 500);
        long cpu = os.getProcessCpuTime() - cpu0;
        long worker = reconcilerCpu(threads) - worker0;
        double wall = (System.nanoTime() - wall0) / 1e9;
        double done = metric(port, "klp_catalog_fetches_total") - f0;
        System.out.printf(
            Locale.ROOT,
            "idle, polling every 30 s: %.0f polls in %.0f s; process CPU %.0f ms in all = %.1f ms"
                + " per poll (everything: the JVM's own threads, the scheduler, GC); the reconcile"
                + " thread alone %.1f ms per poll (fetch, compare, skip)%n",
            done,
            wall,
            cpu / 1e6,
            cpu / 1e6 / done,
            worker / 1e6 / done);
      }
      // The floor: git fetching the same unchanged branch into an up-to-date mirror.
      Path mirror = work.resolve("git-mirror.git");
      if (!Files.exists(mirror)) {
        Command.of("git", "clone", "--quiet", "--mirror", url, mirror.toString()).check();
      }
      List<Double> git = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        String out =
            Command.of("bash", "-c", "git -C '" + mirror + "' fetch --quiet origin main; times")
                .check();
        Matcher m =
            Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$").matcher(out.strip());
        if (m.find()) {
          git.add(
              (Integer.parseInt(m.group(1)) * 60
                      + Double.parseDouble(m.group(2))
                      + Integer.parseInt(m.group(3)) * 60
                      + Double.parseDouble(m.group(4)))
                  * 1000);
        }
      }
      System.out.printf(
          Locale.ROOT,
          "floor: git fetch of the unchanged branch, median CPU %.1f ms (of %d runs)%n",
          Stats.median(git),
          git.size());
    }
  }

  /** CPU time of the service's reconcile thread so far. */
  private static long reconcilerCpu(ThreadMXBean threads) {
    for (long id : threads.getAllThreadIds()) {
      var info = threads.getThreadInfo(id);
      if (info != null && info.getThreadName().equals("reconciler")) {
        return threads.getThreadCpuTime(id);
      }
    }
    return 0;
  }

  private static String head(GitFixture repo) throws Exception {
    return repo.git().getRepository().resolve("HEAD").name();
  }

  private static String status(int port) throws Exception {
    try (Response r =
        HTTP.newCall(new Request.Builder().url("http://127.0.0.1:" + port + "/status").build())
            .execute()) {
      return r.body().string();
    }
  }

  private static void awaitApplied(int port, String commit) throws Exception {
    while (!status(port).contains("\"lastAppliedRevision\" : \"" + commit + "\"")) {
      if (status(port).contains("\"status\" : \"True\",\n    \"reason\" : \"ValidationFailed\"")) {
        throw new IllegalStateException("stalled: " + status(port));
      }
      Thread.sleep(20);
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

  private static void hook(int port, String body) throws Exception {
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
}
