package org.klpcatalog.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.klpcatalog.service.webhook.WebhookEvent;
import org.klpcatalog.service.webhook.WebhookReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The service's HTTP endpoints: {@code GET /status} (JSON), {@code GET /healthz}, {@code GET
 * /metrics} (Prometheus text), {@code POST /hooks/<provider>} (webhooks), and {@code POST
 * /suspend} and {@code /resume} (from loopback, or with the admin token when one is configured).
 */
public final class HttpApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final HttpServer server;
  private final ExecutorService executor;
  private final CatalogController controller;
  private final ServiceMetrics metrics;
  private final WebhookReceiver hooks;
  private final ServiceConfig config;

  public HttpApi(ServiceConfig config, CatalogController controller, ServiceMetrics metrics, WebhookReceiver hooks)
      throws IOException {
    this.config = config;
    this.controller = controller;
    this.metrics = metrics;
    this.hooks = hooks;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(config.server().host()),
        config.server().port()), 50);
    this.executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
  }

  public void start() {
    server.start();
  }

  /** The port listened on (the configured one, or the one chosen for port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (path.equals("/status")) {
        if (allow(ex, "GET")) {
          send(ex, 200, "application/json", MAPPER.writerWithDefaultPrettyPrinter()
              .writeValueAsString(StatusJson.write(controller.status())) + "\n");
        }
      } else if (path.equals("/healthz")) {
        if (allow(ex, "GET")) {
          boolean ok = controller.healthy();
          send(ex, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : "the reconcile thread died\n");
        }
      } else if (path.equals("/metrics")) {
        if (allow(ex, "GET")) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          metrics.write(out);
          send(ex, 200, metrics.contentType(), out.toByteArray());
        }
      } else if (path.startsWith("/hooks/")) {
        if (allow(ex, "POST")) {
          hook(ex, path.substring("/hooks/".length()));
        }
      } else if (path.equals("/suspend") || path.equals("/resume")) {
        if (allow(ex, "POST") && admin(ex)) {
          if (path.equals("/suspend")) {
            controller.suspend();
          } else {
            controller.resume();
          }
          message(ex, 200, path.equals("/suspend") ? "suspended" : "resumed");
        }
      } else {
        message(ex, 404, "no such endpoint; try /status, /healthz, /metrics or /hooks/<provider>");
      }
    } catch (RuntimeException e) {
      LOG.error("HTTP {} {} failed", ex.getRequestMethod(), ex.getRequestURI().getPath(), e);
    }
  }

  private boolean allow(HttpExchange ex, String method) throws IOException {
    if (ex.getRequestMethod().equals(method)) {
      return true;
    }
    ex.getResponseHeaders().set("Allow", method);
    message(ex, 405, ex.getRequestURI().getPath() + " takes " + method);
    return false;
  }

  /** Suspend and resume: the admin token when one is configured, else loopback callers only. */
  private boolean admin(HttpExchange ex) throws IOException {
    Optional<String> token = config.server().adminToken();
    if (token.isPresent()) {
      String given = Optional.ofNullable(ex.getRequestHeaders().getFirst("Authorization")).orElse("");
      byte[] expected = ("Bearer " + token.get()).getBytes(StandardCharsets.UTF_8);
      if (!MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
        message(ex, 401, "missing or wrong admin token (Authorization: Bearer ...; see server.adminTokenFile)");
        return false;
      }
      return true;
    }
    if (!ex.getRemoteAddress().getAddress().isLoopbackAddress()) {
      message(ex, 403, "suspend and resume are only taken from loopback unless server.adminTokenFile is set");
      return false;
    }
    return true;
  }

  private void hook(HttpExchange ex, String provider) throws IOException {
    byte[] body;
    try (InputStream in = ex.getRequestBody()) {
      body = in.readNBytes(WebhookReceiver.MAX_BODY + 1);
    }
    if (body.length > WebhookReceiver.MAX_BODY) {
      metrics.webhooks.labelValues(label(provider), "refused").inc();
      message(ex, 413, "the body is larger than " + WebhookReceiver.MAX_BODY + " bytes");
      return;
    }
    Map<String, String> headers = new HashMap<>();
    ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.isEmpty() ? "" : v.get(0)));
    WebhookReceiver.Verdict v = hooks.receive(provider, headers, headers.get("content-type"), body);
    metrics.webhooks.labelValues(label(provider), v.status() >= 400 ? "refused" : v.status() == 202 ? "accepted" : "ignored")
        .inc();
    if (v.status() >= 400) {
      LOG.atWarn().addKeyValue("provider", label(provider)).addKeyValue("status", v.status())
          .addKeyValue("remote", ex.getRemoteAddress().getAddress().getHostAddress()).log("webhook refused: " + v.message());
      message(ex, v.status(), v.message());
      return;
    }
    String result = act(v.event().orElseThrow());
    LOG.atInfo().addKeyValue("provider", provider).log("webhook: " + result);
    message(ex, v.status(), result);
  }

  /** What a verified event does; a sentence for the sender. */
  private String act(WebhookEvent event) {
    String followed = "refs/heads/" + config.source().branch();
    if (event instanceof WebhookEvent.Push push) {
      if (!push.ref().equals(followed)) {
        return "ignored: a push to " + push.ref() + ", not to " + followed;
      }
      controller.trigger("webhook");
      return "reconcile of " + push.after().substring(0, 12) + " requested";
    }
    if (event instanceof WebhookEvent.PullRequest pr) {
      if (!pr.baseRef().equals(followed)) {
        return "ignored: pull request " + pr.number() + " targets " + pr.baseRef();
      }
      switch (pr.action()) {
        case OPENED, UPDATED -> {
          if (config.forge().isEmpty()) {
            return "ignored: no forge is configured to report pull request checks to (forge.type)";
          }
          controller.checkPullRequest(pr.number(), pr.headSha());
          return "check of pull request " + pr.number() + " at " + pr.headSha().substring(0, 12) + " requested";
        }
        case MERGED -> {
          controller.trigger("merge");
          return "pull request " + pr.number() + " merged: reconcile requested";
        }
        default -> {
          return "ignored: pull request " + pr.number() + " " + pr.action().name().toLowerCase(Locale.ROOT);
        }
      }
    }
    if (event instanceof WebhookEvent.Ping) {
      return "pong";
    }
    return "ignored: " + ((WebhookEvent.Ignored) event).name() + " events are not used";
  }

  private static String label(String provider) {
    return WebhookReceiver.known(provider) ? provider : "unknown";
  }

  private static void message(HttpExchange ex, int status, String message) throws IOException {
    ObjectNode root = MAPPER.createObjectNode();
    root.put(status < 400 ? "message" : "error", message);
    send(ex, status, "application/json", MAPPER.writeValueAsString(root) + "\n");
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    send(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
  }

  /** The JSON of /status. */
  static final class StatusJson {
    private StatusJson() {}

    static ObjectNode write(CatalogController.Status s) {
      ObjectNode root = MAPPER.createObjectNode();
      ObjectNode source = root.putObject("source");
      source.put("url", redact(s.url()));
      source.put("branch", s.branch());
      source.put("lastFetchedRevision", s.lastFetchedRevision().orElse(null));
      root.put("suspended", s.suspended());
      root.put("lastAttemptedRevision", s.lastAttemptedRevision().orElse(null));
      root.put("lastAppliedRevision", s.lastAppliedRevision().orElse(null));
      ArrayNode conds = root.putArray("conditions");
      for (Condition c : s.conditions()) {
        ObjectNode n = conds.addObject();
        n.put("type", c.type());
        n.put("status", c.status() ? "True" : "False");
        n.put("reason", c.reason());
        n.put("message", c.message());
        n.put("lastTransitionTime", c.lastTransitionTime().toString());
      }
      ObjectNode repo = root.putObject("repository");
      repo.put("path", s.repository().toString());
      repo.put("currentVersion", s.repositoryVersion().orElse(null));
      repo.put("revision", s.repositoryRevision().orElse(null));
      root.put("lastReconcileTime", s.lastReconcileAt().map(Object::toString).orElse(null));
      ObjectNode retry = root.putObject("retry");
      retry.put("attempt", s.retryAttempt());
      retry.put("nextAttemptTime", s.nextRetryAt().map(Object::toString).orElse(null));
      ArrayNode patches = root.putArray("patches");
      for (CatalogController.PatchState p : s.patches()) {
        ObjectNode n = patches.addObject();
        n.put("patch", p.patch());
        n.put("package", p.pkg());
        n.put("evr", p.evr());
        n.put("state", p.state());
        if (!p.detail().isEmpty()) {
          n.put("detail", p.detail());
        }
      }
      ArrayNode prs = root.putArray("pullRequests");
      for (CatalogController.PullRequestCheck c : s.pullRequests()) {
        ObjectNode n = prs.addObject();
        n.put("number", c.number());
        n.put("revision", c.sha());
        n.put("valid", c.valid());
        n.put("summary", c.summary());
        n.put("checkedAt", c.at().toString());
      }
      return root;
    }

    /** A URL without credentials. */
    static String redact(String url) {
      return url.replaceAll("(?<=://)[^/@]+@", "***@");
    }
  }
}
