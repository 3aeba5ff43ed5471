package org.klpcatalog.kernel;

import java.nio.file.Path;
import java.util.Map;
import org.klpcatalog.catalog.model.Kernel;

/** The kernel providers by name, sharing one cache directory. */
public final class KernelCache {
  private final Map<String, KernelProvider> providers;

  public KernelCache(Path root) {
    Path kernels = root.resolve("kernels");
    this.providers = Map.of(
        "debian", new DebianProvider(kernels),
        "rpm-repo", new RpmRepoProvider(kernels));
  }

  /** $XDG_CACHE_HOME/klp-catalog, or ~/.cache/klp-catalog. */
  public static Path defaultRoot() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    return (xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
        .resolve("klp-catalog");
  }

  public KernelTree provide(Kernel kernel, boolean withImage) throws KernelException, InterruptedException {
    KernelProvider p = providers.get(kernel.provider());
    if (p == null) {
      throw new KernelException("kernel " + kernel.release() + ": unknown provider '" + kernel.provider() + "'");
    }
    return p.provide(kernel, withImage);
  }
}
