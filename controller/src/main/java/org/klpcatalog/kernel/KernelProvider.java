package org.klpcatalog.kernel;

import org.klpcatalog.catalog.model.Kernel;

/**
 * Obtains a kernel release's build tree (and, when asked, its bootable image and modules), verifies
 * it and caches it by content and origin ({@link TreeKey}). Implementations are safe to call from
 * several threads; one instance serves one run (a build, a QA run), and asks its origin once per
 * run what the release's packages are.
 */
public interface KernelProvider {
  /** The provider's name, as the configuration defines it and catalogs name it. */
  String name();

  KernelTree provide(Kernel kernel, boolean withImage) throws KernelException, InterruptedException;
}
