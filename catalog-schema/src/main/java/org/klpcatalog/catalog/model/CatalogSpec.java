package org.klpcatalog.catalog.model;

import java.util.List;
import java.util.Set;
import org.klpcatalog.catalog.yaml.YamlDocument;

/**
 * The catalog's own settings from {@code catalog.yaml}: the package name prefix, the default
 * license, the packages' architecture, the comps group, the supported kernels (in file order) and
 * the functions no patch may change.
 */
public record CatalogSpec(
    String name,
    String packagePrefix,
    String license,
    String arch,
    GroupSpec group,
    List<Kernel> kernels,
    List<String> unpatchableFunctions,
    YamlDocument source) {

  /**
   * The name of the host tool package the controller publishes beside the patches (the dnf plugin);
   * no patch's package may take it.
   */
  public static final String HOST_TOOL_PACKAGE = "python3-dnf-plugin-livepatch";

  /**
   * Package names no patch's package may take: the host tool, and the packages a host's livepatch
   * and package tooling is made of. A livepatch package of such a name (or one superseding it)
   * would replace or obsolete it on {@code dnf upgrade}.
   */
  public static final Set<String> RESERVED_PACKAGES =
      Set.of(
          HOST_TOOL_PACKAGE,
          "kpatch",
          "kpatch-dnf",
          "kpatch-build",
          "kpatch-runtime",
          "dnf",
          "python3-dnf",
          "dnf-plugins-core",
          "python3-dnf-plugins-core",
          "yum",
          "rpm",
          "kernel",
          "kernel-core");
}
