package org.klpcatalog.build;

import java.util.List;
import java.util.Optional;
import org.klpcatalog.catalog.model.Acknowledgement;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ModuleFile;

/**
 * One module to build: a package's module for one kernel, with the bytes of the variant's fix and
 * module source (from the catalog revision), the functions the module must replace, and whether it
 * is a cumulative (replace) patch, and the non-exported kernel symbols the module source declares
 * (its variant's {@code symbols}), and the manifest's acknowledgements (the source checks read its
 * {@code code-change} entries).
 */
public record BuildTask(
    DesiredPackage pkg,
    ModuleFile module,
    Kernel kernel,
    byte[] fix,
    Optional<byte[]> moduleSource,
    List<String> replacedFunctions,
    boolean replace,
    List<SymbolSpec> symbols,
    List<Acknowledgement> acknowledged) {

  /** "patch for kernel", for progress and messages. */
  public String label() {
    return pkg.patch() + " for " + kernel.release();
  }
}
