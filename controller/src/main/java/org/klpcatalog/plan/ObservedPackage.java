package org.klpcatalog.plan;

import java.util.List;

/**
 * A package of the published repository: what repodata says (name, EVR, arch, file, checksum)
 * joined with what the inventory recorded when it was published (content and metadata hashes, its
 * modules and the revision its content came from).
 */
public record ObservedPackage(
    String name,
    Evr evr,
    String arch,
    String location,
    String checksum,
    String contentHash,
    String metadataHash,
    List<ObservedModule> modules,
    String changedIn) {

  /** The module published for one kernel, as the inventory recorded it. */
  public record ObservedModule(
      String kernel, String variant, String fixSha256, String moduleSha256) {}

  public String nevra() {
    return name + "-" + evr + "." + arch;
  }

  public List<String> kernels() {
    return modules.stream().map(ObservedModule::kernel).toList();
  }
}
