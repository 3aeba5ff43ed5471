package org.klpcatalog.catalog.validate;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.klpcatalog.catalog.diag.Diagnostics;
import org.klpcatalog.catalog.load.Codes;
import org.klpcatalog.catalog.model.CatalogSpec;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.StateSpec;
import org.klpcatalog.catalog.schema.Suggest;

/**
 * The rules that relate patches to each other: supersedes (targets, cycles, coverage, states),
 * which patches are active, function conflicts between active patches per kernel, cumulative
 * patches that would revert others, and klp_state compatibility.
 */
final class CatalogRules {
  private final List<Kernel> kernels;
  private final String packagePrefix;
  private final History history;
  private final Diagnostics d = new Diagnostics();
  private int suggestions;

  /** "Did you mean" hints for unknown superseded patches, per validation at most. */
  static final int MAX_SUGGESTIONS = 20;

  CatalogRules(List<Kernel> kernels, String packagePrefix, History history) {
    this.kernels = kernels;
    this.packagePrefix = packagePrefix;
    this.history = history;
  }

  Diagnostics diagnostics() {
    return d;
  }

  /** Applies the rules and returns the reports with {@code active} set. */
  Map<String, PatchReport> check(Map<String, PatchReport> reports) {
    reservedNames(reports);
    Map<String, String> supersededBy = supersedes(reports);
    Map<String, PatchReport> out = new TreeMap<>();
    for (PatchReport r : reports.values()) {
      out.put(r.patch().name(), r.withActive(!supersededBy.containsKey(r.patch().name())));
    }
    List<PatchReport> active = new ArrayList<>();
    for (PatchReport r : out.values()) {
      if (r.active()) {
        active.add(r);
      }
    }
    conflicts(active);
    replaceReverts(active);
    stateConflicts(active);
    return out;
  }

  private void error(Livepatch p, String code, String yamlPath, String message) {
    var m = p.source().markOf(yamlPath);
    d.error(code, p.manifestPath(), m.line(), m.column(), yamlPath, message);
  }

  /** A patch whose package would take the host tool's name. */
  private void reservedNames(Map<String, PatchReport> reports) {
    for (PatchReport r : reports.values()) {
      String pkg = packagePrefix + r.patch().name();
      if (CatalogSpec.RESERVED_PACKAGES.contains(pkg)) {
        error(
            r.patch(),
            Codes.RESERVED_NAME,
            "metadata.name",
            "the package of patch '"
                + r.patch().name()
                + "' would be named "
                + pkg
                + ", "
                + reservedWhat(pkg)
                + "; rename the patch or change spec.packagePrefix in catalog.yaml");
      }
    }
  }

  private static String reservedWhat(String pkg) {
    return pkg.equals(CatalogSpec.HOST_TOOL_PACKAGE)
        ? "the host tool package the repository carries"
        : "a package of hosts' livepatch and package tooling";
  }

  /** Checks supersedes and returns each superseded patch of the catalog with its successor. */
  private Map<String, String> supersedes(Map<String, PatchReport> reports) {
    Map<String, String> supersededBy = new TreeMap<>();
    for (PatchReport r : reports.values()) {
      Livepatch p = r.patch();
      for (int i = 0; i < p.supersedes().size(); i++) {
        String target = p.supersedes().get(i);
        String path = "spec.supersedes[" + i + "]";
        if (target.equals(p.name())) {
          error(
              p,
              Codes.SUPERSEDES_SELF,
              path,
              "a patch cannot supersede itself; remove '" + target + "'");
          continue;
        }
        if (CatalogSpec.RESERVED_PACKAGES.contains(packagePrefix + target)) {
          error(
              p,
              Codes.RESERVED_NAME,
              path,
              "supersedes '"
                  + target
                  + "', whose package would be "
                  + packagePrefix
                  + target
                  + ", "
                  + reservedWhat(packagePrefix + target)
                  + "; a patch cannot replace it");
          continue;
        }
        if (!reports.containsKey(target) && history.lastVersion(packagePrefix + target).isEmpty()) {
          // A hint compares the name with every patch's: a bounded number of them keeps a
          // manifest listing thousands of unknown names from costing its length times the catalog.
          String hint = null;
          if (suggestions < MAX_SUGGESTIONS) {
            suggestions++;
            Set<String> others = new TreeSet<>(reports.keySet());
            others.remove(p.name());
            hint = Suggest.closest(target, others);
          }
          error(
              p,
              Codes.SUPERSEDES_UNKNOWN,
              path,
              "supersedes '"
                  + target
                  + "', which is neither in the catalog nor in its history or published repository"
                  + (hint != null ? " (did you mean '" + hint + "'?)" : "")
                  + "; superseded patches stay in the catalog (or its Git history) so hosts can be"
                  + " moved off them");
          continue;
        }
        String previous = supersededBy.putIfAbsent(target, p.name());
        if (previous != null) {
          error(
              p,
              Codes.SUPERSEDED_TWICE,
              path,
              "'"
                  + target
                  + "' is already superseded by '"
                  + previous
                  + "'; a patch can be rolled into one successor only (supersede '"
                  + previous
                  + "' instead)");
        }
      }
    }
    cycles(reports);
    for (PatchReport r : reports.values()) {
      Livepatch p = r.patch();
      for (int i = 0; i < p.supersedes().size(); i++) {
        PatchReport target = reports.get(p.supersedes().get(i));
        if (target == null || target == r) {
          continue;
        }
        String path = "spec.supersedes[" + i + "]";
        List<Kernel> lost = new ArrayList<>(target.kernels());
        lost.removeAll(new HashSet<>(r.kernels()));
        if (!lost.isEmpty() && !r.kernels().isEmpty()) {
          error(
              p,
              Codes.SUPERSEDES_COVERAGE,
              path,
              "supersedes '"
                  + target.patch().name()
                  + "' but does not serve "
                  + KernelSelection.describe(lost)
                  + ", which '"
                  + target.patch().name()
                  + "' serves: dnf would replace it there by a package without a module for that"
                  + " kernel; widen spec.kernels");
        }
        Map<Long, StateSpec> mineById = new HashMap<>();
        for (StateSpec m : p.states()) {
          mineById.put(m.id(), m); // the last entry of an id, as the kernel would see it
        }
        for (StateSpec s : target.patch().states()) {
          StateSpec mine = mineById.get(s.id());
          if (mine == null || mine.version() < s.version()) {
            error(
                p,
                Codes.STATE_VERSION,
                path,
                "supersedes '"
                    + target.patch().name()
                    + "', which has klp_state id "
                    + s.id()
                    + " version "
                    + s.version()
                    + ", but "
                    + (mine == null
                        ? "carries no state " + s.id()
                        : "carries it at version " + mine.version())
                    + "; a successor must carry each state at the same or a higher version (the"
                    + " kernel refuses to load it otherwise)");
          }
        }
      }
    }
    return supersededBy;
  }

  private void cycles(Map<String, PatchReport> reports) {
    Map<String, Integer> state = new HashMap<>();
    Set<String> reported = new TreeSet<>();
    for (String start : reports.keySet()) {
      List<String> stack = new ArrayList<>();
      dfs(start, reports, state, stack, reported);
    }
  }

  private void dfs(
      String node,
      Map<String, PatchReport> reports,
      Map<String, Integer> state,
      List<String> stack,
      Set<String> reported) {
    Integer s = state.get(node);
    if (s != null && s == 2) {
      return;
    }
    if (s != null && s == 1) {
      List<String> cycle = new ArrayList<>(stack.subList(stack.indexOf(node), stack.size()));
      String first = new TreeSet<>(cycle).first();
      if (reported.add(first)) {
        PatchReport r = reports.get(first);
        cycle.add(node);
        error(
            r.patch(),
            Codes.SUPERSEDES_CYCLE,
            "spec.supersedes",
            "supersedes forms a cycle: "
                + String.join(" -> ", cycle)
                + "; a patch cannot be rolled into one it superseded");
      }
      return;
    }
    PatchReport r = reports.get(node);
    if (r == null) {
      return;
    }
    state.put(node, 1);
    stack.add(node);
    for (String t : r.patch().supersedes()) {
      if (!t.equals(node)) {
        dfs(t, reports, state, stack, reported);
      }
    }
    stack.remove(stack.size() - 1);
    state.put(node, 2);
  }

  private BitSet kernelSet(List<Kernel> ks, Map<Kernel, Integer> index) {
    BitSet b = new BitSet(kernels.size());
    for (Kernel k : ks) {
      Integer i = index.get(k);
      if (i != null) {
        b.set(i);
      }
    }
    return b;
  }

  private Map<Kernel, Integer> kernelIndex() {
    Map<Kernel, Integer> index = new HashMap<>();
    for (int i = 0; i < kernels.size(); i++) {
      index.put(kernels.get(i), i);
    }
    return index;
  }

  private List<Kernel> kernelsOf(BitSet b) {
    List<Kernel> out = new ArrayList<>();
    for (int i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i + 1)) {
      out.add(kernels.get(i));
    }
    return out;
  }

  /** A function owned by one variant of one patch on a set of kernels. */
  private record Owner(int patch, BitSet kernels) {}

  private void conflicts(List<PatchReport> active) {
    Map<Kernel, Integer> index = kernelIndex();
    Map<String, List<Owner>> owners = new HashMap<>();
    for (int pi = 0; pi < active.size(); pi++) {
      for (VariantReport v : active.get(pi).variants()) {
        BitSet ks = kernelSet(v.kernels(), index);
        if (ks.isEmpty()) {
          continue;
        }
        for (String key : v.functionKeys()) {
          owners.computeIfAbsent(key, k -> new ArrayList<>(2)).add(new Owner(pi, ks));
        }
      }
    }
    // pair of patches -> function -> shared kernels
    Map<Long, Map<String, BitSet>> clashes = new TreeMap<>();
    for (Map.Entry<String, List<Owner>> e : owners.entrySet()) {
      List<Owner> list = e.getValue();
      if (list.size() < 2) {
        continue;
      }
      for (int i = 0; i < list.size(); i++) {
        for (int j = i + 1; j < list.size(); j++) {
          Owner a = list.get(i);
          Owner b = list.get(j);
          if (a.patch == b.patch) {
            continue;
          }
          BitSet shared = (BitSet) a.kernels.clone();
          shared.and(b.kernels);
          if (shared.isEmpty()) {
            continue;
          }
          long pair = ((long) Math.min(a.patch, b.patch) << 32) | Math.max(a.patch, b.patch);
          clashes
              .computeIfAbsent(pair, x -> new TreeMap<>())
              .computeIfAbsent(e.getKey(), x -> new BitSet())
              .or(shared);
        }
      }
    }
    for (Map.Entry<Long, Map<String, BitSet>> e : clashes.entrySet()) {
      PatchReport first = active.get((int) (e.getKey() >>> 32));
      PatchReport second = active.get((int) (e.getKey() & 0xffffffffL));
      BitSet all = new BitSet();
      for (BitSet b : e.getValue().values()) {
        all.or(b);
      }
      Livepatch a = first.patch();
      Livepatch b = second.patch();
      error(
          b,
          Codes.FUNCTION_CONFLICT,
          "spec.kernels",
          "patches '"
              + a.name()
              + "' and '"
              + b.name()
              + "' both change "
              + String.join(", ", e.getValue().keySet())
              + " on "
              + KernelSelection.describe(kernelsOf(all))
              + ": only one package may own a function on a kernel; roll one fix into the other and"
              + " add 'supersedes: ["
              + a.name()
              + "]' to "
              + b.name()
              + " (or the other way round)");
    }
  }

  private void replaceReverts(List<PatchReport> active) {
    Map<Kernel, Integer> index = kernelIndex();
    for (PatchReport r : active) {
      if (!r.patch().replace()) {
        continue;
      }
      BitSet mine = kernelSet(r.kernels(), index);
      Map<String, List<Kernel>> reverted = new LinkedHashMap<>();
      for (PatchReport other : active) {
        if (other == r) {
          continue;
        }
        BitSet shared = kernelSet(other.kernels(), index);
        shared.and(mine);
        if (!shared.isEmpty()) {
          reverted.put(other.patch().name(), kernelsOf(shared));
        }
      }
      for (Map.Entry<String, List<Kernel>> e : reverted.entrySet()) {
        error(
            r.patch(),
            Codes.REPLACE_REVERTS,
            "spec.replace",
            "is cumulative (replace: true), so loading it disables every other livepatch and would"
                + " revert '"
                + e.getKey()
                + "' on "
                + KernelSelection.describe(e.getValue())
                + "; carry that fix in this patch and add '"
                + e.getKey()
                + "' to spec.supersedes");
      }
    }
  }

  /**
   * Two active patches sharing a kernel may not carry one klp_state id at different versions.
   * Patches are grouped by state id and version first, so the work is in the pairs that differ, not
   * in every pair of patches with states.
   */
  private void stateConflicts(List<PatchReport> all) {
    Map<Kernel, Integer> index = kernelIndex();
    // id -> version -> indices (in report order) of the patches carrying it
    Map<Long, TreeMap<Long, List<Integer>>> carriers = new TreeMap<>();
    for (int i = 0; i < all.size(); i++) {
      for (StateSpec s : all.get(i).patch().states()) {
        List<Integer> list =
            carriers
                .computeIfAbsent(s.id(), x -> new TreeMap<>())
                .computeIfAbsent(s.version(), x -> new ArrayList<>());
        if (list.isEmpty() || list.get(list.size() - 1) != i) {
          list.add(i);
        }
      }
    }
    Map<Integer, BitSet> kernelSets = new HashMap<>();
    for (Map.Entry<Long, TreeMap<Long, List<Integer>>> byId : carriers.entrySet()) {
      List<Map.Entry<Long, List<Integer>>> versions = new ArrayList<>(byId.getValue().entrySet());
      for (int x = 0; x < versions.size(); x++) {
        for (int y = x + 1; y < versions.size(); y++) {
          for (int i : versions.get(x).getValue()) {
            for (int j : versions.get(y).getValue()) {
              int first = Math.min(i, j);
              int second = Math.max(i, j);
              BitSet shared =
                  (BitSet)
                      kernelSets
                          .computeIfAbsent(first, k -> kernelSet(all.get(k).kernels(), index))
                          .clone();
              shared.and(
                  kernelSets.computeIfAbsent(second, k -> kernelSet(all.get(k).kernels(), index)));
              if (shared.isEmpty()) {
                continue;
              }
              Livepatch a = all.get(first).patch();
              Livepatch b = all.get(second).patch();
              long va = first == i ? versions.get(x).getKey() : versions.get(y).getKey();
              long vb = first == i ? versions.get(y).getKey() : versions.get(x).getKey();
              error(
                  b,
                  Codes.STATE_CONFLICT,
                  "spec.states",
                  "'"
                      + a.name()
                      + "' has klp_state "
                      + byId.getKey()
                      + " at version "
                      + va
                      + " and '"
                      + b.name()
                      + "' at version "
                      + vb
                      + " on "
                      + KernelSelection.describe(kernelsOf(shared))
                      + ": the kernel refuses the lower version once the higher is loaded, so hosts"
                      + " would depend on load order; use one version");
            }
          }
        }
      }
    }
  }
}
