package org.klpcatalog.service.forge;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Posts commit statuses and pull-request comments through the REST APIs of GitHub and Gitea (which
 * share these endpoints' shape; Gitea's live under {@code /api/v1}):
 *
 * <ul>
 *   <li>{@code POST /repos/{owner}/{repo}/statuses/{sha}} with {@code state}, {@code description},
 *       {@code context} and optionally {@code target_url};
 *   <li>{@code GET /repos/{owner}/{repo}/issues/{number}/comments} to find the service's comment by
 *       its marker, then {@code PATCH /repos/{owner}/{repo}/issues/comments/{id}} to update it in
 *       place, or {@code POST /repos/{owner}/{repo}/issues/{number}/comments} to create it.
 * </ul>
 *
 * Transient failures (connection errors, 5xx, 429) are retried with backoff, honouring {@code
 * Retry-After}; GitHub's rate limit (403 or 429 with {@code x-ratelimit-remaining: 0}) waits for
 * {@code x-ratelimit-reset} when that is near, and fails otherwise. Thread-safe.
 */
public final class ForgeClient {
  /** GitHub refuses longer status descriptions. */
  static final int MAX_DESCRIPTION = 140;

  /** GitHub refuses longer comment bodies (65,536 characters). */
  static final int MAX_COMMENT = 60_000;

  /** The states a commit status takes on both forges. */
  public enum State {
    pending,
    success,
    failure,
    error
  }

  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final ForgeConfig forge;
  private final OkHttpClient http;
  private final String base;
  private final int attempts;
  private final Duration firstWait;
  private final Duration longestWait;
  private final Sleeper sleeper;

  /** How the client waits between attempts (tests pass one that records instead of sleeping). */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  public ForgeClient(ForgeConfig forge) {
    this(forge, 5, Duration.ofSeconds(1), Duration.ofSeconds(60), d -> Thread.sleep(d.toMillis()));
  }

  public ForgeClient(
      ForgeConfig forge, int attempts, Duration firstWait, Duration longestWait, Sleeper sleeper) {
    this.forge = forge;
    this.http =
        new OkHttpClient.Builder()
            .connectTimeout(10, TimeUnit.SECONDS)
            .readTimeout(30, TimeUnit.SECONDS)
            .writeTimeout(30, TimeUnit.SECONDS)
            .build();
    this.base =
        forge.type() == ForgeConfig.Kind.gitea ? forge.apiUrl() + "/api/v1" : forge.apiUrl();
    this.attempts = attempts;
    this.firstWait = firstWait;
    this.longestWait = longestWait;
    this.sleeper = sleeper;
  }

  private String repoPath() {
    return "/repos/" + forge.owner() + "/" + forge.repo();
  }

  /** Sets the status of a commit under the configured context. */
  public void status(String sha, State state, String description, Optional<String> targetUrl)
      throws ForgeException, InterruptedException {
    if (!sha.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
      throw new IllegalArgumentException("not a commit id: " + sha);
    }
    ObjectNode body = MAPPER.createObjectNode();
    body.put("state", state.name());
    body.put(
        "description",
        description.length() > MAX_DESCRIPTION
            ? description.substring(0, MAX_DESCRIPTION - 1) + "…"
            : description);
    body.put("context", forge.context());
    targetUrl.ifPresent(u -> body.put("target_url", u));
    send("POST", repoPath() + "/statuses/" + sha, body);
  }

  /**
   * Creates or updates the service's comment on a pull request: the comment whose body contains
   * {@code marker} is edited in place, so a pull request carries one comment however often it is
   * pushed to.
   */
  public void upsertComment(int number, String marker, String text)
      throws ForgeException, InterruptedException {
    String body =
        text.length() > MAX_COMMENT ? text.substring(0, MAX_COMMENT) + "\n\n(truncated)\n" : text;
    Optional<Long> existing = findComment(number, marker);
    ObjectNode json = MAPPER.createObjectNode();
    json.put("body", body);
    if (existing.isPresent()) {
      send("PATCH", repoPath() + "/issues/comments/" + existing.get(), json);
    } else {
      send("POST", repoPath() + "/issues/" + number + "/comments", json);
    }
  }

  private Optional<Long> findComment(int number, String marker)
      throws ForgeException, InterruptedException {
    for (int page = 1; page <= 20; page++) {
      String paging =
          forge.type() == ForgeConfig.Kind.gitea
              ? "?limit=50&page=" + page
              : "?per_page=100&page=" + page;
      JsonNode list = send("GET", repoPath() + "/issues/" + number + "/comments" + paging, null);
      if (!list.isArray() || list.isEmpty()) {
        return Optional.empty();
      }
      for (JsonNode c : list) {
        if (c.path("body").asString("").contains(marker) && c.path("id").isIntegralNumber()) {
          return Optional.of(c.path("id").asLong());
        }
      }
    }
    return Optional.empty();
  }

  private JsonNode send(String method, String path, ObjectNode body)
      throws ForgeException, InterruptedException {
    Request.Builder rb =
        new Request.Builder()
            .url(base + path)
            .header("User-Agent", "klp-catalog")
            .header(
                "Accept",
                forge.type() == ForgeConfig.Kind.github
                    ? "application/vnd.github+json"
                    : "application/json");
    if (forge.type() == ForgeConfig.Kind.github) {
      rb.header("Authorization", "Bearer " + forge.token())
          .header("X-GitHub-Api-Version", "2022-11-28");
    } else {
      rb.header("Authorization", "token " + forge.token());
    }
    rb.method(
        method, body == null ? null : RequestBody.create(MAPPER.writeValueAsString(body), JSON));
    Request request = rb.build();
    String last = "";
    for (int attempt = 1; attempt <= attempts; attempt++) {
      Duration wait = backoff(attempt);
      try (Response r = http.newCall(request).execute()) {
        String text = r.body() == null ? "" : r.body().string();
        if (r.isSuccessful()) {
          return text.isBlank() ? MAPPER.createObjectNode() : MAPPER.readTree(text);
        }
        last = method + " " + path + ": HTTP " + r.code() + " " + oneLine(text);
        Optional<Duration> limited = rateLimitWait(r);
        boolean transient_ = r.code() >= 500 || r.code() == 429 || limited.isPresent();
        if (!transient_) {
          throw new ForgeException(last);
        }
        if (limited.isPresent()) {
          if (limited.get().compareTo(longestWait) > 0) {
            throw new ForgeException(
                last + " (rate limited for " + limited.get().toSeconds() + " s more; not waiting)");
          }
          wait = limited.get();
        }
      } catch (IOException e) {
        last = method + " " + path + ": " + e.getMessage();
      }
      if (attempt < attempts) {
        sleeper.sleep(wait);
      }
    }
    throw new ForgeException(last + " (gave up after " + attempts + " attempts)");
  }

  private Duration backoff(int attempt) {
    long ms = firstWait.toMillis() << Math.min(attempt - 1, 10);
    return Duration.ofMillis(Math.min(ms, longestWait.toMillis()));
  }

  /**
   * How long the forge asks to wait: {@code Retry-After} (seconds), or for an exhausted rate limit
   * ({@code x-ratelimit-remaining: 0}) until {@code x-ratelimit-reset} (Unix time).
   */
  private Optional<Duration> rateLimitWait(Response r) {
    String retryAfter = r.header("Retry-After");
    if (retryAfter != null
        && retryAfter.matches("\\d{1,6}")
        && (r.code() == 429 || r.code() == 403 || r.code() == 503)) {
      return Optional.of(Duration.ofSeconds(Long.parseLong(retryAfter)));
    }
    if ((r.code() == 403 || r.code() == 429) && "0".equals(r.header("x-ratelimit-remaining"))) {
      String reset = r.header("x-ratelimit-reset");
      if (reset != null && reset.matches("\\d{1,12}")) {
        long seconds = Long.parseLong(reset) - System.currentTimeMillis() / 1000;
        return Optional.of(Duration.ofSeconds(Math.max(1, seconds)));
      }
      return Optional.of(longestWait.plusSeconds(1));
    }
    return Optional.empty();
  }

  private static String oneLine(String s) {
    String t = s.replaceAll("\\s+", " ").strip();
    return t.length() > 300 ? t.substring(0, 300) + "…" : t;
  }
}
