package org.klpcatalog.plan;

import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An RPM dependency: a name, optionally with a comparison and an EVR ({@code kpatch-foo < 1-3}).
 * Function capabilities are {@code kpatch-function(<kernel release>:<path/file.c>:<function>)}: one
 * per kernel, so two packages conflict exactly where they patch the same function in the same
 * kernel release.
 */
public record Capability(String name, String operator, Optional<Evr> evr)
    implements Comparable<Capability> {
  public static final Comparator<Capability> ORDER =
      Comparator.comparing(Capability::name).thenComparing(Capability::toString);

  public static Capability of(String name) {
    return new Capability(name, "", Optional.empty());
  }

  public static Capability lessThan(String name, Evr evr) {
    return new Capability(name, "<", Optional.of(evr));
  }

  public static Capability equal(String name, Evr evr) {
    return new Capability(name, "=", Optional.of(evr));
  }

  /**
   * The capability a package owning {@code functionKey} on {@code kernelRelease} provides and
   * conflicts with.
   */
  public static Capability function(String kernelRelease, String functionKey) {
    return of("kpatch-function(" + kernelRelease + ":" + functionKey + ")");
  }

  /** What a package carrying a module for {@code kernelRelease} provides. */
  public static Capability kernel(String kernelRelease) {
    return of(KERNEL + "(" + kernelRelease + ")");
  }

  /** What a package whose manifest references {@code cve} provides. */
  public static Capability cve(String cve) {
    return of(CVE + "(" + cve + ")");
  }

  /** The name of the kernel capability, before its parenthesis. */
  public static final String KERNEL = "kpatch-kernel";

  /** The name of the CVE capability, before its parenthesis. */
  public static final String CVE = "kpatch-cve";

  /** CVE ids as the catalog schema writes them; only these become {@link #cve} capabilities. */
  public static final Pattern CVE_ID = Pattern.compile("CVE-[0-9]{4}-[0-9]{4,}");

  @Override
  public int compareTo(Capability o) {
    return ORDER.compare(this, o);
  }

  /** As written in a spec file: {@code name}, or {@code name OP evr}. */
  @Override
  public String toString() {
    return evr.map(e -> name + " " + operator + " " + e).orElse(name);
  }
}
