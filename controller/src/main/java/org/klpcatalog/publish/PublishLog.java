package org.klpcatalog.publish;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The repository's history, {@code <repo>/history.jsonl}: one JSON object per line, appended after
 * each switch of {@code current}: {@code publish} (version, catalog revision, changes) and {@code
 * rollback} (from, to). Lines are small and appended in one write.
 */
public final class PublishLog {
  public static final String FILE = "history.jsonl";
  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  /**
   * One event. {@code detail} holds the changes of a publish ("+2 ~1 -1") or the reason of a
   * rollback.
   */
  public record Event(
      String kind, String at, String version, String from, String revision, String detail) {}

  private PublishLog() {}

  public static void append(Path repo, Event e) throws IOException {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("event", e.kind());
    o.put("at", e.at());
    o.put("version", e.version());
    if (!e.from().isEmpty()) {
      o.put("from", e.from());
    }
    o.put("revision", e.revision());
    o.put("detail", e.detail());
    Files.writeString(
        repo.resolve(FILE),
        MAPPER.writeValueAsString(o) + "\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND,
        StandardOpenOption.WRITE);
  }

  public static List<Event> read(Path repo) throws IOException {
    Path f = repo.resolve(FILE);
    List<Event> out = new ArrayList<>();
    if (!Files.exists(f)) {
      return out;
    }
    for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonNode n = MAPPER.readTree(line);
        out.add(
            new Event(
                n.path("event").asString(""),
                n.path("at").asString(""),
                n.path("version").asString(""),
                n.path("from").asString(""),
                n.path("revision").asString(""),
                n.path("detail").asString("")));
      } catch (RuntimeException ex) {
        // A line cut by a crash: the versions' inventories still say what was published.
      }
    }
    return out;
  }
}
