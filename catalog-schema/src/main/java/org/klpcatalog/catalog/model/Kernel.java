package org.klpcatalog.catalog.model;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kernel release the catalog supports, as {@code uname -r} prints it.
 *
 * <p>{@code version} is the release without its flavour, used for range selection; {@code flavour}
 * is Debian's flavour suffix ({@code amd64}, {@code cloud-amd64}, {@code rt-amd64}) or empty. For a
 * Debian release {@code 6.1.0-50-cloud-amd64} the version is {@code 6.1.0-50} and the flavour
 * {@code cloud-amd64}; a release of another shape ({@code 5.14.0-427.13.1.el9_4.x86_64}) is its own
 * version and has no flavour unless the catalog names one.
 *
 * <p>{@code provider} is the name of a kernel provider the operator configured ({@code debian} when
 * the catalog names none); where that provider gets kernels from is never the catalog's to say.
 */
public record Kernel(String release, String version, String flavour, String provider) {
  private static final Pattern DEBIAN_STYLE =
      Pattern.compile("^(\\d+\\.\\d+(?:\\.\\d+)?-\\d+)-([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$");

  public Kernel {
    Objects.requireNonNull(release);
    Objects.requireNonNull(version);
    Objects.requireNonNull(flavour);
    Objects.requireNonNull(provider);
  }

  /** A kernel whose version and flavour are derived from the release, unless given. */
  public static Kernel of(String release, String explicitFlavour, String provider) {
    if (explicitFlavour != null && !explicitFlavour.isEmpty()) {
      String version =
          release.endsWith("-" + explicitFlavour)
              ? release.substring(0, release.length() - explicitFlavour.length() - 1)
              : release;
      return new Kernel(release, version, explicitFlavour, provider);
    }
    Matcher m = DEBIAN_STYLE.matcher(release);
    if (m.matches()) {
      return new Kernel(release, m.group(1), m.group(2), provider);
    }
    return new Kernel(release, release, "", provider);
  }
}
