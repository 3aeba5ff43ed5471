package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.klpcatalog.service.forge.ForgeClient;
import org.klpcatalog.service.forge.ForgeConfig;
import org.klpcatalog.service.forge.ForgeException;

class ForgeClientTest {
  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  private final List<Duration> slept = new ArrayList<>();

  private ForgeClient client(FakeForge forge, ForgeConfig.Kind kind) {
    return new ForgeClient(
        new ForgeConfig(kind, forge.url(), "lp", "catalog", "s3cret", "klp-catalog"),
        4,
        Duration.ofSeconds(1),
        Duration.ofSeconds(60),
        slept::add);
  }

  @Test
  void postsACommitStatusAsGitHubDocumentsIt() throws Exception {
    try (FakeForge gh = new FakeForge(false, "s3cret", "lp", "catalog")) {
      client(gh, ForgeConfig.Kind.github)
          .status(
              SHA,
              ForgeClient.State.success,
              "x".repeat(300),
              Optional.of("https://lp.example.org/status"));
      assertThat(gh.violations()).isEmpty();
      assertThat(gh.statuses(SHA)).hasSize(1);
      var body = gh.statuses(SHA).get(0);
      assertThat(body.path("state").asString()).isEqualTo("success");
      assertThat(body.path("context").asString()).isEqualTo("klp-catalog");
      assertThat(body.path("description").asString()).hasSize(140).endsWith("…");
      assertThat(body.path("target_url").asString()).isEqualTo("https://lp.example.org/status");
    }
  }

  @Test
  void giteaGetsItsPathPrefixAndTokenScheme() throws Exception {
    try (FakeForge gitea = new FakeForge(true, "s3cret", "lp", "catalog")) {
      ForgeClient c = client(gitea, ForgeConfig.Kind.gitea);
      c.status(SHA, ForgeClient.State.failure, "invalid", Optional.empty());
      c.upsertComment(3, PlanComment.MARKER, PlanComment.MARKER + "\nfirst");
      c.upsertComment(3, PlanComment.MARKER, PlanComment.MARKER + "\nsecond");
      assertThat(gitea.violations()).isEmpty();
      assertThat(gitea.requests())
          .allSatisfy(r -> assertThat(r.path()).startsWith("/api/v1/repos/lp/catalog/"));
      assertThat(gitea.comments(3)).containsExactly(PlanComment.MARKER + "\nsecond");
    }
  }

  @Test
  void updatesItsOwnCommentInPlaceAndLeavesOthersAlone() throws Exception {
    try (FakeForge gh = new FakeForge(false, "s3cret", "lp", "catalog")) {
      ForgeClient c = client(gh, ForgeConfig.Kind.github);
      c.upsertComment(7, "<!-- other-bot -->", "<!-- other-bot -->\nsomeone else's");
      c.upsertComment(7, PlanComment.MARKER, PlanComment.MARKER + "\nplan for aaaa");
      c.upsertComment(7, PlanComment.MARKER, PlanComment.MARKER + "\nplan for bbbb");
      c.upsertComment(8, PlanComment.MARKER, PlanComment.MARKER + "\nanother pull request");
      assertThat(gh.violations()).isEmpty();
      assertThat(gh.comments(7))
          .containsExactly(
              "<!-- other-bot -->\nsomeone else's", PlanComment.MARKER + "\nplan for bbbb");
      assertThat(gh.comments(8)).hasSize(1);
      assertThat(gh.requests()).filteredOn(r -> r.method().equals("PATCH")).hasSize(1);
    }
  }

  @Test
  void retriesServerErrorsWithGrowingWaits() throws Exception {
    try (FakeForge gh = new FakeForge(false, "s3cret", "lp", "catalog")) {
      gh.enqueue(new FakeForge.Canned(502, Map.of(), "{}"));
      gh.enqueue(new FakeForge.Canned(503, Map.of(), "{}"));
      client(gh, ForgeConfig.Kind.github)
          .status(SHA, ForgeClient.State.pending, "checking", Optional.empty());
      assertThat(gh.requests()).hasSize(3);
      assertThat(slept).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2));
      assertThat(gh.violations()).isEmpty();
    }
  }

  @Test
  void waitsForTheRateLimitResetWhenItIsNear() throws Exception {
    try (FakeForge gh = new FakeForge(false, "s3cret", "lp", "catalog")) {
      long reset = System.currentTimeMillis() / 1000 + 20;
      gh.enqueue(
          new FakeForge.Canned(
              403,
              Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset", String.valueOf(reset)),
              "{\"message\":\"API rate limit exceeded\"}"));
      gh.enqueue(new FakeForge.Canned(429, Map.of("Retry-After", "7"), "{}"));
      client(gh, ForgeConfig.Kind.github)
          .status(SHA, ForgeClient.State.success, "ok", Optional.empty());
      assertThat(slept).hasSize(2);
      assertThat(slept.get(0)).isBetween(Duration.ofSeconds(18), Duration.ofSeconds(21));
      assertThat(slept.get(1)).isEqualTo(Duration.ofSeconds(7));
      assertThat(gh.statuses(SHA)).hasSize(3);
    }
  }

  @Test
  void givesUpAtOnceOnAFarRateLimitAndOnClientErrors() throws Exception {
    try (FakeForge gh = new FakeForge(false, "s3cret", "lp", "catalog")) {
      gh.enqueue(
          new FakeForge.Canned(
              403,
              Map.of(
                  "x-ratelimit-remaining",
                  "0",
                  "x-ratelimit-reset",
                  String.valueOf(System.currentTimeMillis() / 1000 + 3600)),
              "{}"));
      ForgeClient c = client(gh, ForgeConfig.Kind.github);
      assertThatThrownBy(() -> c.status(SHA, ForgeClient.State.success, "ok", Optional.empty()))
          .isInstanceOf(ForgeException.class)
          .hasMessageContaining("rate limited");
      gh.enqueue(new FakeForge.Canned(422, Map.of(), "{\"message\":\"Validation Failed\"}"));
      assertThatThrownBy(() -> c.status(SHA, ForgeClient.State.success, "ok", Optional.empty()))
          .isInstanceOf(ForgeException.class)
          .hasMessageContaining("HTTP 422")
          .hasMessageContaining("Validation Failed");
      assertThat(slept).isEmpty();
    }
  }

  @Test
  void aWrongTokenIsRefusedByTheForgeAndReported() throws Exception {
    try (FakeForge gh = new FakeForge(false, "the-real-token", "lp", "catalog")) {
      ForgeClient c = client(gh, ForgeConfig.Kind.github);
      assertThatThrownBy(() -> c.status(SHA, ForgeClient.State.success, "ok", Optional.empty()))
          .isInstanceOf(ForgeException.class)
          .hasMessageContaining("HTTP 401");
    }
  }
}
