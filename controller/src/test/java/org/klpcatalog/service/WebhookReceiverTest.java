package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.klpcatalog.service.webhook.WebhookEvent;
import org.klpcatalog.service.webhook.WebhookReceiver;

class WebhookReceiverTest {
  private static final String AFTER = "1111111111111111111111111111111111111111";
  private static final String HEAD = "2222222222222222222222222222222222222222";
  private static final String JSON = "application/json";

  private final WebhookReceiver receiver =
      new WebhookReceiver(
          Map.of("github", "gh-secret", "gitea", "gitea-secret", "gitlab", "gl-token"),
          Clock.fixed(Instant.parse("2026-11-22T00:00:00Z"), ZoneOffset.UTC));

  static String sign(String secret, String body) {
    return HexFormat.of()
        .formatHex(
            WebhookReceiver.hmac(
                secret.getBytes(StandardCharsets.UTF_8), body.getBytes(StandardCharsets.UTF_8)));
  }

  static String push(String ref, String after) {
    return "{\"ref\":\""
        + ref
        + "\",\"before\":\""
        + "0".repeat(40)
        + "\",\"after\":\""
        + after
        + "\",\"repository\":{\"full_name\":\"lp/catalog\"}}";
  }

  private static Map<String, String> headers(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private WebhookReceiver.Verdict github(String event, String body, String signature) {
    return receiver.receive(
        "github",
        headers(
            "x-github-event", event, "x-hub-signature-256", signature, "x-github-delivery", "d-1"),
        JSON,
        body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aSignedGitHubPushIsAccepted() {
    String body = push("refs/heads/main", AFTER);
    WebhookReceiver.Verdict v = github("push", body, "sha256=" + sign("gh-secret", body));
    assertThat(v.status()).isEqualTo(202);
    assertThat(v.event()).contains(new WebhookEvent.Push("refs/heads/main", AFTER));
  }

  @Test
  void aForgedOrMissingSignatureIsRefusedWith401() {
    String body = push("refs/heads/main", AFTER);
    assertThat(github("push", body, "sha256=" + sign("not-the-secret", body)).status())
        .isEqualTo(401);
    assertThat(github("push", body, "sha256=" + sign("gh-secret", body + " ")).status())
        .isEqualTo(401);
    assertThat(github("push", body, "sha1=" + sign("gh-secret", body)).status()).isEqualTo(401);
    assertThat(github("push", body, "sha256=zz").status()).isEqualTo(401);
    WebhookReceiver.Verdict unsigned =
        receiver.receive(
            "github",
            headers("x-github-event", "push"),
            JSON,
            body.getBytes(StandardCharsets.UTF_8));
    assertThat(unsigned.status()).isEqualTo(401);
    assertThat(unsigned.message()).contains("not signed");
    // Refused deliveries are not remembered: the genuine one still goes through.
    assertThat(github("push", body, "sha256=" + sign("gh-secret", body)).status()).isEqualTo(202);
  }

  @Test
  void aReplayedDeliveryIsRefused() {
    String body = push("refs/heads/main", AFTER);
    String sig = "sha256=" + sign("gh-secret", body);
    assertThat(github("push", body, sig).status()).isEqualTo(202);
    WebhookReceiver.Verdict replay = github("push", body, sig);
    assertThat(replay.status()).isEqualTo(401);
    assertThat(replay.message()).contains("replayed");
    // The same payload under another delivery id is the same replay.
    assertThat(
            receiver
                .receive(
                    "github",
                    headers(
                        "x-github-event",
                        "push",
                        "x-hub-signature-256",
                        sig,
                        "x-github-delivery",
                        "d-2"),
                    JSON,
                    body.getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(401);
  }

  @Test
  void giteaAndGitLabAreVerifiedTheirWay() {
    String body = push("refs/heads/main", AFTER);
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    assertThat(
            receiver
                .receive(
                    "gitea",
                    headers(
                        "x-gitea-event", "push", "x-gitea-signature", sign("gitea-secret", body)),
                    JSON,
                    b)
                .status())
        .isEqualTo(202);
    assertThat(
            receiver
                .receive(
                    "gitea",
                    headers("x-gitea-event", "push", "x-gitea-signature", sign("gh-secret", body)),
                    JSON,
                    b)
                .status())
        .isEqualTo(401);
    assertThat(
            receiver
                .receive(
                    "gitlab",
                    headers("x-gitlab-event", "Push Hook", "x-gitlab-token", "gl-token"),
                    JSON,
                    b)
                .event())
        .contains(new WebhookEvent.Push("refs/heads/main", AFTER));
    String other = push("refs/heads/main", HEAD);
    assertThat(
            receiver
                .receive(
                    "gitlab",
                    headers("x-gitlab-event", "Push Hook", "x-gitlab-token", "gl-tokeN"),
                    JSON,
                    other.getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(401);
  }

  @Test
  void pullRequestEventsMapToOneVocabulary() {
    String opened =
        "{\"action\":\"opened\",\"number\":12,\"pull_request\":{\"head\":{\"sha\":\""
            + HEAD
            + "\"},\"base\":{\"ref\":\"main\"},\"merged\":false}}";
    assertThat(github("pull_request", opened, "sha256=" + sign("gh-secret", opened)).event())
        .contains(
            new WebhookEvent.PullRequest(
                12, WebhookEvent.PullRequest.Action.OPENED, HEAD, "refs/heads/main"));
    String merged =
        opened.replace("\"opened\"", "\"closed\"").replace("\"merged\":false", "\"merged\":true");
    assertThat(
            github("pull_request", merged, "sha256=" + sign("gh-secret", merged))
                .event()
                .orElseThrow())
        .isEqualTo(
            new WebhookEvent.PullRequest(
                12, WebhookEvent.PullRequest.Action.MERGED, HEAD, "refs/heads/main"));
    String sync = opened.replace("\"opened\"", "\"synchronized\"");
    assertThat(
            receiver
                .receive(
                    "gitea",
                    headers(
                        "x-gitea-event",
                        "pull_request",
                        "x-gitea-signature",
                        sign("gitea-secret", sync)),
                    JSON,
                    sync.getBytes(StandardCharsets.UTF_8))
                .event()
                .orElseThrow())
        .isEqualTo(
            new WebhookEvent.PullRequest(
                12, WebhookEvent.PullRequest.Action.UPDATED, HEAD, "refs/heads/main"));
    String mr =
        "{\"object_kind\":\"merge_request\",\"object_attributes\":{\"iid\":4,\"action\":\"update\","
            + "\"target_branch\":\"main\",\"last_commit\":{\"id\":\""
            + HEAD
            + "\"}}}";
    assertThat(
            receiver
                .receive(
                    "gitlab",
                    headers("x-gitlab-event", "Merge Request Hook", "x-gitlab-token", "gl-token"),
                    JSON,
                    mr.getBytes(StandardCharsets.UTF_8))
                .event()
                .orElseThrow())
        .isEqualTo(
            new WebhookEvent.PullRequest(
                4, WebhookEvent.PullRequest.Action.UPDATED, HEAD, "refs/heads/main"));
  }

  @Test
  void malformedDeliveriesAreRefusedWith400() {
    String notJson = "payload=%7B%7D";
    assertThat(github("push", notJson, "sha256=" + sign("gh-secret", notJson)).status())
        .isEqualTo(400);
    String badSha = push("refs/heads/main", "not-a-sha");
    WebhookReceiver.Verdict v = github("push", badSha, "sha256=" + sign("gh-secret", badSha));
    assertThat(v.status()).isEqualTo(400);
    assertThat(v.message()).contains("after");
    String hostileRef = push("refs/heads/main;rm -rf /", AFTER);
    assertThat(github("push", hostileRef, "sha256=" + sign("gh-secret", hostileRef)).status())
        .isEqualTo(400);
    String body = push("refs/heads/main", HEAD);
    assertThat(
            receiver
                .receive(
                    "github",
                    headers(
                        "x-github-event",
                        "push",
                        "x-hub-signature-256",
                        "sha256=" + sign("gh-secret", body)),
                    "application/x-www-form-urlencoded",
                    body.getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(400);
  }

  @Test
  void unknownAndUnconfiguredProvidersAreRefused() {
    WebhookReceiver none = new WebhookReceiver(Map.of(), Clock.systemUTC());
    String body = push("refs/heads/main", AFTER);
    assertThat(
            none.receive(
                    "github",
                    headers("x-hub-signature-256", "sha256=" + sign("x", body)),
                    JSON,
                    body.getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(401);
    assertThat(
            receiver
                .receive("bitbucket", headers(), JSON, body.getBytes(StandardCharsets.UTF_8))
                .status())
        .isEqualTo(404);
  }

  @Test
  void pingsAndOtherEventsAreAnsweredButIgnored() {
    String ping = "{\"zen\":\"Design for failure.\",\"hook_id\":1}";
    WebhookReceiver.Verdict v = github("ping", ping, "sha256=" + sign("gh-secret", ping));
    assertThat(v.status()).isEqualTo(200);
    assertThat(v.event()).contains(new WebhookEvent.Ping());
    String issue = "{\"action\":\"opened\",\"issue\":{}}";
    assertThat(github("issues", issue, "sha256=" + sign("gh-secret", issue)).event())
        .contains(new WebhookEvent.Ignored("issues"));
  }
}
