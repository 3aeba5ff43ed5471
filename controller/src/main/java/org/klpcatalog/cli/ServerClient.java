package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.klpcatalog.service.AdminToken;
import org.klpcatalog.service.ConfigException;
import org.klpcatalog.service.ConfigReader;
import org.klpcatalog.service.ServiceConfig;
import picocli.CommandLine.Option;

/**
 * Options and calls of commands that talk to a running service (status, suspend, resume). The
 * service is found at {@code --server}, else where the service's configuration ({@code --config})
 * listens, else at the default address; state-changing calls carry the admin token of {@code
 * --token-file}, else the configuration's (its {@code server.adminTokenFile}, or the token the
 * service generated in its state directory), else the one a service with the default state
 * directory generated.
 */
final class ServerClient {
  static final String DEFAULT_SERVER = "http://" + ConfigReader.Defaults.LISTEN;

  /** Where a service with the default {@code stateDir} keeps the token it generated. */
  static final Path DEFAULT_TOKEN_FILE = AdminToken.generatedFile(ConfigReader.Defaults.STATE_DIR);

  @Option(
      names = "--server",
      paramLabel = "URL",
      description =
          "The service's URL (default: where --config listens, else " + DEFAULT_SERVER + ").")
  String server;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "The service's configuration: where it listens, and where its admin token is.")
  Path config;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "File holding the service's admin token, for suspend and resume (default: the"
              + " configuration's server.adminTokenFile, or <stateDir>/admin-token).")
  Path tokenFile;

  /**
   * A problem before anything is sent: a bad configuration (exit 2) or an unreadable token (exit
   * 5).
   */
  static final class Problem extends Exception {
    private static final long serialVersionUID = 1L;
    final int exitCode;
    final List<String> lines;

    Problem(int exitCode, List<String> lines) {
      super(String.join("\n", lines));
      this.exitCode = exitCode;
      this.lines = lines;
    }
  }

  /** An HTTP answer: status and body. */
  record Answer(int status, String body) {}

  private Optional<ServiceConfig> serviceConfig;

  private Optional<ServiceConfig> serviceConfig() throws Problem {
    if (serviceConfig == null) {
      if (config == null) {
        serviceConfig = Optional.empty();
      } else {
        try {
          serviceConfig = Optional.of(ConfigReader.read(config));
        } catch (ConfigException e) {
          throw new Problem(ExitCodes.INVALID, e.problems());
        }
      }
    }
    return serviceConfig;
  }

  /** The service's base URL, without a trailing slash. */
  String server() throws Problem {
    if (server != null) {
      return server.replaceAll("/+$", "");
    }
    Optional<ServiceConfig> c = serviceConfig();
    if (c.isEmpty()) {
      return DEFAULT_SERVER;
    }
    ServiceConfig.Server s = c.get().server();
    if (s.port() == 0) {
      throw new Problem(
          ExitCodes.INVALID,
          List.of(
              config
                  + ": server.listen takes any free port (0), so where the"
                  + " service listens is not known; pass --server URL"));
    }
    String host =
        switch (s.host()) {
          case "0.0.0.0", "" -> "127.0.0.1";
          case "::", "0:0:0:0:0:0:0:0" -> "[::1]";
          default -> s.host().contains(":") ? "[" + s.host() + "]" : s.host();
        };
    return "http://" + host + ":" + s.port();
  }

  /** The file the admin token is read from, if any is known. */
  Optional<Path> tokenFile() throws Problem {
    if (tokenFile != null) {
      return Optional.of(tokenFile);
    }
    Optional<ServiceConfig> c = serviceConfig();
    if (c.isPresent()) {
      return Optional.of(
          c.get()
              .server()
              .adminTokenFile()
              .orElse(AdminToken.generatedFile(c.get().stateDir().toAbsolutePath().normalize())));
    }
    return Files.exists(DEFAULT_TOKEN_FILE) ? Optional.of(DEFAULT_TOKEN_FILE) : Optional.empty();
  }

  /**
   * Calls the service. A POST carries the admin token when one is found; a GET never does (the
   * read-only endpoints are open).
   */
  Answer call(String method, String path) throws IOException, Problem {
    String base = server();
    Request.Builder rb = new Request.Builder().url(base + path);
    if (method.equals("POST")) {
      Optional<Path> file = tokenFile();
      if (file.isPresent()) {
        String token;
        try {
          token = Files.readString(file.get(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          throw new Problem(
              ExitCodes.UNAVAILABLE,
              List.of(
                  "cannot read the admin token in "
                      + file.get()
                      + " ("
                      + e.getClass().getSimpleName()
                      + "); run as the service's user, or pass --token-file FILE"));
        }
        rb.header("Authorization", "Bearer " + token);
      }
    }
    rb.method(method, method.equals("POST") ? RequestBody.create(new byte[0]) : null);
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectTimeout(5, TimeUnit.SECONDS)
            .readTimeout(30, TimeUnit.SECONDS)
            .build();
    try (Response r = http.newCall(rb.build()).execute()) {
      return new Answer(r.code(), r.body() == null ? "" : r.body().string());
    } finally {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }
}
