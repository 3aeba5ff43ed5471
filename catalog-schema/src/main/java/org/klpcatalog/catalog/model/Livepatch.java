package org.klpcatalog.catalog.model;

import java.util.List;
import org.klpcatalog.catalog.yaml.YamlDocument;

/**
 * One patch directory's manifest ({@code patches/<name>/manifest.yaml}, kind {@code Livepatch}), as
 * written. {@code dir} is the directory's path in the catalog. {@code variants} is never empty: a
 * manifest without {@code spec.variants} yields one implicit variant from {@code spec.patch},
 * {@code spec.module} and {@code spec.tests}.
 */
public record Livepatch(
    String name,
    String dir,
    String version,
    String summary,
    String description,
    List<String> references,
    String license,
    KernelSelector kernels,
    List<Variant> variants,
    boolean explicitVariants,
    List<ModuleSpec> modules,
    List<String> supersedes,
    boolean replace,
    List<StateSpec> states,
    List<String> extraFunctions,
    List<Acknowledgement> acknowledged,
    YamlDocument source) {

  /** The manifest's path in the catalog. */
  public String manifestPath() {
    return dir + "/manifest.yaml";
  }

  /** A path inside the patch directory. */
  public String file(String relative) {
    return dir + "/" + relative;
  }
}
