package org.klpcatalog.kernel;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Optional;
import org.klpcatalog.catalog.model.Kernel;

/**
 * The kernel providers whoever runs klp-catalog defined, by name. {@code debian} (the machine's
 * apt) is built in, so a catalog of Debian kernels works without any configuration; a configured
 * provider of the same name replaces it.
 */
public record KernelProviders(Map<String, ProviderSpec> byName) {
  /** The built-in provider's name. */
  public static final String DEBIAN = "debian";

  public KernelProviders {
    byName = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byName));
  }

  /** Only the built-in {@code debian} provider. */
  public static KernelProviders builtIn() {
    return new KernelProviders(Map.of(DEBIAN, new ProviderSpec.Debian(DEBIAN)));
  }

  /** The built-in provider and {@code configured} ones (which may replace it). */
  public static KernelProviders of(Collection<? extends ProviderSpec> configured) {
    Map<String, ProviderSpec> all = new LinkedHashMap<>(builtIn().byName());
    configured.forEach(p -> all.put(p.name(), p));
    return new KernelProviders(all);
  }

  public Optional<ProviderSpec> get(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The configured names, for messages: "debian, el9". */
  public String names() {
    return String.join(", ", byName.keySet());
  }

  /** Kernels of a catalog name providers that are not configured (a RuntimeException like the planner's). */
  public static final class Unknown extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unknown(List<String> problems) {
      super(String.join("; ", problems));
    }
  }

  /**
   * One message per kernel of {@code catalogKernels} (the catalog's, in its order) in {@code
   * releases} whose provider is not defined, with its place in catalog.yaml.
   */
  public List<String> unknown(List<Kernel> catalogKernels, Collection<String> releases) {
    Set<String> used = new HashSet<>(releases);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < catalogKernels.size(); i++) {
      Kernel k = catalogKernels.get(i);
      if (used.contains(k.release()) && !byName.containsKey(k.provider())) {
        out.add("catalog.yaml (spec.kernels[" + i + "].provider): " + unknownMessage(k));
      }
    }
    return out;
  }

  /** Throws {@link Unknown} when {@link #unknown} finds anything. */
  public void requireKnown(List<Kernel> catalogKernels, Collection<String> releases) {
    List<String> problems = unknown(catalogKernels, releases);
    if (!problems.isEmpty()) {
      throw new Unknown(problems);
    }
  }

  /** Why {@code kernel}'s provider cannot be used: it is not defined here. */
  public String unknownMessage(Kernel kernel) {
    return "kernel " + kernel.release() + " names provider '" + kernel.provider() + "', which is not configured"
        + " here (configured: " + names() + "); whoever runs klp-catalog defines kernel providers in the"
        + " configuration's kernels.providers (--config FILE; see docs/configuration.md)";
  }

}
