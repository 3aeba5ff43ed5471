package org.klpcatalog.kernel;

import org.klpcatalog.catalog.model.Kernel;

/**
 * Obtains a kernel release's build tree (and, when asked, its bootable image and modules),
 * caches it by release and verifies it. Implementations are safe to call from several threads.
 */
public interface KernelProvider {
  /** The provider's name as catalog.yaml writes it ({@code debian}, {@code rpm-repo}). */
  String name();

  KernelTree provide(Kernel kernel, boolean withImage) throws KernelException, InterruptedException;
}
