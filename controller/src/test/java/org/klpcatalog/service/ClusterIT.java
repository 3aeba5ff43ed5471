package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.publish.VersionCheck;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.source.GitFixture;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;
import org.klpcatalog.testing.Postgres;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Replicas of {@code serve}, each its own JVM, over one git daemon, one real PostgreSQL (a
 * throwaway server run as an unprivileged user), one shared repository and one shared artifact
 * store: a push is published once, the module builds are spread over the replicas, kill -9 of a
 * replica holding a build or the reconcile loses nothing, and a database outage is reported and
 * survived.
 */
class ClusterIT {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final OkHttpClient HTTP =
      new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
  private static final Path CACHE = Path.of("target/serve-test-cache").toAbsolutePath();
  private static final Duration PUBLISH = Duration.ofMinutes(15);
  private static final String PATCH = "ns-last-pid-range";

  private Postgres db;
  private GitFixture work;
  private GitFixture.Daemon daemon;
  private final List<Replica> replicas = new ArrayList<>();
  private Path dir;
  private String url;

  @BeforeAll
  static void tools() throws IOException {
    ExampleCatalogs.requireBuildTools();
    Tools.require("git");
  }

  @BeforeEach
  void setUp(@TempDir Path tmp) throws Exception {
    dir = tmp;
    db = Postgres.start();
    Git.init()
        .setBare(true)
        .setDirectory(tmp.resolve("srv/catalog.git").toFile())
        .setInitialBranch("main")
        .call()
        .close();
    work = GitFixture.create(tmp.resolve("work"));
    daemon = GitFixture.Daemon.serveWritable(tmp.resolve("srv"));
    url = daemon.url("catalog.git");
    // The throwaway signing key every replica signs with (beside the shared repository), made
    // once here rather than by three replicas at once.
    Signer.throwaway(tmp.resolve("shared/repo.signing-key"));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Replica r : replicas) {
      r.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    if (daemon != null) {
      daemon.close();
    }
    if (work != null) {
      work.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void threeReplicasPublishEachPushOnceShareTheBuildsAndSurviveADatabaseOutage() throws Exception {
    startAll("r1", "r2", "r3");
    String c1 = push(ExampleCatalogs.twoKernels(), "the sample catalog");
    JsonNode s = awaitApplied(replicas.get(0), c1);
    assertThat(s.path("repository").path("currentVersion").asString()).isEqualTo("1");
    VersionCheck.check(repo().resolve("current").toRealPath(), true, Duration.ofMinutes(2));
    // Every module was built by a farm job, on more than one replica.
    Map<String, String> builtBy = jobReplicas(c1);
    assertThat(builtBy).hasSizeGreaterThanOrEqualTo(4);
    assertThat(new TreeSet<>(builtBy.values())).as("replicas that built").hasSizeGreaterThan(1);
    assertThat(jobStates(c1)).containsOnly("done");
    // Every replica shows the same cluster-wide status, and the three replicas alive.
    for (Replica r : replicas) {
      JsonNode st = status(r);
      assertThat(st.path("lastAppliedRevision").asString()).isEqualTo(c1);
      JsonNode cluster = st.path("cluster");
      assertThat(cluster.path("replica").asString()).isEqualTo(r.id);
      assertThat(cluster.path("database").path("available").asBoolean()).isTrue();
      List<String> alive = new ArrayList<>();
      cluster
          .path("replicas")
          .forEach(
              n -> {
                if (n.path("alive").asBoolean()) {
                  alive.add(n.path("id").asString());
                }
              });
      assertThat(alive).containsExactly("r1", "r2", "r3");
      assertThat(cluster.path("jobs").path("done").asLong()).isEqualTo(builtBy.size());
      assertThat(get(r, "/metrics"))
          .contains("klp_catalog_cluster_database_up 1.0")
          .contains("klp_catalog_cluster_jobs{state=\"done\"} " + builtBy.size() + ".0")
          .contains("klp_catalog_cluster_replica_jobs{replica=\"r2\",state=\"running\"}");
    }
    // A new push is published once more: one new version, whatever the polls of three replicas.
    String c2 = push(described(ExampleCatalogs.twoKernels(), "second"), "describe it");
    awaitApplied(replicas.get(1), c2);
    Thread.sleep(8_000); // a few more polls
    assertThat(versions()).containsExactly("1", "2");
    assertThat(published()).as("one reconcile published each push").isEqualTo(2);
    // Suspending one replica suspends the cluster; resuming another resumes it.
    assertThat(post(replicas.get(0), "/suspend")).isEqualTo(200);
    for (Replica r : replicas) {
      awaitStatus(
          r, Duration.ofSeconds(30), r.id + " suspended", st -> st.path("suspended").asBoolean());
    }
    String c3 = push(described(ExampleCatalogs.twoKernels(), "third"), "while suspended");
    Thread.sleep(10_000); // three polls
    assertThat(versions()).containsExactly("1", "2");
    assertThat(post(replicas.get(2), "/resume")).isEqualTo(200);
    awaitApplied(replicas.get(1), c3);
    assertThat(versions()).containsExactly("1", "2", "3");
    for (Replica r : replicas) {
      awaitApplied(r, c3);
    }
    // The database stops: every replica says so, keeps the last good repository, and catches up
    // with what was pushed meanwhile once it is back.
    db.stop();
    String c4 = push(described(ExampleCatalogs.twoKernels(), "during the outage"), "outage");
    for (Replica r : replicas) {
      JsonNode st =
          awaitStatus(
              r,
              Duration.ofMinutes(1),
              "the outage reported",
              x -> reason(x, "Ready").equals("ClusterUnavailable"));
      assertThat(st.path("cluster").path("database").path("available").asBoolean()).isFalse();
      assertThat(st.path("lastAppliedRevision").asString())
          .as("the cluster's last status, kept through the outage")
          .isEqualTo(c3);
      assertThat(get(r, "/metrics")).contains("klp_catalog_cluster_database_up 0.0");
    }
    Thread.sleep(6_000); // two polls' worth
    assertThat(versions()).containsExactly("1", "2", "3");
    VersionCheck.check(repo().resolve("current").toRealPath(), true, Duration.ofMinutes(2));
    db.restart();
    awaitApplied(replicas.get(2), c4);
    assertThat(versions()).containsExactly("1", "2", "3", "4");
  }

  private int post(Replica r, String path) throws IOException {
    String token =
        Files.readString(dir.resolve("replicas").resolve(r.id).resolve("state/admin-token"))
            .strip();
    try (Response resp =
        HTTP.newCall(
                new Request.Builder()
                    .url("http://127.0.0.1:" + r.port + path)
                    .header("Authorization", "Bearer " + token)
                    .post(okhttp3.RequestBody.create(new byte[0]))
                    .build())
            .execute()) {
      return resp.code();
    }
  }

  @Test
  void killingTheReplicaHoldingABuildHasItRecoveredElsewhere() throws Exception {
    startAll("r1", "r2", "r3");
    String c1 = push(ExampleCatalogs.twoKernels(), "the sample catalog");
    // A build running on a replica that is not the one reconciling.
    String[] victim = new String[2];
    awaitDb(
        "a build running on a replica that does not reconcile",
        Duration.ofMinutes(5),
        () -> {
          Optional<String> reconciler = reconciler();
          for (Map.Entry<String, String> e : running(c1).entrySet()) {
            if (reconciler.isPresent() && !reconciler.get().equals(e.getValue())) {
              victim[0] = e.getKey();
              victim[1] = e.getValue();
              return true;
            }
          }
          return false;
        });
    Replica killed = replica(victim[1]);
    Instant killedAt = Instant.now();
    killed.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    Replica other = replicas.stream().filter(r -> r != killed).findFirst().orElseThrow();
    awaitApplied(other, c1);
    VersionCheck.check(repo().resolve("current").toRealPath(), true, Duration.ofMinutes(2));
    try (Connection c = connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT state, replica, recovered, started_at FROM klp_jobs WHERE id = '"
                    + victim[0]
                    + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("done");
      assertThat(rs.getString(2)).isNotEqualTo(victim[1]);
      assertThat(rs.getInt(3)).as("recovered").isEqualTo(1);
      Duration recovery = Duration.between(killedAt, rs.getTimestamp(4).toInstant());
      System.out.println(
          "recovered " + victim[0] + " " + recovery.toMillis() + " ms after kill -9");
    }
    assertThat(versions()).containsExactly("1");
  }

  @Test
  void killingTheReconcilingReplicaLetsAnotherFinishTheWork() throws Exception {
    startAll("r1", "r2", "r3");
    String c1 = push(ExampleCatalogs.twoKernels(), "the sample catalog");
    String[] holder = new String[1];
    awaitDb(
        "the reconcile waiting for builds",
        Duration.ofMinutes(5),
        () -> {
          Optional<String> r = reconciler();
          if (r.isPresent() && !running(c1).isEmpty()) {
            holder[0] = r.get();
            return true;
          }
          return false;
        });
    Replica killed = replica(holder[0]);
    killed.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    Replica other = replicas.stream().filter(r -> r != killed).findFirst().orElseThrow();
    JsonNode s = awaitApplied(other, c1);
    assertThat(s.path("cluster").path("reconciledBy").asString()).isNotEqualTo(holder[0]);
    VersionCheck.check(repo().resolve("current").toRealPath(), true, Duration.ofMinutes(2));
    assertThat(versions()).containsExactly("1");
    // The dead replica is shown as such.
    awaitStatus(
        other,
        Duration.ofMinutes(1),
        "the killed replica shown dead",
        st -> {
          for (JsonNode n : st.path("cluster").path("replicas")) {
            if (n.path("id").asString().equals(holder[0])) {
              return !n.path("alive").asBoolean();
            }
          }
          return true;
        });
  }

  // ---- the replicas ----

  /** One replica: its JVM, port and log. */
  private record Replica(String id, Process process, int port, Path log) {}

  /** Starts replicas together, and returns once each answers /status. */
  private void startAll(String... ids) throws Exception {
    for (String id : ids) {
      launch(id);
    }
    for (Replica r : replicas) {
      awaitUp(r);
    }
  }

  private void launch(String id) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path home = dir.resolve("replicas").resolve(id);
    Path cache = ExampleCatalogs.cache(home.resolve("cache"));
    Files.createDirectories(home);
    Path password = db.passwordFile(home);
    String yaml =
        String.join(
            "\n",
            "source:",
            "  url: " + url,
            "  branch: main",
            "  interval: 3s",
            "  jitter: 1s",
            "repository:",
            "  path: " + repo(),
            "  lockWait: 10m",
            "build:",
            "  jobs: 1",
            "  cache: " + cache,
            "  sourceChecks: false",
            "qa:",
            "  enabled: false",
            "server:",
            "  listen: 127.0.0.1:" + port,
            "stateDir: " + home.resolve("state"),
            "retry:",
            "  initial: 2s",
            "  max: 10s",
            "cluster:",
            "  url: " + db.jdbcUrl(),
            "  user: " + db.user(),
            "  passwordFile: " + password,
            "  checkinInterval: 2s",
            "  replica: " + id,
            "  store: " + dir.resolve("shared/store"),
            "");
    Path config = home.resolve("klp-catalog.yaml");
    Files.writeString(config, yaml);
    Path log = home.resolve("serve.log");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "org.klpcatalog.cli.Main",
                "serve",
                "--config",
                config.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    replicas.add(new Replica(id, p, port, log));
  }

  private static void awaitUp(Replica r) throws Exception {
    Instant end = Instant.now().plusSeconds(120);
    while (true) {
      try {
        status(r);
        return;
      } catch (IOException e) {
        if (!r.process.isAlive() || Instant.now().isAfter(end)) {
          throw new AssertionError(
              "replica " + r.id + " did not start:\n" + Files.readString(r.log), e);
        }
        Thread.sleep(300);
      }
    }
  }

  private Replica replica(String id) {
    return replicas.stream().filter(r -> r.id.equals(id)).findFirst().orElseThrow();
  }

  private Path repo() {
    return dir.resolve("shared/repo");
  }

  private String push(CatalogTree tree, String message) throws Exception {
    String c = work.commit(tree, message);
    work.push(url, "main", "refs/heads/main", false);
    return c;
  }

  private static CatalogTree described(CatalogTree tree, String words) {
    return CatalogEdits.edit(
        tree,
        "patches/" + PATCH + "/manifest.yaml",
        s ->
            s.replace(
                "Example fix (not an upstream commit).",
                "Example fix (not an upstream commit); " + words + "."));
  }

  private List<String> versions() throws IOException {
    Path v = repo().resolve("versions");
    if (!Files.isDirectory(v)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(v)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.matches("\\d+"))
          .sorted((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)))
          .toList();
    }
  }

  /** How many reconciles published a version, by the replicas' logs. */
  private long published() throws IOException {
    long n = 0;
    for (Replica r : replicas) {
      n += Files.readAllLines(r.log).stream().filter(l -> l.contains("published version")).count();
    }
    return n;
  }

  // ---- the database ----

  private Connection connect() throws Exception {
    return DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
  }

  /** The replica whose reconcile job is executing, if one is. */
  private Optional<String> reconciler() throws Exception {
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
  private Map<String, String> running(String revision) throws Exception {
    return query(
        "SELECT id, replica FROM klp_jobs WHERE state = 'running' AND revision = '"
            + revision
            + "'");
  }

  private Map<String, String> jobReplicas(String revision) throws Exception {
    return query("SELECT id, replica FROM klp_jobs WHERE revision = '" + revision + "'");
  }

  private Set<String> jobStates(String revision) throws Exception {
    return new TreeSet<>(
        query("SELECT id, state FROM klp_jobs WHERE revision = '" + revision + "'").values());
  }

  private Map<String, String> query(String sql) throws Exception {
    Map<String, String> out = new LinkedHashMap<>();
    try (Connection c = connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getString(2));
      }
    }
    return out;
  }

  @FunctionalInterface
  private interface Check {
    boolean holds() throws Exception;
  }

  private void awaitDb(String what, Duration timeout, Check check) throws Exception {
    Instant end = Instant.now().plus(timeout);
    while (!check.holds()) {
      if (Instant.now().isAfter(end)) {
        throw new AssertionError("timed out waiting for " + what + logs());
      }
      Thread.sleep(100);
    }
  }

  // ---- HTTP ----

  private static JsonNode status(Replica r) throws IOException {
    try (Response resp =
        HTTP.newCall(new Request.Builder().url("http://127.0.0.1:" + r.port + "/status").build())
            .execute()) {
      assertThat(resp.code()).isEqualTo(200);
      return MAPPER.readTree(resp.body().string());
    }
  }

  private static String get(Replica r, String path) throws IOException {
    try (Response resp =
        HTTP.newCall(new Request.Builder().url("http://127.0.0.1:" + r.port + path).build())
            .execute()) {
      return resp.body().string();
    }
  }

  private static String reason(JsonNode status, String type) {
    for (JsonNode c : status.path("conditions")) {
      if (c.path("type").asString().equals(type)) {
        return c.path("reason").asString();
      }
    }
    return "";
  }

  private JsonNode awaitApplied(Replica r, String revision) throws Exception {
    return awaitStatus(
        r,
        PUBLISH,
        "revision " + revision + " applied",
        s -> revision.equals(s.path("lastAppliedRevision").asString(null)));
  }

  private JsonNode awaitStatus(Replica r, Duration timeout, String what, Predicate<JsonNode> done)
      throws Exception {
    Instant end = Instant.now().plus(timeout);
    JsonNode s = status(r);
    while (!done.test(s)) {
      if (Instant.now().isAfter(end)) {
        throw new AssertionError(
            "timed out waiting for " + what + "; status: " + s.toPrettyString() + logs());
      }
      Thread.sleep(300);
      s = status(r);
    }
    return s;
  }

  private String logs() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (Replica r : replicas) {
      List<String> lines = Files.readAllLines(r.log);
      sb.append("\n--- ").append(r.id).append(" (last 40 lines)\n");
      lines
          .subList(Math.max(0, lines.size() - 40), lines.size())
          .forEach(l -> sb.append(l).append('\n'));
    }
    return sb.toString();
  }
}
