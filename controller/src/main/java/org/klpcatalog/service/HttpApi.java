package org.klpcatalog.service;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.QuietException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.SizeLimitHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.klpcatalog.service.webhook.WebhookEvent;
import org.klpcatalog.service.webhook.WebhookReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The service's HTTP endpoints ({@link Endpoint}): {@code GET /status} (JSON), {@code GET
 * /healthz}, {@code GET /metrics} (Prometheus text), {@code POST /hooks/<provider>} (webhooks,
 * verified by their signature), and {@code POST /suspend} and {@code /resume} (with the {@link
 * AdminToken}, whoever and wherever the caller is: behind a reverse proxy every caller comes from
 * loopback).
 *
 * <p>Served by Jetty, which reads requests without holding a thread while bytes trickle in, so slow
 * clients cannot take the threads {@code /healthz} needs. Limits: a connection silent for {@code
 * server.readTimeout} is closed; a request must arrive whole within {@code server.requestTimeout}
 * ({@link RequestDeadlines}); at most {@code server.maxConnections} are open at once (more wait to
 * be accepted); headers over {@link #MAX_HEADER_BYTES} are answered 431 and bodies over {@link
 * WebhookReceiver#MAX_BODY} 413.
 */
public final class HttpApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The largest request line and headers taken, together (431 beyond). */
  public static final int MAX_HEADER_BYTES = 8 * 1024;

  /** Threads answering requests; none ever waits for a client's bytes. */
  static final int THREADS = 8;

  /** Who may call an endpoint. */
  enum Access {
    /** Anyone who can reach the server: the endpoint only reads. */
    OPEN,
    /** Whoever holds a webhook secret: the body's signature (or GitLab's token) is checked. */
    SIGNED,
    /** Whoever holds the admin token ({@code Authorization: Bearer <token>}). */
    ADMIN
  }

  /**
   * The endpoints, each with its method and who may call it. Nothing that changes state is OPEN.
   */
  enum Endpoint {
    STATUS("/status", "GET", Access.OPEN),
    HEALTHZ("/healthz", "GET", Access.OPEN),
    METRICS("/metrics", "GET", Access.OPEN),
    HOOKS("/hooks/", "POST", Access.SIGNED),
    SUSPEND("/suspend", "POST", Access.ADMIN),
    RESUME("/resume", "POST", Access.ADMIN);

    final String path;
    final String method;
    final Access access;

    Endpoint(String path, String method, Access access) {
      this.path = path;
      this.method = method;
      this.access = access;
    }

    /** The endpoint a request path names ({@code /hooks/} is a prefix), if any. */
    static Optional<Endpoint> of(String path) {
      return Arrays.stream(values())
          .filter(e -> e.path.endsWith("/") ? path.startsWith(e.path) : path.equals(e.path))
          .findFirst();
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final RequestDeadlines deadlines;
  private final CatalogController controller;
  private final ServiceMetrics metrics;
  private final WebhookReceiver hooks;
  private final ServiceConfig config;
  private final AdminToken adminToken;
  private volatile Function<CatalogController.Status, ObjectNode> statusJson = StatusJson::write;
  private volatile Runnable beforeMetrics = () -> {};

  public HttpApi(
      ServiceConfig config,
      CatalogController controller,
      ServiceMetrics metrics,
      WebhookReceiver hooks,
      AdminToken adminToken) {
    this.config = config;
    this.controller = controller;
    this.metrics = metrics;
    this.hooks = hooks;
    this.adminToken = adminToken;
    ServiceConfig.Server limits = config.server();

    // A small pool: answers are quick, and no thread waits for a client's bytes. Its queue holds at
    // most a task or two per open connection, and connections are bounded.
    QueuedThreadPool threads = new QueuedThreadPool(THREADS, 2, 60_000);
    threads.setName("http");
    threads.setDaemon(true);
    threads.setReservedThreads(0);
    this.server = new Server(threads);
    server.setStopTimeout(1000);
    server.setErrorHandler(new JsonErrors());

    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(MAX_HEADER_BYTES);
    http.setSendServerVersion(false);
    http.setSendDateHeader(true);
    http.setIdleTimeout(limits.readTimeout().toMillis());
    this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    connector.setHost(limits.host());
    connector.setPort(limits.port());
    connector.setIdleTimeout(limits.readTimeout().toMillis());
    connector.setAcceptQueueSize(limits.maxConnections());
    this.deadlines = new RequestDeadlines(limits.requestTimeout());
    connector.addBean(deadlines);
    server.addConnector(connector);
    server.addBean(new NetworkConnectionLimit(limits.maxConnections(), connector));

    // A declared Content-Length over the limit is answered 413 before the body is read; a chunked
    // body fails its read once it goes over.
    SizeLimitHandler sizeLimit = new SizeLimitHandler(WebhookReceiver.MAX_BODY, -1);
    sizeLimit.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            HttpApi.this.handle(request, response, callback);
            return true;
          }
        });
    server.setHandler(sizeLimit);
  }

  /** Starts listening. */
  public void start() throws IOException {
    try {
      server.start();
    } catch (IOException e) {
      close();
      throw new IOException(
          "cannot listen on "
              + config.server().host()
              + ":"
              + config.server().port()
              + " (server.listen): "
              + e.getMessage(),
          e);
    } catch (Exception e) {
      close();
      throw new IOException("cannot start the HTTP server: " + e, e);
    }
  }

  /** The port listened on (the configured one, or the one chosen for port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** How many client connections are open (for tests). */
  int openConnections() {
    return deadlines.open();
  }

  private void handle(Request request, Response response, Callback callback) {
    Connection connection = request.getConnectionMetaData().getConnection();
    Request.addCompletionListener(request, failure -> deadlines.answered(connection));
    try {
      String path = request.getHttpURI().getPath();
      Optional<Endpoint> endpoint = Endpoint.of(path == null ? "" : path);
      if (endpoint.isEmpty()) {
        deadlines.handling(connection);
        message(
            response,
            callback,
            404,
            "no such endpoint; try /status, /healthz, /metrics or /hooks/<provider>");
        return;
      }
      Endpoint e = endpoint.get();
      if (e != Endpoint.HOOKS) {
        // No other endpoint reads a body: its request is complete.
        deadlines.handling(connection);
      }
      if (!request.getMethod().equals(e.method)) {
        response.getHeaders().put(HttpHeader.ALLOW, e.method);
        message(response, callback, 405, path + " takes " + e.method);
        return;
      }
      if (e.access == Access.ADMIN
          && !adminToken.accepts(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
        boolean sent = request.getHeaders().contains(HttpHeader.AUTHORIZATION);
        LOG.atWarn()
            .addKeyValue("remote", Request.getRemoteAddr(request))
            .addKeyValue("path", path)
            .log(
                sent ? "refused a wrong admin token" : "refused a request without the admin token");
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"klp-catalog\"");
        message(
            response,
            callback,
            401,
            (sent ? "wrong admin token" : "this endpoint needs the admin token")
                + ": send 'Authorization: Bearer <token>' with the token of server.adminTokenFile,"
                + " or of <stateDir>/admin-token when none is configured (klp-catalog suspend"
                + " --config <the service's configuration> finds it)");
        return;
      }
      switch (e) {
        case STATUS ->
            send(
                response,
                callback,
                200,
                "application/json",
                MAPPER
                        .writerWithDefaultPrettyPrinter()
                        .writeValueAsString(statusJson.apply(controller.status()))
                    + "\n");
        case HEALTHZ -> {
          boolean ok = controller.healthy();
          send(
              response,
              callback,
              ok ? 200 : 503,
              "text/plain; charset=utf-8",
              ok ? "ok\n" : "the reconcile thread died\n");
        }
        case METRICS -> {
          beforeMetrics.run();
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          metrics.write(out);
          send(response, callback, 200, metrics.contentType(), out.toByteArray());
        }
        case HOOKS ->
            hook(request, response, callback, connection, path.substring(e.path.length()));
        case SUSPEND -> {
          controller.suspend();
          LOG.atInfo()
              .addKeyValue("remote", Request.getRemoteAddr(request))
              .log("suspend requested over HTTP");
          message(response, callback, 200, "suspended");
        }
        case RESUME -> {
          controller.resume();
          LOG.atInfo()
              .addKeyValue("remote", Request.getRemoteAddr(request))
              .log("resume requested over HTTP");
          message(response, callback, 200, "resumed");
        }
      }
    } catch (IOException | RuntimeException ex) {
      LOG.error("HTTP {} {} failed", request.getMethod(), request.getHttpURI().getPath(), ex);
      callback.failed(ex);
    }
  }

  /** A webhook: its body is read without holding a thread, then verified and acted on. */
  private void hook(
      Request request,
      Response response,
      Callback callback,
      Connection connection,
      String provider) {
    Content.Source.asByteArrayAsync(request, WebhookReceiver.MAX_BODY + 1)
        .whenComplete(
            (body, failure) -> {
              deadlines.handling(connection);
              try {
                Throwable cause =
                    failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause()
                        : failure;
                if (cause instanceof TimeoutException) {
                  metrics.webhooks.labelValues(label(provider), "refused").inc();
                  message(
                      response,
                      callback,
                      408,
                      "the body stopped arriving: nothing came for "
                          + config.server().readTimeout().toMillis()
                          + " ms (server.readTimeout)");
                  return;
                }
                boolean tooLarge = cause instanceof HttpException h && h.getCode() == 413;
                if (cause != null && !tooLarge) {
                  // The connection is gone: the client left, or its request took too long and was
                  // cut.
                  callback.failed(new QuietException.Exception(cause));
                  return;
                }
                if (tooLarge || body.length > WebhookReceiver.MAX_BODY) {
                  metrics.webhooks.labelValues(label(provider), "refused").inc();
                  message(
                      response,
                      callback,
                      413,
                      "the body is larger than " + WebhookReceiver.MAX_BODY + " bytes");
                  return;
                }
                Map<String, String> headers = new HashMap<>();
                for (HttpField f : request.getHeaders()) {
                  headers.putIfAbsent(
                      f.getName().toLowerCase(Locale.ROOT),
                      f.getValue() == null ? "" : f.getValue());
                }
                WebhookReceiver.Verdict v =
                    hooks.receive(provider, headers, headers.get("content-type"), body);
                metrics
                    .webhooks
                    .labelValues(
                        label(provider),
                        v.status() >= 400 ? "refused" : v.status() == 202 ? "accepted" : "ignored")
                    .inc();
                if (v.status() >= 400) {
                  LOG.atWarn()
                      .addKeyValue("provider", label(provider))
                      .addKeyValue("status", v.status())
                      .addKeyValue("remote", Request.getRemoteAddr(request))
                      .log("webhook refused: " + v.message());
                  message(response, callback, v.status(), v.message());
                  return;
                }
                String result = act(v.event().orElseThrow());
                LOG.atInfo().addKeyValue("provider", provider).log("webhook: " + result);
                message(response, callback, v.status(), result);
              } catch (RuntimeException e) {
                LOG.error("webhook {} failed", label(provider), e);
                callback.failed(e);
              }
            });
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
          return "check of pull request "
              + pr.number()
              + " at "
              + pr.headSha().substring(0, 12)
              + " requested";
        }
        case MERGED -> {
          controller.trigger("merge");
          return "pull request " + pr.number() + " merged: reconcile requested";
        }
        default -> {
          return "ignored: pull request "
              + pr.number()
              + " "
              + pr.action().name().toLowerCase(Locale.ROOT);
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

  private static void message(Response response, Callback callback, int status, String message) {
    send(response, callback, status, "application/json", json(status, message));
  }

  private static String json(int status, String message) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put(status < 400 ? "message" : "error", message);
    return MAPPER.writeValueAsString(root) + "\n";
  }

  private static void send(
      Response response, Callback callback, int status, String type, String body) {
    send(response, callback, status, type, body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(
      Response response, Callback callback, int status, String type, byte[] body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  @Override
  public void close() {
    try {
      // Answers under way get a second to finish; connections kept alive are then closed.
      server.stop();
    } catch (TimeoutException e) {
      LOG.debug("stopping the HTTP server: connections still open after a second were closed");
    } catch (Exception e) {
      LOG.warn("stopping the HTTP server: {}", e.toString());
    }
    deadlines.close();
  }

  /** What Jetty itself answers (headers too large, a malformed request): the same JSON as ours. */
  private static final class JsonErrors extends ErrorHandler {
    @Override
    protected void generateResponse(
        Request request,
        Response response,
        int code,
        String message,
        Throwable cause,
        Callback callback) {
      String text =
          switch (code) {
            case 431 -> "the request's headers are larger than " + MAX_HEADER_BYTES + " bytes";
            case 413 -> "the body is larger than " + WebhookReceiver.MAX_BODY + " bytes";
            default -> message == null || message.isBlank() ? "HTTP " + code : message;
          };
      send(response, callback, code, "application/json", json(code, text));
    }
  }

  /** In a cluster: /status shows the cluster's state, and /metrics is brought up to date first. */
  void inCluster(Function<CatalogController.Status, ObjectNode> status, Runnable metricsUpdate) {
    this.statusJson = status;
    this.beforeMetrics = metricsUpdate;
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
        n.put("type", c.type().name());
        n.put("status", c.status() ? "True" : "False");
        n.put("reason", c.reasonName());
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
      for (PatchState p : s.patches()) {
        ObjectNode n = patches.addObject();
        n.put("patch", p.patch());
        n.put("package", p.pkg());
        n.put("evr", p.evr());
        n.put("state", p.state().wireName());
        if (!p.detail().isEmpty()) {
          n.put("detail", p.detail());
        }
      }
      ArrayNode prs = root.putArray("pullRequests");
      for (PullRequestCheck c : s.pullRequests()) {
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
