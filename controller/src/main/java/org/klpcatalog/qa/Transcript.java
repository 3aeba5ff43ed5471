package org.klpcatalog.qa;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The guest's console output read back: the {@link Marker} lines of the run's nonce, each with the
 * output lines that followed it. Everything else (firmware, kernel messages printed on the console,
 * lines a test wrote to the console itself, a marker the guest script does not print) is ignored.
 * Pure.
 */
public record Transcript(List<Event> events) {
  /**
   * One marker: what happened, in which phase (its name, as {@link Phase.Run#name}), its arguments,
   * and the output after it.
   */
  public record Event(Marker marker, String phase, List<String> args, List<String> output) {
    public String arg(int i) {
      return i < args.size() ? args.get(i) : "";
    }
  }

  public static Transcript parse(String console, String nonce) {
    String prefix = Marker.PREFIX + " " + nonce + " ";
    List<Event> events = new ArrayList<>();
    List<String> output = null;
    for (String raw : console.split("\n", -1)) {
      String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
      // Output lines are never markers. A kernel message printed on the console may precede a
      // marker on its line; a marker is found anywhere else.
      int at = line.startsWith("| ") || line.equals("|") ? -1 : line.indexOf(prefix);
      if (at >= 0) {
        String[] f = line.substring(at + prefix.length()).strip().split(" +");
        if (f.length >= 2) {
          output = new ArrayList<>();
          Optional<Marker> marker = Marker.named(f[0]);
          if (marker.isPresent()) {
            events.add(new Event(marker.get(), f[1], List.of(f).subList(2, f.length), output));
          }
          continue;
        }
      }
      if (output != null && line.startsWith("| ")) {
        output.add(line.substring(2));
      } else if (output != null && line.equals("|")) {
        output.add("");
      }
    }
    return new Transcript(List.copyOf(events));
  }

  public boolean finished() {
    return events.stream().anyMatch(e -> e.marker() == Marker.END);
  }

  public List<Event> in(String phase) {
    return events.stream().filter(e -> e.phase().equals(phase)).toList();
  }
}
