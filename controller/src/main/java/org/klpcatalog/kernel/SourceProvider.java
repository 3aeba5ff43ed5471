package org.klpcatalog.kernel;

import org.klpcatalog.catalog.model.Kernel;

/**
 * Obtains the source a kernel release was built from, verified the way the provider verifies its
 * packages, unpacked with the distribution's patches applied and cached by source version and
 * content (never by release alone). Safe to call from several threads; releases of one source
 * version are downloaded and unpacked once.
 */
public interface SourceProvider {
  SourceTree source(Kernel kernel) throws KernelException, InterruptedException;
}
