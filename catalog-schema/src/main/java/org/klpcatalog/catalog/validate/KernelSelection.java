package org.klpcatalog.catalog.validate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.KernelSelector;
import org.klpcatalog.catalog.version.RpmVersion;

/** Resolves a {@link KernelSelector} against a list of kernels. Pure. */
public final class KernelSelection {
  private KernelSelection() {}

  /** The kernels selected (in the order of {@code scope}) and the problems with the selector. */
  public record Result(List<Kernel> kernels, List<Problem> problems) {}

  /** A problem with one key of the selector; {@code yamlPath} is that key. */
  public record Problem(String code, String yamlPath, String message) {}

  /**
   * Selects from {@code scope} (the catalog's kernels for a patch, the patch's kernels for a
   * variant). {@code all} is the catalog's full list, used to tell "not in the catalog" from "not
   * in this patch" in messages.
   */
  public static Result select(
      KernelSelector sel, List<Kernel> scope, List<Kernel> all, String scopeName) {
    List<Problem> problems = new ArrayList<>();
    String base = sel.yamlPath();
    if (sel.isExplicitList()) {
      if (sel.from().isPresent() || sel.to().isPresent() || !sel.flavours().isEmpty()) {
        problems.add(
            new Problem(
                "kernel-selector",
                base,
                "give either releases (an explicit list) or from/to/flavours (a range), not both"));
      }
      List<Kernel> out = new ArrayList<>();
      int i = 0;
      for (String r : sel.releases()) {
        String path = base + ".releases[" + i++ + "]";
        Kernel k = find(scope, r);
        if (k == null) {
          problems.add(
              new Problem(
                  "kernel-unknown",
                  path,
                  find(all, r) == null
                      ? "kernel "
                          + r
                          + " is not in the catalog's spec.kernels; add it there first or fix the"
                          + " name"
                      : "kernel " + r + " is not among the kernels " + scopeName + " selects"));
        } else {
          out.add(k);
        }
      }
      out.sort((a, b) -> Integer.compare(scope.indexOf(a), scope.indexOf(b)));
      return new Result(List.copyOf(new LinkedHashSet<>(out)), problems);
    }
    String from = sel.from().orElse(null);
    String to = sel.to().orElse(null);
    checkBound(from, base + ".from", all, problems);
    checkBound(to, base + ".to", all, problems);
    if (from != null && to != null && RpmVersion.compare(from, to) > 0) {
      problems.add(
          new Problem(
              "kernel-selector",
              base + ".to",
              "to " + to + " is older than from " + from + " (rpm version order); swap them"));
    }
    Set<String> knownFlavours = new LinkedHashSet<>();
    for (Kernel k : all) {
      knownFlavours.add(k.flavour());
    }
    int i = 0;
    for (String f : sel.flavours()) {
      if (!knownFlavours.contains(f)) {
        problems.add(
            new Problem(
                "kernel-unknown",
                base + ".flavours[" + i + "]",
                "no kernel of the catalog has flavour "
                    + f
                    + " (known: "
                    + String.join(", ", knownFlavours)
                    + ")"));
      }
      i++;
    }
    // Compare each distinct kernel version with the bounds once, not once per kernel.
    Map<String, Boolean> inRange = new HashMap<>();
    List<Kernel> out = new ArrayList<>();
    for (Kernel k : scope) {
      boolean in =
          inRange.computeIfAbsent(
              k.version(),
              v ->
                  (from == null || RpmVersion.compare(v, from) >= 0)
                      && (to == null || RpmVersion.compare(v, to) <= 0));
      if (!in) {
        continue;
      }
      if (!sel.flavours().isEmpty() && !sel.flavours().contains(k.flavour())) {
        continue;
      }
      out.add(k);
    }
    return new Result(List.copyOf(out), problems);
  }

  private static void checkBound(
      String bound, String path, List<Kernel> all, List<Problem> problems) {
    if (bound == null) {
      return;
    }
    Kernel k = find(all, bound);
    if (k != null && !k.flavour().isEmpty()) {
      problems.add(
          new Problem(
              "kernel-selector",
              path,
              "'"
                  + bound
                  + "' is a release of flavour "
                  + k.flavour()
                  + "; range bounds are kernel versions"
                  + " without flavour ("
                  + k.version()
                  + "); limit flavours with flavours: ["
                  + k.flavour()
                  + "]"));
    }
  }

  private static Kernel find(List<Kernel> kernels, String release) {
    for (Kernel k : kernels) {
      if (k.release().equals(release)) {
        return k;
      }
    }
    return null;
  }

  /** "a, b, c and 4 more": kernel releases for messages. */
  public static String describe(List<Kernel> kernels) {
    List<String> names = new ArrayList<>();
    for (Kernel k : kernels) {
      names.add(k.release());
    }
    return describeNames(names);
  }

  public static String describeNames(List<String> names) {
    int max = 6;
    if (names.size() <= max) {
      return String.join(", ", names);
    }
    return String.join(", ", names.subList(0, max)) + " and " + (names.size() - max) + " more";
  }
}
