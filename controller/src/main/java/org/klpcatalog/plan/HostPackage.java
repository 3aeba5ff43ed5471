package org.klpcatalog.plan;

import org.klpcatalog.catalog.model.CatalogSpec;

/**
 * The host tool package the repository carries beside the patches: the {@code dnf livepatch} plugin
 * (docs/host.md). Its content is the program's own (never the catalog's); its release comes from
 * the repository's release ledger, so new content under the same version gets a new release.
 */
public record HostPackage(Evr evr, String contentHash) {
  /** The package's name; {@code validate} keeps patches from taking it. */
  public static final String NAME = CatalogSpec.HOST_TOOL_PACKAGE;

  public static final String ARCH = "noarch";

  /** A host package placed in a repository, and the ledger with its assignment. */
  public record Placed(HostPackage pkg, ReleaseLedger ledger) {}

  /**
   * The host package of {@code version} with {@code contentHash}: the release the repository gave
   * this content before, or the next free one; recorded in {@code ledger} (the plan's).
   */
  public static Placed place(
      String version, String contentHash, ReleaseLedger published, ReleaseLedger ledger) {
    ReleaseLedger.Entry entry = published.toBuilder().assign(NAME, version, contentHash, "");
    return new Placed(
        new HostPackage(new Evr(0, version, entry.release()), contentHash),
        ledger.toBuilder().record(NAME, entry).build());
  }

  public String name() {
    return NAME;
  }

  /** {@code name-version-release.noarch}. */
  public String nevra() {
    return NAME + "-" + evr + "." + ARCH;
  }
}
