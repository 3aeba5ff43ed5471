package org.klpcatalog.plan;

import java.util.Comparator;
import org.klpcatalog.catalog.version.RpmVersion;

/** An RPM epoch:version-release, ordered as rpm orders them. */
public record Evr(int epoch, String version, int release) implements Comparable<Evr> {
  public static final Comparator<Evr> ORDER =
      Comparator.comparingInt(Evr::epoch)
          .thenComparing(Evr::version, RpmVersion.ORDER)
          .thenComparingInt(Evr::release);

  /** The same version with the next release: what Obsoletes/Provides of a successor name. */
  public Evr nextRelease() {
    return new Evr(epoch, version, release + 1);
  }

  @Override
  public int compareTo(Evr o) {
    return ORDER.compare(this, o);
  }

  /** {@code version-release}, with {@code epoch:} when the epoch is not 0. */
  @Override
  public String toString() {
    return (epoch != 0 ? epoch + ":" : "") + version + "-" + release;
  }
}
