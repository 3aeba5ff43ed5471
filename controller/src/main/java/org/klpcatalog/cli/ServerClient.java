package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import picocli.CommandLine.Option;

/** Options and calls of commands that talk to a running service (status, suspend, resume). */
final class ServerClient {
  @Option(names = "--server", paramLabel = "URL", description = "The service's URL (default: http://127.0.0.1:8080).")
  String server = "http://127.0.0.1:8080";

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "File holding the service's admin token (server.adminTokenFile), for suspend and resume.")
  Path tokenFile;

  /** An HTTP answer: status and body. */
  record Answer(int status, String body) {}

  Answer call(String method, String path) throws IOException {
    OkHttpClient http = new OkHttpClient.Builder().connectTimeout(5, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS)
        .build();
    Request.Builder rb = new Request.Builder().url(server.replaceAll("/+$", "") + path);
    if (tokenFile != null) {
      rb.header("Authorization", "Bearer " + Files.readString(tokenFile, StandardCharsets.UTF_8).strip());
    }
    rb.method(method, method.equals("POST") ? RequestBody.create(new byte[0]) : null);
    try (Response r = http.newCall(rb.build()).execute()) {
      return new Answer(r.code(), r.body() == null ? "" : r.body().string());
    } finally {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }
}
