package org.klpcatalog.cli;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** {@code klp-catalog status}: what a running service says of itself, for humans. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show a running service's status: the followed branch, its conditions (Ready, Reconciling,"
          + " Stalled) with reasons, the repository's current version, and each patch's state."
    })
final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ServerClient client;

  @Mixin OutputOption output;

  @Option(
      names = {"-v", "--verbose"},
      description = "List every patch, not only those not published.")
  boolean verbose;

  @Override
  public Integer call() {
    Terminal t = Terminal.of(spec);
    ServerClient.Answer a;
    String server;
    try {
      server = client.server();
      a = client.call("GET", "/status");
    } catch (ServerClient.Problem p) {
      p.lines.forEach(l -> t.err().println("klp-catalog: " + Terminal.safe(l)));
      return p.exitCode;
    } catch (IOException e) {
      t.err()
          .println(
              "klp-catalog: cannot reach "
                  + Terminal.safe(
                      client.server != null ? client.server : ServerClient.DEFAULT_SERVER)
                  + ": "
                  + e.getMessage());
      return ExitCodes.UNAVAILABLE;
    }
    if (a.status() != 200) {
      t.err().println("klp-catalog: " + Terminal.safe(server) + "/status answered " + a.status());
      return ExitCodes.UNAVAILABLE;
    }
    JsonNode root = new ObjectMapper().readTree(a.body());
    Map<String, JsonNode> conds = new TreeMap<>();
    for (JsonNode c : root.path("conditions")) {
      conds.put(c.path("type").asString(), c);
    }
    boolean ready = "True".equals(conds.getOrDefault("Ready", root).path("status").asString(""));
    boolean stalled =
        "True".equals(conds.getOrDefault("Stalled", root).path("status").asString(""));
    if (output.json()) {
      t.out().println(a.body().strip());
    } else {
      print(t, root, conds);
    }
    return stalled ? ExitCodes.FAILED : ready ? ExitCodes.OK : ExitCodes.CHANGES;
  }

  private void print(Terminal t, JsonNode root, Map<String, JsonNode> conds) {
    JsonNode src = root.path("source");
    t.out()
        .println(
            "Following "
                + s(src.path("branch"))
                + " of "
                + s(src.path("url"))
                + (root.path("suspended").asBoolean() ? "  " + t.yellow("(suspended)") : ""));
    t.out()
        .println(
            "  last fetched  "
                + rev(src.path("lastFetchedRevision"))
                + "   last attempted "
                + rev(root.path("lastAttemptedRevision"))
                + "   last applied "
                + rev(root.path("lastAppliedRevision")));
    for (String type : new String[] {"Ready", "Reconciling", "Stalled"}) {
      JsonNode c = conds.get(type);
      if (c == null) {
        continue;
      }
      boolean on = "True".equals(c.path("status").asString());
      String status =
          on
              ? (type.equals("Ready")
                  ? t.green("True ")
                  : type.equals("Stalled") ? t.red("True ") : t.yellow("True "))
              : "False";
      String reason = s(c.path("reason"));
      t.out().printf("%-12s %s %-20s %s%n", type, status, reason, s(c.path("message")));
    }
    JsonNode repo = root.path("repository");
    t.out()
        .println(
            "Repository "
                + s(repo.path("path"))
                + ": version "
                + (repo.path("currentVersion").isNull() ? "(none)" : s(repo.path("currentVersion")))
                + (repo.path("revision").isNull() ? "" : " from " + rev(repo.path("revision"))));
    if (root.path("retry").path("attempt").asInt() > 0) {
      t.out()
          .println(
              "Retry "
                  + root.path("retry").path("attempt").asInt()
                  + " at "
                  + s(root.path("retry").path("nextAttemptTime")));
    }
    Map<String, Integer> counts = new TreeMap<>();
    for (JsonNode p : root.path("patches")) {
      counts.merge(p.path("state").asString(), 1, Integer::sum);
    }
    if (!counts.isEmpty()) {
      StringBuilder sb = new StringBuilder("Packages:");
      counts.forEach((k, v) -> sb.append(' ').append(v).append(' ').append(k).append(','));
      t.out().println(sb.substring(0, sb.length() - 1));
    }
    for (JsonNode p : root.path("patches")) {
      String state = p.path("state").asString();
      if (verbose || !state.equals("published")) {
        t.out()
            .printf(
                "  %-10s %s-%s%s%n",
                state,
                s(p.path("package")),
                s(p.path("evr")),
                p.has("detail") ? "  (" + s(p.path("detail")) + ")" : "");
      }
    }
    for (JsonNode pr : root.path("pullRequests")) {
      t.out()
          .println(
              "Pull request #"
                  + pr.path("number").asInt()
                  + " at "
                  + rev(pr.path("revision"))
                  + ": "
                  + s(pr.path("summary")));
    }
  }

  private static String s(JsonNode n) {
    return Terminal.safe(n.isNull() || n.isMissingNode() ? "" : n.asString());
  }

  private static String rev(JsonNode n) {
    String r = s(n);
    return r.isEmpty() ? "(none)" : r.substring(0, Math.min(12, r.length()));
  }
}
