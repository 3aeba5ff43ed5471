package org.klpcatalog.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A stand-in for the GitHub and Gitea REST APIs, which cannot run here. It answers only the
 * endpoints klp-catalog uses, as their documentation specifies them, and checks every request
 * against that contract: the path, the method, the authentication header of the forge, the media
 * type, and the body's fields and limits. A request that breaks the contract is answered as the
 * forge would (401, 404, 422) and recorded in {@link #violations()}, which tests assert is empty.
 *
 * <p>GitHub: {@code POST /repos/{owner}/{repo}/statuses/{sha}} (state one of error, failure,
 * pending, success; description at most 140 characters; context; target_url), {@code GET
 * /repos/{owner}/{repo}/issues/{number}/comments?per_page=&page=}, {@code POST
 * /repos/{owner}/{repo}/issues/{number}/comments} and {@code PATCH
 * /repos/{owner}/{repo}/issues/comments/{comment_id}} (body at most 65,536 characters), with {@code
 * Authorization: Bearer <token>}, {@code Accept: application/vnd.github+json} and {@code
 * X-GitHub-Api-Version}. Gitea: the same under {@code /api/v1}, with {@code Authorization: token
 * <token>}, {@code limit} instead of {@code per_page}, and a {@code warning} state besides.
 */
final class FakeForge implements AutoCloseable {
  /** A request as received. */
  record Request(
      String method, String path, String query, Map<String, String> headers, JsonNode body) {}

  /** A canned answer returned before the normal ones (to simulate outages and rate limits). */
  record Canned(int status, Map<String, String> headers, String body) {}

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final HttpServer server;
  private final boolean gitea;
  private final String token;
  private final String owner;
  private final String repo;
  private final List<Request> requests = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();
  private final Deque<Canned> canned = new ArrayDeque<>();
  private final Map<Long, ObjectNode> comments = new LinkedHashMap<>();
  private final Map<Long, Integer> commentIssue = new LinkedHashMap<>();
  private long nextId = 1000;

  FakeForge(boolean gitea, String token, String owner, String repo) throws IOException {
    this.gitea = gitea;
    this.token = token;
    this.owner = owner;
    this.repo = repo;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  synchronized void enqueue(Canned c) {
    canned.add(c);
  }

  /** The comments on an issue, as the forge holds them. */
  synchronized List<String> comments(int issue) {
    List<String> out = new ArrayList<>();
    comments.forEach(
        (id, c) -> {
          if (commentIssue.get(id) == issue) {
            out.add(c.path("body").asString());
          }
        });
    return out;
  }

  /** The statuses posted for a commit, in order: "state: description". */
  synchronized List<JsonNode> statuses(String sha) {
    return requests.stream()
        .filter(r -> r.method().equals("POST") && r.path().endsWith("/statuses/" + sha))
        .map(Request::body)
        .toList();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      String path = ex.getRequestURI().getPath();
      String query =
          ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery();
      Map<String, String> headers = new LinkedHashMap<>();
      ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.get(0)));
      byte[] raw = ex.getRequestBody().readAllBytes();
      JsonNode body = null;
      synchronized (this) {
        if (raw.length > 0) {
          try {
            body = MAPPER.readTree(raw);
          } catch (RuntimeException e) {
            reply(ex, violation(400, method + " " + path + ": body is not JSON"));
            return;
          }
        }
        requests.add(new Request(method, path, query, headers, body));
        Canned c = canned.poll();
        if (c != null) {
          c.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
          reply(ex, c.status(), c.body());
          return;
        }
        reply(ex, answer(method, path, query, headers, body));
      }
    }
  }

  private record Answer(int status, String body) {}

  private Answer violation(int status, String what) {
    violations.add(what);
    return new Answer(status, "{\"message\":\"" + what.replace("\"", "'") + "\"}");
  }

  private Answer answer(
      String method, String path, String query, Map<String, String> h, JsonNode body) {
    String prefix = gitea ? "/api/v1" : "";
    String auth = h.getOrDefault("authorization", "");
    if (!auth.equals((gitea ? "token " : "Bearer ") + token)) {
      return violation(401, method + " " + path + ": Authorization is '" + auth + "'");
    }
    if (!gitea && !"application/vnd.github+json".equals(h.get("accept"))) {
      return violation(400, method + " " + path + ": Accept is not application/vnd.github+json");
    }
    if (!gitea && !h.containsKey("x-github-api-version")) {
      return violation(400, method + " " + path + ": no X-GitHub-Api-Version");
    }
    if (!h.containsKey("user-agent")) {
      return violation(403, method + " " + path + ": no User-Agent");
    }
    if (body != null && !h.getOrDefault("content-type", "").startsWith("application/json")) {
      return violation(415, method + " " + path + ": Content-Type is not JSON");
    }
    String repoPath = prefix + "/repos/" + owner + "/" + repo;
    Matcher m;
    if ((m = Pattern.compile(Pattern.quote(repoPath) + "/statuses/([0-9a-f]{40})").matcher(path))
        .matches()) {
      if (!method.equals("POST")) {
        return violation(404, method + " " + path);
      }
      Set<String> states =
          gitea
              ? Set.of("pending", "success", "error", "failure", "warning")
              : Set.of("error", "failure", "pending", "success");
      if (body == null || !states.contains(body.path("state").asString(""))) {
        return violation(422, "status: state must be one of " + states);
      }
      if (body.path("description").asString("").length() > 140) {
        return violation(422, "status: description is longer than 140 characters");
      }
      if (body.path("context").asString("").isEmpty()) {
        return violation(422, "status: no context");
      }
      if (body.has("target_url")
          && !body.path("target_url").asString("").matches("https?://\\S+")) {
        return violation(422, "status: target_url is not a URL");
      }
      ObjectNode out = MAPPER.createObjectNode();
      out.put("id", nextId++);
      out.put("state", body.path("state").asString());
      out.put("context", body.path("context").asString());
      return new Answer(201, out.toString());
    }
    if ((m = Pattern.compile(Pattern.quote(repoPath) + "/issues/(\\d+)/comments").matcher(path))
        .matches()) {
      int issue = Integer.parseInt(m.group(1));
      if (method.equals("GET")) {
        if (!query.matches(gitea ? "limit=\\d+&page=\\d+" : "per_page=\\d+&page=\\d+")) {
          return violation(400, "list comments: unexpected query '" + query + "'");
        }
        int page = Integer.parseInt(query.replaceAll(".*page=(\\d+)$", "$1"));
        ArrayNode list = MAPPER.createArrayNode();
        if (page == 1) {
          comments.forEach(
              (id, c) -> {
                if (commentIssue.get(id) == issue) {
                  list.add(c);
                }
              });
        }
        return new Answer(200, list.toString());
      }
      if (method.equals("POST")) {
        String text = body == null ? "" : body.path("body").asString("");
        if (text.isEmpty() || text.length() > 65536) {
          return violation(422, "create comment: body empty or longer than 65536 characters");
        }
        ObjectNode c = MAPPER.createObjectNode();
        long id = nextId++;
        c.put("id", id);
        c.put("body", text);
        comments.put(id, c);
        commentIssue.put(id, issue);
        return new Answer(201, c.toString());
      }
      return violation(404, method + " " + path);
    }
    if ((m = Pattern.compile(Pattern.quote(repoPath) + "/issues/comments/(\\d+)").matcher(path))
        .matches()) {
      long id = Long.parseLong(m.group(1));
      if (!method.equals("PATCH") || !comments.containsKey(id)) {
        return violation(404, method + " " + path);
      }
      String text = body == null ? "" : body.path("body").asString("");
      if (text.isEmpty() || text.length() > 65536) {
        return violation(422, "edit comment: body empty or longer than 65536 characters");
      }
      comments.get(id).put("body", text);
      return new Answer(200, comments.get(id).toString());
    }
    return violation(404, method + " " + path + ": not an endpoint klp-catalog should call");
  }

  private static void reply(HttpExchange ex, Answer a) throws IOException {
    reply(ex, a.status(), a.body());
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(b);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
