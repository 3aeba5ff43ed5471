package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.publish.PublishLog;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code klp-catalog history}: the repository's versions and what happened to it. */
@Command(
    name = "history",
    mixinStandardHelpOptions = true,
    description =
        "List the repository's kept versions (catalog revision, packages, which is current) and its"
            + " events: each publish with its changes, each rollback.")
final class HistoryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin RepoOption target;

  @Mixin OutputOption output;

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    try {
      Path current = target.repo.resolve(RepositoryReader.CURRENT);
      String currentName =
          Files.exists(current) ? current.toRealPath().getFileName().toString() : "";
      List<String> versions = Publisher.versionNames(target.repo.resolve(Publisher.VERSIONS));
      List<PublishLog.Event> events = PublishLog.read(target.repo);
      ObjectNode root = Json.object();
      ArrayNode vs = root.putArray("versions");
      if (!output.json()) {
        t.out().println("Versions (" + target.repo + "):");
      }
      for (String v : versions) {
        ObservedState s =
            RepositoryReader.readVersion(target.repo.resolve(Publisher.VERSIONS).resolve(v), null);
        boolean isCurrent = v.equals(currentName);
        ObjectNode o = vs.addObject();
        o.put("version", v);
        o.put("current", isCurrent);
        o.put("revision", s.revision().orElse(null));
        o.put("packages", s.packages().size());
        if (!output.json()) {
          t.out()
              .printf(
                  "  %s %-4s %3d package(s)%s%n",
                  isCurrent ? "*" : " ",
                  v,
                  s.packages().size(),
                  s.revision()
                      .map(r -> "  catalog " + r.substring(0, Math.min(12, r.length())))
                      .orElse(""));
        }
      }
      ArrayNode es = root.putArray("events");
      if (!output.json()) {
        t.out().println("Events:");
      }
      for (PublishLog.Event e : events) {
        ObjectNode o = es.addObject();
        o.put("event", e.kind());
        o.put("at", e.at());
        o.put("version", e.version());
        o.put("from", e.from());
        o.put("revision", e.revision());
        o.put("detail", e.detail());
        if (!output.json()) {
          t.out()
              .printf(
                  "  %s  %-8s %s%s%n",
                  e.at(),
                  e.kind(),
                  e.kind().equals("rollback")
                      ? e.from() + " -> " + e.version()
                      : "version " + e.version(),
                  e.detail().isEmpty() ? "" : ": " + Terminal.safe(e.detail()));
        }
      }
      if (output.json()) {
        t.out().println(Json.pretty(root));
      }
      return ExitCodes.OK;
    } catch (IOException | CorruptRepositoryException e) {
      t.err().println("klp-catalog: " + Terminal.safeLines(String.valueOf(e.getMessage())));
      return ExitCodes.UNAVAILABLE;
    }
  }
}
