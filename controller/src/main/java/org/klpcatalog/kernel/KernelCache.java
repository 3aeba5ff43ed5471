package org.klpcatalog.kernel;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.klpcatalog.catalog.model.Kernel;

/**
 * The configured kernel providers of one run (a build, a QA run), sharing one cache directory. A
 * kernel naming a provider that is not configured is refused with the names that are.
 */
public final class KernelCache {
  private final KernelProviders configured;
  private final Map<String, KernelProvider> providers = new LinkedHashMap<>();

  /** Only the built-in {@code debian} provider. */
  public KernelCache(Path root) {
    this(root, KernelProviders.builtIn());
  }

  public KernelCache(Path root, KernelProviders configured) {
    this.configured = configured;
    Path kernels = root.resolve("kernels");
    for (ProviderSpec spec : configured.byName().values()) {
      if (spec instanceof ProviderSpec.RpmRepo r) {
        providers.put(spec.name(), new RpmRepoProvider(r, kernels));
      } else {
        providers.put(spec.name(), new DebianProvider((ProviderSpec.Debian) spec, kernels));
      }
    }
  }

  /** $XDG_CACHE_HOME/klp-catalog, or ~/.cache/klp-catalog. */
  public static Path defaultRoot() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    return (xdg != null && !xdg.isEmpty()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache"))
        .resolve("klp-catalog");
  }

  public KernelTree provide(Kernel kernel, boolean withImage)
      throws KernelException, InterruptedException {
    KernelProvider p = providers.get(kernel.provider());
    if (p == null) {
      throw new KernelException(configured.unknownMessage(kernel));
    }
    return p.provide(kernel, withImage);
  }
}
