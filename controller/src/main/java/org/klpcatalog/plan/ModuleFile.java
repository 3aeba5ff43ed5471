package org.klpcatalog.plan;

import java.util.Optional;

/**
 * The livepatch module a package carries for one kernel release: the variant it is built from, the
 * hashes of that variant's fix and module source, the kernel module name (unique per patch, version
 * and release, so an upgrade can load the new module before the old one goes) and where the package
 * installs it.
 */
public record ModuleFile(
    String kernelRelease,
    String variant,
    String patchFile,
    Optional<String> moduleSource,
    String fixSha256,
    Optional<String> moduleSha256,
    String moduleName,
    String installPath) {}
