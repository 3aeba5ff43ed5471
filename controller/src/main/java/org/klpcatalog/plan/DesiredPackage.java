package org.klpcatalog.plan;

import java.util.List;

/**
 * One RPM the repository must contain: everything that determines its content, and the {@code
 * contentHash} over it. The same name and EVR always come with the same hash (the release is raised
 * whenever the content changes without a version bump).
 */
public record DesiredPackage(
    String name,
    String patch,
    Evr evr,
    String arch,
    String summary,
    String description,
    String license,
    List<String> references,
    List<ModuleFile> modules,
    List<Capability> provides,
    List<Capability> conflicts,
    List<Capability> obsoletes,
    String metadataHash,
    String contentHash,
    String changedIn) {

  /** {@code name-version-release.arch}. */
  public String nevra() {
    return name + "-" + evr + "." + arch;
  }

  /** The kernel releases this package has modules for, in catalog order. */
  public List<String> kernels() {
    return modules.stream().map(ModuleFile::kernelRelease).toList();
  }
}
