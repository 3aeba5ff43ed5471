package org.klpcatalog.service;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the service remembers across restarts, in {@code <stateDir>/state.json}: the last commit of
 * the branch it accepted (a force-push is judged against it), the last attempted and applied
 * revisions, and whether it is suspended. Written whole to a temporary file and renamed, so a crash
 * leaves the old state or the new one.
 */
public final class StateStore {
  /** The remembered state. */
  public record State(
      Optional<String> acceptedRevision,
      Optional<String> lastAttemptedRevision,
      Optional<String> lastAppliedRevision,
      boolean suspended) {
    public static final State EMPTY =
        new State(Optional.empty(), Optional.empty(), Optional.empty(), false);

    public State withAccepted(String rev) {
      return new State(Optional.of(rev), lastAttemptedRevision, lastAppliedRevision, suspended);
    }

    public State withAttempted(String rev) {
      return new State(acceptedRevision, Optional.of(rev), lastAppliedRevision, suspended);
    }

    public State withApplied(String rev) {
      return new State(acceptedRevision, lastAttemptedRevision, Optional.of(rev), suspended);
    }

    public State withSuspended(boolean s) {
      return new State(acceptedRevision, lastAttemptedRevision, lastAppliedRevision, s);
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final Path file;

  public StateStore(Path stateDir) {
    this.file = stateDir.resolve("state.json");
  }

  public State load() throws IOException {
    if (!Files.exists(file)) {
      return State.EMPTY;
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new IOException(
          file + " is not valid JSON (" + e.getMessage() + "); move it away to start afresh", e);
    }
    return new State(
        text(root, "acceptedRevision"),
        text(root, "lastAttemptedRevision"),
        text(root, "lastAppliedRevision"),
        root.path("suspended").asBoolean(false));
  }

  private static Optional<String> text(JsonNode root, String field) {
    JsonNode n = root.get(field);
    return n == null || n.isNull() || !n.asString().matches("[0-9a-f]{40}|[0-9a-f]{64}")
        ? Optional.empty()
        : Optional.of(n.asString());
  }

  public void save(State state) throws IOException {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("acceptedRevision", state.acceptedRevision().orElse(null));
    root.put("lastAttemptedRevision", state.lastAttemptedRevision().orElse(null));
    root.put("lastAppliedRevision", state.lastAppliedRevision().orElse(null));
    root.put("suspended", state.suspended());
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(".state.json.tmp");
    Files.writeString(
        tmp,
        MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n",
        StandardCharsets.UTF_8);
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
