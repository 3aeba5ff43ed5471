package org.klpcatalog.plan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code plan(desired, observed)}: the actions that turn the published repository into the desired
 * one. Pure and deterministic: the same inputs give the same plan, in the same order.
 */
public final class Planner {
  private Planner() {}

  /** Raised when publishing would give one NEVRA two contents; never publish then. */
  public static final class NevraCollision extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NevraCollision(String message) {
      super(message);
    }
  }

  public static Plan plan(DesiredState desired, ObservedState observed) {
    List<Action> adds = new ArrayList<>();
    List<Action> rebuilds = new ArrayList<>();
    List<Action> unchanged = new ArrayList<>();
    List<Action> obsoletes = new ArrayList<>();
    List<Action> retires = new ArrayList<>();
    String at = desired.revision().map(r -> " at " + shortRev(r)).orElse("");
    Map<String, ObservedPackage> published = new HashMap<>();
    observed.packages().forEach(o -> published.put(o.name(), o));
    Set<String> wanted = new HashSet<>();
    for (DesiredPackage d : desired.packages()) {
      wanted.add(d.name());
      checkNevra(d, observed);
      Optional<ObservedPackage> o = Optional.ofNullable(published.get(d.name()));
      if (o.isEmpty()) {
        adds.add(
            new Action.Add(
                d, List.of("patch " + d.patch() + " is not published yet" + origin(d, at))));
      } else if (o.get().evr().equals(d.evr()) && o.get().contentHash().equals(d.contentHash())) {
        unchanged.add(new Action.Unchanged(d, List.of("published as " + o.get().nevra())));
      } else {
        rebuilds.add(new Action.Rebuild(d, o.get(), changes(d, o.get(), at, observed.ledger())));
      }
    }
    List<Action> host = new ArrayList<>();
    desired
        .hostTool()
        .ifPresent(
            h -> {
              wanted.add(h.name());
              checkNevra(h.name(), h.evr(), h.nevra(), h.contentHash(), observed);
              host.add(hostTool(h, Optional.ofNullable(published.get(h.name()))));
            });
    Map<String, String> successors = new TreeMap<>();
    for (DesiredPackage d : desired.packages()) {
      for (Capability c : d.obsoletes()) {
        successors.putIfAbsent(c.name(), d.name());
      }
    }
    for (ObservedPackage o : observed.packages()) {
      if (wanted.contains(o.name())) {
        continue;
      }
      String successor = successors.get(o.name());
      if (successor != null) {
        obsoletes.add(
            new Action.Obsolete(
                o,
                successor,
                List.of(
                    "superseded by "
                        + successor
                        + "; hosts replace "
                        + o.nevra()
                        + " with it on upgrade")));
      } else if (o.name().equals(HostPackage.NAME)) {
        retires.add(
            new Action.Retire(
                o,
                List.of(
                    "the repository no longer carries the host tool; hosts that installed "
                        + o.nevra()
                        + " keep it")));
      } else {
        retires.add(
            new Action.Retire(
                o,
                List.of(
                    "its patch is no longer in the catalog"
                        + at
                        + "; hosts that installed "
                        + o.nevra()
                        + " keep it")));
      }
    }
    List<Action> actions = new ArrayList<>();
    actions.addAll(adds);
    actions.addAll(rebuilds);
    actions.addAll(obsoletes);
    actions.addAll(retires);
    actions.addAll(unchanged);
    actions.addAll(host);
    long hostChanged = host.stream().filter(a -> ((Action.HostTool) a).changed()).count();
    List<String> metadataReasons =
        metadataReasons(
            desired,
            observed,
            (int) (adds.size() + rebuilds.size() + hostChanged),
            obsoletes.size() + retires.size());
    if (!metadataReasons.isEmpty()) {
      actions.add(new Action.RegenerateMetadata(desired.group(), metadataReasons));
    }
    return new Plan(desired, observed, List.copyOf(actions));
  }

  private static Action.HostTool hostTool(HostPackage h, Optional<ObservedPackage> o) {
    Action.HostTool unchanged = new Action.HostTool(h, o, List.of());
    if (!unchanged.changed()) {
      return new Action.HostTool(h, o, List.of("published as " + o.get().nevra()));
    }
    return new Action.HostTool(
        h,
        o,
        List.of(
            o.map(p -> "host tool " + p.nevra() + " -> " + h.nevra())
                .orElse("the repository does not carry the host tool " + h.nevra() + " yet")));
  }

  /** A NEVRA the repository ever published with other content must not come back. */
  private static void checkNevra(DesiredPackage d, ObservedState observed) {
    checkNevra(d.name(), d.evr(), d.nevra(), d.contentHash(), observed);
  }

  private static void checkNevra(
      String name, Evr evr, String nevra, String contentHash, ObservedState observed) {
    Optional<String> published = observed.ledger().contentOf(name, evr.version(), evr.release());
    if (published.isPresent() && !published.get().equals(contentHash)) {
      throw new NevraCollision(
          nevra
              + " was published with other content ("
              + published.get().substring(0, 12)
              + ", now "
              + contentHash.substring(0, 12)
              + "); the catalog history and the repository disagree (was the branch rewritten?)."
              + " Publish into a new repository or restore the history.");
    }
  }

  private static String origin(DesiredPackage d, String at) {
    return d.changedIn().isEmpty() ? at : " (since " + shortRev(d.changedIn()) + ")";
  }

  private static List<String> changes(
      DesiredPackage d, ObservedPackage o, String at, ReleaseLedger published) {
    List<String> out = new ArrayList<>();
    published
        .known(o.name(), o.evr().version(), o.contentHash())
        .filter(e -> e.format() < DesiredStateBuilder.FORMAT)
        .ifPresent(
            e ->
                out.add(
                    "package format "
                        + e.format()
                        + " -> "
                        + DesiredStateBuilder.FORMAT
                        + (e.format() == 1 ? " (kpatch-kernel and kpatch-cve capabilities)" : "")));
    if (!o.evr().version().equals(d.evr().version())) {
      out.add("version " + o.evr().version() + " -> " + d.evr().version());
    }
    Set<String> before = new LinkedHashSet<>(o.kernels());
    Set<String> after = new LinkedHashSet<>(d.kernels());
    List<String> added = after.stream().filter(k -> !before.contains(k)).toList();
    List<String> removed = before.stream().filter(k -> !after.contains(k)).toList();
    if (!added.isEmpty()) {
      out.add("kernels added: " + String.join(", ", added));
    }
    if (!removed.isEmpty()) {
      out.add("kernels removed: " + String.join(", ", removed));
    }
    List<String> fix = new ArrayList<>();
    List<String> module = new ArrayList<>();
    List<String> variant = new ArrayList<>();
    for (ModuleFile m : d.modules()) {
      for (ObservedPackage.ObservedModule om : o.modules()) {
        if (!om.kernel().equals(m.kernelRelease())) {
          continue;
        }
        if (!om.variant().equals(m.variant())) {
          variant.add(m.kernelRelease());
        } else {
          if (!om.fixSha256().equals(m.fixSha256())) {
            fix.add(m.kernelRelease());
          }
          if (!om.moduleSha256().equals(m.moduleSha256().orElse("-"))) {
            module.add(m.kernelRelease());
          }
        }
      }
    }
    if (!variant.isEmpty()) {
      out.add("kernels served by another variant: " + String.join(", ", variant));
    }
    if (!fix.isEmpty()) {
      out.add("fix changed for " + String.join(", ", fix));
    }
    if (!module.isEmpty()) {
      out.add("module source changed for " + String.join(", ", module));
    }
    if (!o.metadataHash().equals(d.metadataHash())) {
      out.add("summary, description, license, references or obsoletes changed");
    }
    if (out.isEmpty()) {
      out.add("content changed (function capabilities, klp states or declared symbols)");
    }
    out.add(o.nevra() + " -> " + d.nevra() + origin(d, at));
    return out;
  }

  private static List<String> metadataReasons(
      DesiredState desired, ObservedState observed, int changed, int removed) {
    List<String> out = new ArrayList<>();
    if (!observed.exists()) {
      out.add("the repository does not exist yet");
    }
    if (changed > 0 || removed > 0) {
      out.add(changed + " package(s) new or rebuilt, " + removed + " removed");
    }
    Optional<DesiredGroup> g = observed.group();
    if (observed.exists() && (g.isEmpty() || !g.get().equals(desired.group()))) {
      out.add("group " + desired.group().id() + " changed");
    }
    return out;
  }

  static String shortRev(String rev) {
    return rev.length() > 12 ? rev.substring(0, 12) : rev;
  }
}
