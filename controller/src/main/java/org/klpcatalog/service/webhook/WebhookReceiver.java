package org.klpcatalog.service.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Verifies and reads webhook deliveries of GitHub, Gitea and GitLab. GitHub and Gitea sign the body
 * with HMAC-SHA256 under a shared secret ({@code X-Hub-Signature-256: sha256=<hex>}, {@code
 * X-Gitea-Signature: <hex>}); GitLab sends the shared token itself ({@code X-Gitlab-Token}). Both
 * are compared in constant time. A delivery whose exact body was already accepted in the last 24
 * hours is a replay and is refused, as is anything unsigned, mis-signed, not JSON or malformed.
 * Thread-safe.
 */
public final class WebhookReceiver {
  /**
   * The largest body accepted. Push payloads list commits; GitHub caps them at 25 MB, ours are
   * small.
   */
  public static final int MAX_BODY = 5 * 1024 * 1024;

  /** How long an accepted body is remembered, and how many at most. */
  static final Duration REPLAY_WINDOW = Duration.ofHours(24);

  static final int REPLAY_CAPACITY = 10_000;

  /** The verdict: an HTTP status, a message for the sender, and the event when it was accepted. */
  public record Verdict(int status, String message, Optional<WebhookEvent> event) {
    static Verdict refuse(int status, String message) {
      return new Verdict(status, message, Optional.empty());
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final Map<String, byte[]> secrets;
  private final Clock clock;
  private final LinkedHashMap<String, Instant> seen = new LinkedHashMap<>();

  /** Secrets by provider ("github", "gitea", "gitlab"); a provider without one is refused. */
  public WebhookReceiver(Map<String, String> secrets, Clock clock) {
    Map<String, byte[]> s = new HashMap<>();
    secrets.forEach((k, v) -> s.put(k, v.getBytes(StandardCharsets.UTF_8)));
    this.secrets = Map.copyOf(s);
    this.clock = clock;
  }

  /** The providers the service knows. */
  public static boolean known(String provider) {
    return provider.equals("github") || provider.equals("gitea") || provider.equals("gitlab");
  }

  /**
   * Verifies one delivery. {@code headers} are keyed in lower case. The verdict's status is 202 for
   * an event to act on, 200 for one to ignore, 401 for a missing, wrong or replayed signature, 400
   * for a malformed delivery, 404 for an unknown provider.
   */
  public Verdict receive(
      String provider, Map<String, String> headers, String contentType, byte[] body) {
    if (!known(provider)) {
      return Verdict.refuse(
          404,
          "unknown webhook provider '"
              + provider
              + "'; use /hooks/github, /hooks/gitea or /hooks/gitlab");
    }
    byte[] secret = secrets.get(provider);
    if (secret == null) {
      return Verdict.refuse(
          401,
          provider
              + " webhooks are not configured (webhooks."
              + provider
              + (provider.equals("gitlab") ? ".tokenFile" : ".secretFile")
              + ")");
    }
    // Authenticity first: nothing of an unverified body is read.
    String problem =
        switch (provider) {
          case "github" ->
              checkHmac(
                  headers.get("x-hub-signature-256"),
                  "sha256=",
                  secret,
                  body,
                  "X-Hub-Signature-256");
          case "gitea" ->
              headers.containsKey("x-gitea-signature")
                  ? checkHmac(
                      headers.get("x-gitea-signature"), "", secret, body, "X-Gitea-Signature")
                  : checkHmac(
                      headers.get("x-hub-signature-256"),
                      "sha256=",
                      secret,
                      body,
                      "X-Gitea-Signature");
          default -> checkToken(headers.get("x-gitlab-token"), secret);
        };
    if (problem != null) {
      return Verdict.refuse(401, problem);
    }
    if (contentType == null
        || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      return Verdict.refuse(
          400, "the body must be JSON; set the webhook's content type to application/json");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (RuntimeException e) {
      return Verdict.refuse(400, "the body is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      return Verdict.refuse(400, "the body is not a JSON object");
    }
    WebhookEvent event;
    try {
      event =
          switch (provider) {
            case "github" -> github(headers.getOrDefault("x-github-event", ""), root);
            case "gitea" ->
                gitea(
                    headers.getOrDefault(
                        "x-gitea-event", headers.getOrDefault("x-github-event", "")),
                    root);
            default -> gitlab(headers.getOrDefault("x-gitlab-event", ""), root);
          };
    } catch (IllegalArgumentException e) {
      return Verdict.refuse(400, e.getMessage());
    }
    // A body accepted before is a replay: the signature covers the body, and every real delivery
    // differs (commits, timestamps), so the same bytes twice were sent twice.
    if (!remember(provider, body)) {
      return Verdict.refuse(401, "replayed delivery: this exact payload was already received");
    }
    boolean act = event instanceof WebhookEvent.Push || event instanceof WebhookEvent.PullRequest;
    return new Verdict(act ? 202 : 200, act ? "accepted" : "ignored", Optional.of(event));
  }

  private static String checkHmac(
      String header, String prefix, byte[] secret, byte[] body, String name) {
    if (header == null || header.isEmpty()) {
      return "missing " + name + " header: the delivery is not signed (set the webhook's secret)";
    }
    if (!header.startsWith(prefix)) {
      return name
          + " must be "
          + (prefix.isEmpty() ? "" : prefix)
          + "<hex HMAC-SHA256 of the body>";
    }
    byte[] given;
    try {
      given = HexFormat.of().parseHex(header.substring(prefix.length()).toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return name + " is not hexadecimal";
    }
    byte[] expected = hmac(secret, body);
    if (!MessageDigest.isEqual(expected, given)) {
      return "signature mismatch: the body was not signed with the configured secret";
    }
    return null;
  }

  private static String checkToken(String header, byte[] secret) {
    if (header == null || header.isEmpty()) {
      return "missing X-Gitlab-Token header (set the webhook's secret token)";
    }
    if (!MessageDigest.isEqual(sha256(header.getBytes(StandardCharsets.UTF_8)), sha256(secret))) {
      return "token mismatch: X-Gitlab-Token is not the configured token";
    }
    return null;
  }

  /** HMAC-SHA256 of a body under a secret: what GitHub and Gitea send. */
  public static byte[] hmac(byte[] secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private synchronized boolean remember(String provider, byte[] body) {
    Instant now = clock.instant();
    for (Iterator<Map.Entry<String, Instant>> it = seen.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Instant> e = it.next();
      if (e.getValue().isBefore(now.minus(REPLAY_WINDOW)) || seen.size() > REPLAY_CAPACITY) {
        it.remove();
      } else {
        break;
      }
    }
    String key = provider + ":" + HexFormat.of().formatHex(sha256(body));
    return seen.putIfAbsent(key, now) == null;
  }

  private static WebhookEvent github(String name, JsonNode root) {
    return switch (name) {
      case "push" -> push(root, root.path("deleted").asBoolean(false));
      case "pull_request" -> pullRequest(root, "number", root.path("pull_request"));
      case "ping" -> new WebhookEvent.Ping();
      case "" -> throw new IllegalArgumentException("missing X-GitHub-Event header");
      default -> new WebhookEvent.Ignored(name);
    };
  }

  private static WebhookEvent gitea(String name, JsonNode root) {
    return switch (name) {
      case "push" -> push(root, false);
      case "pull_request", "pull_request_sync" ->
          pullRequest(root, "number", root.path("pull_request"));
      case "ping" -> new WebhookEvent.Ping();
      case "" -> throw new IllegalArgumentException("missing X-Gitea-Event header");
      default -> new WebhookEvent.Ignored(name);
    };
  }

  private static WebhookEvent gitlab(String name, JsonNode root) {
    switch (name) {
      case "Push Hook":
        return push(root, false);
      case "Merge Request Hook":
        {
          JsonNode attrs = root.path("object_attributes");
          int number = positive(attrs.path("iid"), "object_attributes.iid");
          String action = attrs.path("action").asString("");
          WebhookEvent.PullRequest.Action a =
              switch (action) {
                case "open", "reopen" -> WebhookEvent.PullRequest.Action.OPENED;
                case "update" -> WebhookEvent.PullRequest.Action.UPDATED;
                case "merge" -> WebhookEvent.PullRequest.Action.MERGED;
                case "close" -> WebhookEvent.PullRequest.Action.CLOSED;
                default -> WebhookEvent.PullRequest.Action.OTHER;
              };
          return new WebhookEvent.PullRequest(
              number,
              a,
              sha(attrs.path("last_commit").path("id"), "object_attributes.last_commit.id"),
              "refs/heads/"
                  + branch(attrs.path("target_branch"), "object_attributes.target_branch"));
        }
      case "":
        throw new IllegalArgumentException("missing X-Gitlab-Event header");
      default:
        return new WebhookEvent.Ignored(name);
    }
  }

  private static WebhookEvent push(JsonNode root, boolean deleted) {
    String ref = root.path("ref").asString("");
    if (!ref.matches("refs/(heads|tags)/[A-Za-z0-9._/-]{1,255}")) {
      throw new IllegalArgumentException(
          "push payload: 'ref' is missing or not a branch or tag ref");
    }
    if (deleted) {
      return new WebhookEvent.Ignored("push (branch deleted)");
    }
    return new WebhookEvent.Push(ref, sha(root.path("after"), "after"));
  }

  private static WebhookEvent pullRequest(JsonNode root, String numberField, JsonNode pr) {
    int number = positive(root.path(numberField), numberField);
    String action = root.path("action").asString("");
    boolean merged = pr.path("merged").asBoolean(false);
    WebhookEvent.PullRequest.Action a =
        switch (action) {
          case "opened", "reopened" -> WebhookEvent.PullRequest.Action.OPENED;
          case "synchronize", "synchronized" -> WebhookEvent.PullRequest.Action.UPDATED;
          case "closed" ->
              merged
                  ? WebhookEvent.PullRequest.Action.MERGED
                  : WebhookEvent.PullRequest.Action.CLOSED;
          default -> WebhookEvent.PullRequest.Action.OTHER;
        };
    return new WebhookEvent.PullRequest(
        number,
        a,
        sha(pr.path("head").path("sha"), "pull_request.head.sha"),
        "refs/heads/" + branch(pr.path("base").path("ref"), "pull_request.base.ref"));
  }

  private static String sha(JsonNode n, String field) {
    String s = n.asString("");
    if (!s.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
      throw new IllegalArgumentException("payload: '" + field + "' is missing or not a commit id");
    }
    return s;
  }

  private static String branch(JsonNode n, String field) {
    String s = n.asString("");
    if (!s.matches("[A-Za-z0-9._/-]{1,255}")) {
      throw new IllegalArgumentException(
          "payload: '" + field + "' is missing or not a branch name");
    }
    return s;
  }

  private static int positive(JsonNode n, String field) {
    if (!n.isIntegralNumber() || n.asLong() < 1 || n.asLong() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "payload: '" + field + "' is missing or not a positive number");
    }
    return n.asInt();
  }
}
