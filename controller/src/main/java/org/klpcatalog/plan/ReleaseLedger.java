package org.klpcatalog.plan;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Which release number each (package, version, content) has had. Releases start at 1 for a new
 * version and grow by one whenever the content of that version changes; content seen before keeps
 * its number. Replaying a catalog's history through the ledger makes releases reproducible from the
 * catalog; the published repository's inventory carries the ledger too, so a NEVRA is never given
 * to two contents. Immutable.
 */
public final class ReleaseLedger {
  /**
   * One assignment: this content of this version of the package has this release; {@code origin} is
   * the catalog revision where the content first appeared ("" when unknown); {@code format} is the
   * {@link DesiredStateBuilder#FORMAT} its content hash was computed under.
   */
  public record Entry(String version, String contentHash, int release, String origin, int format) {
    /** An assignment made under the current format. */
    public Entry(String version, String contentHash, int release, String origin) {
      this(version, contentHash, release, origin, DesiredStateBuilder.FORMAT);
    }
  }

  public static final ReleaseLedger EMPTY = new ReleaseLedger(Map.of());

  private final Map<String, List<Entry>> entries;

  private ReleaseLedger(Map<String, List<Entry>> entries) {
    this.entries = entries;
  }

  public static ReleaseLedger of(Map<String, List<Entry>> entries) {
    Map<String, List<Entry>> copy = new TreeMap<>();
    entries.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    return new ReleaseLedger(Collections.unmodifiableMap(copy));
  }

  public Map<String, List<Entry>> entries() {
    return entries;
  }

  /** The entry of this content of this version, if the ledger knows it. */
  public Optional<Entry> known(String pkg, String version, String contentHash) {
    for (Entry e : entries.getOrDefault(pkg, List.of())) {
      if (e.version().equals(version) && e.contentHash().equals(contentHash)) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }

  /** The content hash recorded for a NEVR, if any. */
  public Optional<String> contentOf(String pkg, String version, int release) {
    for (Entry e : entries.getOrDefault(pkg, List.of())) {
      if (e.version().equals(version) && e.release() == release) {
        return Optional.of(e.contentHash());
      }
    }
    return Optional.empty();
  }

  /** The release new content of this version would get: one above the highest seen. */
  public int next(String pkg, String version) {
    int max = 0;
    for (Entry e : entries.getOrDefault(pkg, List.of())) {
      if (e.version().equals(version)) {
        max = Math.max(max, e.release());
      }
    }
    return max + 1;
  }

  /** The last entry recorded for a package: its latest known version and release. */
  public Optional<Entry> last(String pkg) {
    List<Entry> l = entries.getOrDefault(pkg, List.of());
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(l.size() - 1));
  }

  /**
   * This ledger (replayed from a catalog's history under the current format) made to follow what a
   * repository published under older formats: those entries keep their releases, and each version's
   * releases here are raised above the highest of them. A package published before a format change
   * so gets a new release for its new content hash instead of reusing a NEVRA the repository gave
   * other content. Without older entries the ledger is returned as it is, so releases stay
   * reproducible from the catalog alone.
   */
  public ReleaseLedger following(ReleaseLedger published) {
    Map<String, List<Entry>> out = new TreeMap<>();
    published.entries.forEach(
        (pkg, list) ->
            list.stream()
                .filter(e -> e.format() < DesiredStateBuilder.FORMAT)
                .forEach(e -> out.computeIfAbsent(pkg, k -> new ArrayList<>()).add(e)));
    if (out.isEmpty()) {
      return this;
    }
    entries.forEach(
        (pkg, list) -> {
          List<Entry> older = List.copyOf(out.getOrDefault(pkg, List.of()));
          for (Entry e : list) {
            int above =
                older.stream()
                    .filter(o -> o.version().equals(e.version()))
                    .mapToInt(Entry::release)
                    .max()
                    .orElse(0);
            out.computeIfAbsent(pkg, k -> new ArrayList<>())
                .add(new Entry(e.version(), e.contentHash(), e.release() + above, e.origin()));
          }
        });
    return of(out);
  }

  /** Collects new assignments on top of a ledger. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  public static final class Builder {
    private final Map<String, List<Entry>> entries = new TreeMap<>();

    private Builder(ReleaseLedger base) {
      base.entries.forEach((k, v) -> entries.put(k, new ArrayList<>(v)));
    }

    /** The entry of this content: the known one, or a new one with the next free release. */
    public Entry assign(String pkg, String version, String contentHash, String origin) {
      List<Entry> list = entries.computeIfAbsent(pkg, k -> new ArrayList<>());
      int max = 0;
      for (Entry e : list) {
        if (e.version().equals(version)) {
          if (e.contentHash().equals(contentHash)) {
            return e;
          }
          max = Math.max(max, e.release());
        }
      }
      Entry added = new Entry(version, contentHash, max + 1, origin);
      list.add(added);
      return added;
    }

    /** Records an entry as it was published (inventory), keeping the first for each content. */
    public Builder record(String pkg, Entry entry) {
      List<Entry> list = entries.computeIfAbsent(pkg, k -> new ArrayList<>());
      if (list.stream()
          .noneMatch(e -> e.version().equals(entry.version()) && e.release() == entry.release())) {
        list.add(entry);
      }
      return this;
    }

    public ReleaseLedger build() {
      return ReleaseLedger.of(entries);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReleaseLedger l && l.entries.equals(entries);
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }
}
