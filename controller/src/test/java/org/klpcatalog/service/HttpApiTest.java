package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.service.webhook.WebhookReceiver;

/**
 * The HTTP endpoints over real sockets on loopback, with short limits: slow and oversize clients,
 * and who may suspend and resume. The controller is real but never reconciles (its source does not
 * exist and nothing triggers it, except resume).
 */
class HttpApiTest {
  private static final String SECRET = "secret-webhook-secret";
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  @TempDir Path tmp;
  private CatalogController controller;
  private HttpApi api;
  private final ExecutorService clients = Executors.newCachedThreadPool();

  private ServiceConfig config(String server) throws Exception {
    Files.writeString(tmp.resolve("webhook-secret"), SECRET + "\n");
    Path f = tmp.resolve("config.yaml");
    Files.writeString(
        f,
        "source:\n  url: "
            + tmp.resolve("no-such-catalog")
            + "\nrepository:\n  path: repo\n"
            + "stateDir: state\nsigning:\n  unsigned: true\nqa:\n  enabled: false\n"
            + "webhooks:\n  github:\n    secretFile: webhook-secret\n"
            + "server:\n  listen: 127.0.0.1:0\n  readTimeout: "
            + READ_TIMEOUT.toSeconds()
            + "s\n  requestTimeout: "
            + REQUEST_TIMEOUT.toSeconds()
            + "s\n"
            + server);
    return ConfigReader.read(f);
  }

  /** Starts the endpoints; returns the port. */
  private int start(ServiceConfig config) throws Exception {
    ServiceMetrics metrics = new ServiceMetrics();
    controller =
        new CatalogController(
            config,
            Optional.empty(),
            config.build().newSandbox(),
            Optional.empty(),
            metrics,
            Clock.systemUTC(),
            () -> 0.0);
    api =
        new HttpApi(
            config,
            controller,
            metrics,
            new WebhookReceiver(Map.of("github", SECRET), Clock.systemUTC()),
            AdminToken.of(config));
    api.start();
    return api.port();
  }

  @AfterEach
  void stop() throws Exception {
    clients.shutdownNow();
    if (api != null) {
      api.close();
    }
    if (controller != null) {
      controller.close();
    }
  }

  /** One request on a connection of its own; the status line, headers and body as text. */
  private static String exchange(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return readAnswer(s.getInputStream());
    }
  }

  /** Reads one answer (status line, headers, a Content-Length body). */
  private static String readAnswer(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException(
            "the connection closed after " + head.toString(StandardCharsets.ISO_8859_1));
      }
      head.write(b);
    }
    String h = head.toString(StandardCharsets.ISO_8859_1);
    Matcher m = Pattern.compile("(?im)^content-length: *(\\d+)").matcher(h);
    int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
    return h + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  private static int status(String answer) {
    return Integer.parseInt(answer.substring(9, 12));
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: klp\r\nConnection: close\r\n\r\n";
  }

  private static String post(String path, String... headers) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: klp\r\nConnection: close\r\nContent-Length: 0\r\n"
        + String.join("", List.of(headers).stream().map(x -> x + "\r\n").toList())
        + "\r\n";
  }

  /**
   * How long until the server closes a connection we keep quiet (or dribbling), in milliseconds.
   */
  private static long millisUntilClosed(Socket s, long startNanos) throws IOException {
    s.setSoTimeout(30_000);
    try {
      while (s.getInputStream().read() >= 0) {
        // An answer (408, say) may come first; the connection must still close.
      }
    } catch (SocketException reset) {
      // Closed with a reset: closed all the same.
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server kept the connection open for 30 s", e);
    }
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  @Test
  void slowBodiesOnMoreConnectionsThanThreadsDoNotStopHealthzAndStatusAndAreCutAtTheRequestTimeout()
      throws Exception {
    int port = start(config(""));
    int slow = HttpApi.THREADS * 2 + 4;
    List<Socket> sockets = new ArrayList<>();
    long opened = System.nanoTime();
    for (int i = 0; i < slow; i++) {
      Socket s = new Socket("127.0.0.1", port);
      s.getOutputStream()
          .write(
              ("POST /hooks/github HTTP/1.1\r\nHost: klp\r\nContent-Type: application/json\r\n"
                      + "X-GitHub-Event: push\r\nContent-Length: 1000\r\n\r\n{")
                  .getBytes(StandardCharsets.ISO_8859_1));
      sockets.add(s);
    }
    // One byte every half second on each: never silent for the read timeout, never done.
    Future<?> dribble =
        clients.submit(
            () -> {
              try {
                for (int i = 0; i < 40; i++) {
                  Thread.sleep(500);
                  for (Socket s : sockets) {
                    try {
                      s.getOutputStream().write(' ');
                    } catch (IOException closed) {
                      // Cut by the server: expected in the end.
                    }
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return null;
            });
    // Meanwhile the read-only endpoints answer at once, again and again.
    List<Long> answers = new ArrayList<>();
    while (System.nanoTime() - opened < REQUEST_TIMEOUT.minusMillis(1500).toNanos()) {
      for (String path : List.of("/healthz", "/status")) {
        long t0 = System.nanoTime();
        String a = exchange(port, get(path));
        answers.add((System.nanoTime() - t0) / 1_000_000);
        assertThat(status(a)).as(path).isEqualTo(200);
      }
      Thread.sleep(200);
    }
    assertThat(answers).hasSizeGreaterThan(6).allSatisfy(ms -> assertThat(ms).isLessThan(2000));
    assertThat(api.openConnections()).isGreaterThanOrEqualTo(slow);
    // The slow requests are cut when their time is up, not before (they were never idle).
    for (Socket s : sockets) {
      long ms = millisUntilClosed(s, opened);
      assertThat(ms).isBetween(REQUEST_TIMEOUT.toMillis() - 200, REQUEST_TIMEOUT.toMillis() + 3000);
      s.close();
    }
    dribble.cancel(true);
    assertThat(status(exchange(port, get("/healthz")))).isEqualTo(200);
  }

  @Test
  void aConnectionThatStopsSendingItsHeadersIsClosedAfterTheReadTimeout() throws Exception {
    int port = start(config(""));
    try (Socket quiet = new Socket("127.0.0.1", port)) {
      long t0 = System.nanoTime();
      quiet
          .getOutputStream()
          .write("GET /status HTTP/1.1\r\nHost: klp\r\n".getBytes(StandardCharsets.ISO_8859_1));
      long ms = millisUntilClosed(quiet, t0);
      assertThat(ms).isBetween(READ_TIMEOUT.toMillis() - 200, READ_TIMEOUT.toMillis() + 2000);
    }
  }

  @Test
  void aBodyThatStopsArrivingIsAnswered408AfterTheReadTimeout() throws Exception {
    int port = start(config(""));
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      long t0 = System.nanoTime();
      s.getOutputStream()
          .write(
              ("POST /hooks/github HTTP/1.1\r\nHost: klp\r\nContent-Type: application/json\r\n"
                      + "X-GitHub-Event: push\r\nContent-Length: 100\r\n\r\n{\"ref\":")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String answer = readAnswer(s.getInputStream());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(status(answer)).isEqualTo(408);
      assertThat(answer).contains("the body stopped arriving").contains("server.readTimeout");
      assertThat(ms).isBetween(READ_TIMEOUT.toMillis() - 200, READ_TIMEOUT.toMillis() + 2000);
      assertThat(millisUntilClosed(s, t0)).isLessThan(READ_TIMEOUT.toMillis() + 3000);
    }
  }

  @Test
  void headersSentOneByteAtATimeAreCutAtTheRequestTimeout() throws Exception {
    int port = start(config(""));
    try (Socket s = new Socket("127.0.0.1", port)) {
      long t0 = System.nanoTime();
      s.getOutputStream()
          .write("GET /status HTTP/1.1\r\nX-Slow: ".getBytes(StandardCharsets.ISO_8859_1));
      Future<?> dribble =
          clients.submit(
              () -> {
                for (int i = 0; i < 40; i++) {
                  Thread.sleep(500);
                  s.getOutputStream().write('a');
                }
                return null;
              });
      long ms = millisUntilClosed(s, t0);
      dribble.cancel(true);
      assertThat(ms).isBetween(REQUEST_TIMEOUT.toMillis() - 200, REQUEST_TIMEOUT.toMillis() + 3000);
    }
  }

  @Test
  void aConnectionKeptAliveBetweenRequestsServesThemAll() throws Exception {
    int port = start(config(""));
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      // Three requests, each well within the timeouts, over a time longer than the request timeout.
      for (int i = 0; i < 3; i++) {
        s.getOutputStream()
            .write(
                "GET /healthz HTTP/1.1\r\nHost: klp\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(readAnswer(s.getInputStream())).startsWith("HTTP/1.1 200").endsWith("ok\n");
        Thread.sleep(READ_TIMEOUT.toMillis() * 3 / 4);
      }
    }
  }

  @Test
  void oversizeBodiesAndHeadersAreRefusedWith413And431() throws Exception {
    int port = start(config(""));
    // A declared length over the limit: refused before a byte of the body is sent.
    String big =
        exchange(
            port,
            "POST /hooks/github HTTP/1.1\r\nHost: klp\r\nContent-Type: application/json\r\n"
                + "X-GitHub-Event: push\r\nContent-Length: "
                + (WebhookReceiver.MAX_BODY + 1)
                + "\r\n\r\n");
    assertThat(status(big)).isEqualTo(413);
    assertThat(big)
        .contains("\"error\":\"the body is larger than " + WebhookReceiver.MAX_BODY + " bytes\"");
    // A chunked body that goes over it.
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /hooks/github HTTP/1.1\r\n"
                  + "Host: klp\r\n"
                  + "Content-Type: application/json\r\n"
                  + "X-GitHub-Event: push\r\n"
                  + "Transfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      byte[] chunk = new byte[64 * 1024];
      Arrays.fill(chunk, (byte) ' ');
      String size = Integer.toHexString(chunk.length) + "\r\n";
      try {
        for (int sent = 0; sent <= WebhookReceiver.MAX_BODY; sent += chunk.length) {
          out.write(size.getBytes(StandardCharsets.ISO_8859_1));
          out.write(chunk);
          out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      } catch (SocketException refusedEarly) {
        // The server answered and closed before the last chunk: the answer is still there to read.
      }
      assertThat(status(readAnswer(s.getInputStream()))).isEqualTo(413);
    }
    // Headers over the limit.
    String filler = "x".repeat(HttpApi.MAX_HEADER_BYTES + 1);
    String headers =
        exchange(port, "GET /status HTTP/1.1\r\nHost: klp\r\nX-Filler: " + filler + "\r\n\r\n");
    assertThat(status(headers)).isEqualTo(431);
    assertThat(headers)
        .contains("\"error\":\"the request's headers are larger than " + HttpApi.MAX_HEADER_BYTES);
    // A body under the limit still reaches the webhook's verification.
    assertThat(
            status(
                exchange(
                    port,
                    "POST /hooks/github HTTP/1.1\r\nHost: klp\r\nContent-Type: application/json\r\n"
                        + "X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256="
                        + "0".repeat(64)
                        + "\r\nContent-Length: 2\r\n"
                        + "Connection: close\r\n\r\n{}")))
        .isEqualTo(401);
  }

  @Test
  void suspendAndResumeNeedTheAdminTokenEvenFromLoopback() throws Exception {
    ServiceConfig config = config("");
    int port = start(config);
    String token = Files.readString(AdminToken.generatedFile(config.stateDir())).strip();
    for (String path : List.of("/suspend", "/resume")) {
      // Every caller here is on loopback, as every caller behind a same-host reverse proxy is.
      String none = exchange(port, post(path));
      assertThat(status(none)).isEqualTo(401);
      assertThat(none)
          .containsIgnoringCase("WWW-Authenticate: Bearer")
          .contains("needs the admin token");
      assertThat(status(exchange(port, post(path, "Authorization: Bearer " + "0".repeat(64)))))
          .isEqualTo(401);
      assertThat(status(exchange(port, post(path, "Authorization: Bearer " + token + "x"))))
          .isEqualTo(401);
      assertThat(status(exchange(port, post(path, "Authorization: Basic " + token))))
          .isEqualTo(401);
      assertThat(
              status(
                  exchange(
                      port, post(path, "Authorization: Bearer", "X-Forwarded-For: 127.0.0.1"))))
          .isEqualTo(401);
      assertThat(status(exchange(port, get(path)))).isEqualTo(405);
    }
    assertThat(controller.suspended()).isFalse();
    assertThat(new StateStore(config.stateDir()).load().suspended()).isFalse();

    String suspended = exchange(port, post("/suspend", "Authorization: Bearer " + token));
    assertThat(status(suspended)).isEqualTo(200);
    assertThat(suspended).endsWith("{\"message\":\"suspended\"}\n");
    assertThat(controller.suspended()).isTrue();
    assertThat(status(exchange(port, post("/resume", "Authorization: bearer " + token))))
        .isEqualTo(200);
    assertThat(controller.suspended()).isFalse();
  }

  @Test
  void aConfiguredTokenIsTheOnlyOneTakenAndNoneIsGenerated() throws Exception {
    Files.writeString(tmp.resolve("admin-token"), "configured-admin-token-0123456789\n");
    ServiceConfig config = config("  adminTokenFile: admin-token\n");
    int port = start(config);
    assertThat(AdminToken.generatedFile(config.stateDir())).doesNotExist();
    assertThat(
            status(
                exchange(
                    port,
                    post("/suspend", "Authorization: Bearer configured-admin-token-0123456789"))))
        .isEqualTo(200);
    assertThat(controller.suspended()).isTrue();
  }

  @Test
  void theReadOnlyEndpointsAreOpenAndNothingElseIs() throws Exception {
    int port = start(config(""));
    assertThat(exchange(port, get("/healthz"))).startsWith("HTTP/1.1 200").endsWith("ok\n");
    assertThat(status(exchange(port, get("/status")))).isEqualTo(200);
    assertThat(status(exchange(port, get("/metrics")))).isEqualTo(200);
    assertThat(status(exchange(port, get("/nothing")))).isEqualTo(404);
    for (HttpApi.Endpoint e : HttpApi.Endpoint.values()) {
      if (!e.method.equals("GET")) {
        assertThat(e.access).as(e.name()).isNotEqualTo(HttpApi.Access.OPEN);
      }
    }
  }

  @Test
  void theGeneratedTokenIsTheServicesOwnAndSurvivesARestart() throws Exception {
    ServiceConfig config = config("");
    AdminToken first = AdminToken.of(config);
    Path file = AdminToken.generatedFile(config.stateDir());
    assertThat(first.generated()).isTrue();
    assertThat(first.file()).isEqualTo(file.toAbsolutePath().normalize());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    String token = Files.readString(file).strip();
    assertThat(token).matches("[0-9a-f]{64}");
    assertThat(first.accepts("Bearer " + token)).isTrue();
    assertThat(first.accepts("Bearer " + token.substring(1))).isFalse();
    assertThat(first.accepts(null)).isFalse();

    AdminToken again = AdminToken.of(config);
    assertThat(again.generated()).isFalse();
    assertThat(again.accepts("Bearer " + token)).isTrue();
    assertThat(Files.readString(file).strip()).isEqualTo(token);
    try (var files = Files.list(file.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .doesNotContain(".admin-token.tmp")
          .noneMatch(n -> n.endsWith(".tmp"));
    }

    // Readable by others: refused, with what to do.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> AdminToken.of(config))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("rw-r--r--")
        .hasMessageContaining("chmod 600");
    // A symbolic link (to a file someone else controls): refused.
    Files.delete(file);
    Path elsewhere =
        Files.writeString(tmp.resolve("planted"), HexFormat.of().formatHex(new byte[32]));
    Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rw-------"));
    Files.createSymbolicLink(file, elsewhere);
    assertThatThrownBy(() -> AdminToken.of(config))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a regular file");
    // Emptied: refused rather than taken as a token everyone knows.
    Files.delete(file);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    assertThatThrownBy(() -> AdminToken.of(config))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("does not hold an admin token");
  }
}
