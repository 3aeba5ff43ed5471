package org.klpcatalog.catalog.model;

import java.util.List;
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
}
