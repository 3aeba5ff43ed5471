package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.build.Progress;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.cli.ExitCodes;
import org.klpcatalog.publish.RepositoryLock;
import org.klpcatalog.service.webhook.WebhookReceiver;
import org.klpcatalog.source.GitFixture;
import org.klpcatalog.source.SshServer;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The service end to end, from the documented example configuration: real Git servers on loopback
 * (git daemon taking pushes, and sshd), real builds and publishing, the HTTP endpoints, webhooks,
 * and a forge that checks what it is sent.
 */
class ServeIT {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final OkHttpClient HTTP =
      new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
  private static final Duration FIRST_BUILD = Duration.ofMinutes(15);
  private static final Path CACHE = Path.of("target/serve-test-cache").toAbsolutePath();
  private static final String PATCH = "ns-last-pid-range";

  @BeforeAll
  static void tools() throws IOException {
    ExampleCatalogs.requireBuildTools();
    Tools.require("git");
    ExampleCatalogs.cache(CACHE);
  }

  /** The docs' example, pointed at this test's catalog, forge and directories. */
  private static ServiceConfig config(
      Path tmp, String url, String extraSource, String interval, FakeForge forge) throws Exception {
    Path file = ConfigReaderTest.exampleConfig(tmp);
    String text =
        Files.readString(file)
            .replace(
                "url: https://git.example.org/livepatch/catalog.git", "url: " + url + extraSource)
            .replace("interval: 1m ", "interval: " + interval + " ")
            .replace("jitter: 6s ", "jitter: 1s ")
            .replaceAll("(?m)^  keyId: .*\\n", "")
            // The sample catalog's fixes are written for the tests, not against the kernels'
            // sources.
            .replace("jobs: 4", "jobs: 2\n  cache: " + CACHE + "\n  sourceChecks: false")
            // QA has its own tests (QaVmIT); the service's reconcile is the same
            // Reconciler.apply.
            .replace("enabled: true          # test", "enabled: false         # test")
            .replace("listen: 127.0.0.1:8080", "listen: 127.0.0.1:0")
            .replace("type: github", "type: github\n  apiUrl: " + forge.url());
    Files.writeString(file, text);
    return ConfigReader.read(file);
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

  private static JsonNode status(int port) throws IOException {
    try (Response r =
        HTTP.newCall(new Request.Builder().url("http://127.0.0.1:" + port + "/status").build())
            .execute()) {
      assertThat(r.code()).isEqualTo(200);
      return MAPPER.readTree(r.body().string());
    }
  }

  private static JsonNode condition(JsonNode status, String type) {
    for (JsonNode c : status.path("conditions")) {
      if (c.path("type").asString().equals(type)) {
        return c;
      }
    }
    throw new AssertionError("no condition " + type + " in " + status);
  }

  private static boolean is(JsonNode status, String type, String reason) {
    JsonNode c = condition(status, type);
    return c.path("status").asString().equals("True") && c.path("reason").asString().equals(reason);
  }

  private static JsonNode await(int port, Duration timeout, String what, Predicate<JsonNode> done)
      throws Exception {
    Instant end = Instant.now().plus(timeout);
    JsonNode s = status(port);
    while (!done.test(s)) {
      if (Instant.now().isAfter(end)) {
        throw new AssertionError(
            "timed out waiting for " + what + "; status: " + s.toPrettyString());
      }
      Thread.sleep(200);
      s = status(port);
    }
    return s;
  }

  /** Waits until the service has run {@code polls} more reconciles (a poll every 2 s or so). */
  private static void awaitPolls(Service service, int polls) throws InterruptedException {
    long target = service.controller().reconciles() + polls;
    assertThat(service.controller().awaitReconciles(target, Duration.ofSeconds(60)))
        .as("%d more polls", polls)
        .isTrue();
  }

  private static String get(int port, String path) throws IOException {
    try (Response r =
        HTTP.newCall(new Request.Builder().url("http://127.0.0.1:" + port + path).build())
            .execute()) {
      return r.code() + " " + r.body().string();
    }
  }

  private static int post(int port, String path, Map<String, String> headers, String body)
      throws IOException {
    Request.Builder b =
        new Request.Builder()
            .url("http://127.0.0.1:" + port + path)
            .post(RequestBody.create(body, MediaType.get("application/json")));
    headers.forEach(b::header);
    try (Response r = HTTP.newCall(b.build()).execute()) {
      return r.code();
    }
  }

  private static String current(ServiceConfig c) throws IOException {
    return Files.readSymbolicLink(c.repository().path().resolve("current")).toString();
  }

  @Test
  void publishesEachMergeOfABranchServedByGitDaemonAndStallsOnWhatItMustNotPublish(
      @TempDir Path tmp) throws Exception {
    Git.init()
        .setBare(true)
        .setDirectory(tmp.resolve("srv/catalog.git").toFile())
        .setInitialBranch("main")
        .call()
        .close();
    try (GitFixture work = GitFixture.create(tmp.resolve("work"));
        GitFixture.Daemon daemon = GitFixture.Daemon.serveWritable(tmp.resolve("srv"));
        FakeForge forge = new FakeForge(false, "secret-forge-token", "livepatch", "catalog")) {
      String url = daemon.url("catalog.git");
      CatalogTree base = ExampleCatalogs.twoKernels();
      String c1 = work.commit(base, "the example catalog");
      work.push(url, "main", "refs/heads/main", false);
      ServiceConfig config = config(tmp, url, "", "2s", forge);
      String c2;
      String c3;
      try (Service service = Service.start(config)) {
        int port = service.port();
        // A merge is picked up on its own and published.
        JsonNode s =
            await(
                port,
                FIRST_BUILD,
                "c1 published",
                st -> c1.equals(st.path("lastAppliedRevision").asString(null)));
        assertThat(is(s, "Ready", "Published")).isTrue();
        assertThat(condition(s, "Stalled").path("status").asString()).isEqualTo("False");
        assertThat(s.path("repository").path("currentVersion").asString()).isEqualTo("1");
        assertThat(s.path("repository").path("revision").asString()).isEqualTo(c1);
        assertThat(s.path("patches"))
            .isNotEmpty()
            .allSatisfy(p -> assertThat(p.path("state").asString()).isEqualTo("published"));
        assertThat(current(config)).isEqualTo("versions/1");
        String metrics = get(port, "/metrics");
        assertThat(metrics)
            .startsWith("200 ")
            .contains("klp_catalog_reconciles_total{result=\"published\"} 1.0")
            .contains("klp_catalog_ready 1.0")
            .contains("klp_catalog_repository_version 1.0")
            .containsPattern("klp_catalog_packages_published_total [1-9]");
        assertThat(get(port, "/healthz")).isEqualTo("200 ok\n");
        CliRunner.Run human = CliRunner.run("status", "--server", "http://127.0.0.1:" + port);
        assertThat(human.exitCode()).isZero();
        assertThat(human.out())
            .contains("Ready        True  Published")
            .contains("version 1 from " + c1.substring(0, 12))
            .contains("published");
        await(port, Duration.ofSeconds(30), "forge told", st -> !forge.statuses(c1).isEmpty());

        // An invalid commit stalls: reported, nothing published, the last good version stays.
        c2 =
            work.commit(
                CatalogEdits.edit(
                    base,
                    "patches/" + PATCH + "/manifest.yaml",
                    m -> m.replace("  version: 1\n", "  version: 1\n  colour: blue\n")),
                "an invalid manifest");
        work.push(url, "main", "refs/heads/main", false);
        s =
            await(
                port,
                Duration.ofMinutes(2),
                "c2 stalled",
                st -> is(st, "Stalled", "ValidationFailed"));
        assertThat(s.path("lastAttemptedRevision").asString()).isEqualTo(c2);
        assertThat(s.path("lastAppliedRevision").asString()).isEqualTo(c1);
        assertThat(condition(s, "Ready").path("status").asString()).isEqualTo("False");
        assertThat(condition(s, "Stalled").path("message").asString())
            .contains("colour")
            .contains("manifest.yaml");
        assertThat(current(config)).isEqualTo("versions/1");
        assertThat(get(port, "/metrics")).contains("klp_catalog_stalled 1.0");
        CliRunner.Run stalled = CliRunner.run("status", "--server", "http://127.0.0.1:" + port);
        assertThat(stalled.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(stalled.out()).contains("Stalled      True  ValidationFailed");
        // Stalled means no retries: polls of the same commit leave it alone.
        awaitPolls(service, 2);
        assertThat(get(port, "/metrics"))
            .contains("klp_catalog_reconciles_total{result=\"stalled\"} 1.0");

        // Suspended, a fix is not picked up; resumed, it is. Both need the admin token, which the
        // client finds through the service's configuration.
        assertThat(post(port, "/suspend", Map.of(), "")).isEqualTo(401);
        CliRunner.Run suspend =
            CliRunner.run(
                "suspend",
                "--server",
                "http://127.0.0.1:" + port,
                "--config",
                config.file().toString());
        assertThat(suspend.exitCode()).isZero();
        assertThat(suspend.out()).isEqualTo("suspended\n");
        c3 =
            work.commit(
                described(base, "fixed"), "fix the manifest, and describe the patch better");
        work.push(url, "main", "refs/heads/main", false);
        awaitPolls(service, 2);
        s = status(port);
        assertThat(s.path("suspended").asBoolean()).isTrue();
        assertThat(s.path("lastAttemptedRevision").asString()).isEqualTo(c2);
        assertThat(post(port, "/resume", Map.of(), "")).isEqualTo(401);
        assertThat(
                post(
                    port,
                    "/resume",
                    Map.of("Authorization", "Bearer " + config.server().adminToken().orElseThrow()),
                    ""))
            .isEqualTo(200);
        s =
            await(
                port,
                Duration.ofMinutes(5),
                "c3 published",
                st -> c3.equals(st.path("lastAppliedRevision").asString(null)));
        assertThat(is(s, "Ready", "Published")).isTrue();
        assertThat(s.path("repository").path("currentVersion").asString()).isEqualTo("2");
        assertThat(current(config)).isEqualTo("versions/2");

        // A force-push is refused.
        work.resetHard(c1);
        String c4 = work.commit(described(base, "rewritten"), "rewritten history");
        work.push(url, "main", "refs/heads/main", true);
        s =
            await(
                port,
                Duration.ofMinutes(2),
                "c4 refused",
                st -> is(st, "Stalled", "HistoryRewritten"));
        assertThat(s.path("lastAttemptedRevision").asString()).isEqualTo(c4);
        assertThat(condition(s, "Stalled").path("message").asString())
            .contains(c3.substring(0, 12));
        assertThat(current(config)).isEqualTo("versions/2");
      }
      // Restarted, the service still knows what it accepted: the rewrite stays refused.
      try (Service again = Service.start(config)) {
        JsonNode s =
            await(
                again.port(),
                Duration.ofMinutes(1),
                "refused again",
                st -> is(st, "Stalled", "HistoryRewritten"));
        assertThat(s.path("lastAppliedRevision").asString()).isEqualTo(c3);
      }
      assertThat(forge.violations()).isEmpty();
      assertThat(forge.statuses(c2))
          .last()
          .satisfies(b -> assertThat(b.path("state").asString()).isEqualTo("failure"));
      assertThat(forge.statuses(c3))
          .last()
          .satisfies(b -> assertThat(b.path("state").asString()).isEqualTo("success"));
    }
  }

  @Test
  void reactsToWebhooksOverSshAndChecksPullRequests(@TempDir Path tmp) throws Exception {
    Path bare = tmp.resolve("srv/catalog.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    String push = bare.toUri().toString();
    try (GitFixture work = GitFixture.create(tmp.resolve("work"));
        SshServer sshd = SshServer.start(tmp.resolve("sshd"));
        FakeForge forge = new FakeForge(false, "secret-forge-token", "livepatch", "catalog")) {
      CatalogTree base = ExampleCatalogs.twoKernels();
      String c1 = work.commit(base, "the example catalog");
      work.push(push, "main", "refs/heads/main", false);
      String ssh = "\n  sshKey: " + sshd.userKey() + "\n  knownHosts: " + sshd.knownHosts();
      // Polling once an hour: only the first poll and webhooks make anything happen.
      ServiceConfig config = config(tmp, sshd.url(bare), ssh, "1h", forge);
      try (Service service = Service.start(config)) {
        int port = service.port();
        await(
            port,
            FIRST_BUILD,
            "c1 published",
            st -> c1.equals(st.path("lastAppliedRevision").asString(null)));

        // A signed push webhook makes the service fetch at once.
        String c2 = work.commit(described(base, "webhook"), "describe the patch better");
        work.push(push, "main", "refs/heads/main", false);
        String body = WebhookReceiverTest.push("refs/heads/main", c2);
        String secret = "secret-webhook-secret";
        Map<String, String> signed =
            Map.of("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=" + sign(secret, body));
        assertThat(post(port, "/hooks/github", signed, body)).isEqualTo(202);
        JsonNode s =
            await(
                port,
                Duration.ofMinutes(5),
                "c2 published",
                st -> c2.equals(st.path("lastAppliedRevision").asString(null)));
        assertThat(s.path("repository").path("currentVersion").asString()).isEqualTo("2");
        // Forged and replayed deliveries are refused; pushes to other branches are ignored.
        assertThat(
                post(
                    port,
                    "/hooks/github",
                    Map.of(
                        "X-GitHub-Event",
                        "push",
                        "X-Hub-Signature-256",
                        "sha256=" + sign("guess", body)),
                    body))
            .isEqualTo(401);
        assertThat(post(port, "/hooks/github", signed, body)).isEqualTo(401);
        String other = WebhookReceiverTest.push("refs/heads/feature", c2);
        assertThat(
                post(
                    port,
                    "/hooks/github",
                    Map.of(
                        "X-GitHub-Event",
                        "push",
                        "X-Hub-Signature-256",
                        "sha256=" + sign(secret, other)),
                    other))
            .isEqualTo(202);
        assertThat(post(port, "/hooks/gitea", signed, body)).isEqualTo(401);
        assertThat(get(port, "/metrics"))
            .contains("klp_catalog_webhooks_total{provider=\"github\",result=\"refused\"} 2.0")
            .contains("klp_catalog_webhooks_total{provider=\"github\",result=\"accepted\"} 2.0");

        // A pull request: its head is checked, and what merging it publishes is commented.
        String pr1 = work.commit(described(base, "in a pull request"), "a pull request");
        work.push(push, pr1, "refs/pull/9/head", false);
        String opened = pullRequest("opened", 9, pr1);
        assertThat(
                post(
                    port,
                    "/hooks/github",
                    Map.of(
                        "X-GitHub-Event",
                        "pull_request",
                        "X-Hub-Signature-256",
                        "sha256=" + sign(secret, opened)),
                    opened))
            .isEqualTo(202);
        await(port, Duration.ofMinutes(2), "pr checked", st -> forge.comments(9).size() == 1);
        assertThat(forge.comments(9).get(0))
            .startsWith(PlanComment.MARKER)
            .contains("what merging publishes")
            .contains("~ rebuild   kpatch-" + PATCH + "-1-3");
        await(port, Duration.ofSeconds(30), "pr status", st -> forge.statuses(pr1).size() == 2);
        assertThat(forge.statuses(pr1).get(0).path("state").asString()).isEqualTo("pending");
        assertThat(forge.statuses(pr1).get(1).path("state").asString()).isEqualTo("success");
        // Pushed to again, now invalid (two patches own one function): the same comment, updated.
        String pr2 =
            work.commit(CatalogEdits.copyPatch(base, PATCH, "ns-last-pid-copy", m -> m), "a copy");
        work.push(push, pr2, "refs/pull/9/head", true);
        String sync = pullRequest("synchronize", 9, pr2);
        assertThat(
                post(
                    port,
                    "/hooks/github",
                    Map.of(
                        "X-GitHub-Event",
                        "pull_request",
                        "X-Hub-Signature-256",
                        "sha256=" + sign(secret, sync)),
                    sync))
            .isEqualTo(202);
        await(
            port,
            Duration.ofMinutes(2),
            "pr re-checked",
            st -> forge.comments(9).get(0).contains(pr2.substring(0, 12)));
        assertThat(forge.comments(9))
            .singleElement()
            .asString()
            .contains("invalid catalog")
            .contains("ns-last-pid-copy");
        await(port, Duration.ofSeconds(30), "pr2 status", st -> forge.statuses(pr2).size() == 2);
        assertThat(forge.statuses(pr2).get(1).path("state").asString()).isEqualTo("failure");
        // Nothing of the pull request was published.
        assertThat(status(port).path("lastAppliedRevision").asString()).isEqualTo(c2);
        assertThat(current(config)).isEqualTo("versions/2");
      }
      assertThat(forge.violations()).isEmpty();
    }
  }

  @Test
  void stoppingDuringABuildInterruptsItAndPublishesNothingHalfDone(@TempDir Path tmp)
      throws Exception {
    Path srv = tmp.resolve("srv/catalog.git");
    Git.init().setBare(true).setDirectory(srv.toFile()).setInitialBranch("main").call().close();
    try (GitFixture work = GitFixture.create(tmp.resolve("work"));
        FakeForge forge = new FakeForge(false, "secret-forge-token", "livepatch", "catalog")) {
      work.commit(
          described(ExampleCatalogs.twoKernels(), "stopped " + System.nanoTime()),
          "a change to build");
      work.push(srv.toUri().toString(), "main", "refs/heads/main", false);
      // A build cache of its own: the modules of this change are built for real, not found.
      Path cache = ExampleCatalogs.cache(tmp.resolve("cache"));
      Path file = ConfigReaderTest.exampleConfig(tmp);
      ServiceConfig config = config(tmp, srv.toString(), "", "1h", forge);
      Files.writeString(file, Files.readString(file).replace("cache: " + CACHE, "cache: " + cache));
      config = ConfigReader.read(file);
      Service service = Service.start(config);
      Instant end = Instant.now().plus(FIRST_BUILD);
      while (service.controller().phase().orElse(null) != Progress.Phase.BUILD) {
        assertThat(Instant.now()).as("the build starts").isBefore(end);
        Thread.sleep(20);
      }
      Instant stop = Instant.now();
      service.close();
      assertThat(Duration.between(stop, Instant.now()))
          .as("a build does not hold up stopping")
          .isLessThan(Duration.ofSeconds(30));
      assertThat(config.repository().path().resolve("current")).doesNotExist();
      // The lock was let go: another reconcile can take it at once.
      try (var lock = RepositoryLock.acquire(config.repository().path(), Duration.ZERO)) {
        assertThat(lock).isNotNull();
      }
    }
  }

  private static String pullRequest(String action, int number, String head) {
    return "{\"action\":\""
        + action
        + "\",\"number\":"
        + number
        + ",\"pull_request\":{\"head\":{\"sha\":\""
        + head
        + "\"},\"base\":{\"ref\":\"main\"},\"merged\":false}}";
  }

  private static String sign(String secret, String body) {
    return HexFormat.of()
        .formatHex(
            WebhookReceiver.hmac(
                secret.getBytes(StandardCharsets.UTF_8), body.getBytes(StandardCharsets.UTF_8)));
  }
}
