package org.klpcatalog.kernel;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.diag.Severity;
import org.klpcatalog.catalog.load.CatalogLoader;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.FileRead;
import org.klpcatalog.catalog.yaml.Mark;
import org.klpcatalog.catalog.yaml.SafeYamlLoader;
import org.klpcatalog.catalog.yaml.YamlDocument;

/**
 * The kernel providers whoever runs klp-catalog defined, by name. {@code debian} (the machine's
 * apt) is built in, so a catalog of Debian kernels works without any configuration; a configured
 * provider of the same name replaces it.
 */
public record KernelProviders(Map<String, ProviderSpec> byName) {
  /** The built-in provider's name. */
  public static final String DEBIAN = "debian";

  /** The diagnostic code of a kernel naming a provider that is not defined. */
  public static final String CODE = "kernel-provider-unknown";

  public KernelProviders {
    byName = Collections.unmodifiableMap(new LinkedHashMap<>(byName));
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

  /**
   * Kernels of a catalog name providers that are not configured (a RuntimeException like the
   * planner's).
   */
  public static final class Unknown extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unknown(List<String> problems) {
      super(String.join("; ", problems));
    }
  }

  /**
   * A diagnostic (catalog.yaml, line, column, YAML path) per kernel of {@code catalogKernels} (the
   * catalog's, in its order, as loaded from {@code tree}) in {@code releases} whose provider is not
   * defined.
   */
  public List<Diagnostic> unknown(
      CatalogTree tree, List<Kernel> catalogKernels, Collection<String> releases) {
    Set<String> used = new HashSet<>(releases);
    List<Diagnostic> out = new ArrayList<>();
    Optional<YamlDocument> doc = Optional.empty();
    for (int i = 0; i < catalogKernels.size(); i++) {
      Kernel k = catalogKernels.get(i);
      if (used.contains(k.release()) && !byName.containsKey(k.provider())) {
        if (doc.isEmpty()) {
          doc = catalogYaml(tree);
        }
        String path = "spec.kernels[" + i + "].provider";
        Mark m = doc.map(d -> d.markOf(path)).orElse(Mark.START);
        out.add(
            new Diagnostic(
                Severity.ERROR,
                CODE,
                CatalogLoader.CATALOG_FILE,
                m.line(),
                m.column(),
                path,
                unknownMessage(k)));
      }
    }
    return out;
  }

  /** Throws {@link Unknown} when {@link #unknown} finds anything. */
  public void requireKnown(
      CatalogTree tree, List<Kernel> catalogKernels, Collection<String> releases) {
    List<Diagnostic> problems = unknown(tree, catalogKernels, releases);
    if (!problems.isEmpty()) {
      throw new Unknown(problems.stream().map(d -> d.format("")).toList());
    }
  }

  private static Optional<YamlDocument> catalogYaml(CatalogTree tree) {
    if (FileRead.read(tree, CatalogLoader.CATALOG_FILE, "") instanceof FileRead.Found f) {
      SafeYamlLoader.Result r = new SafeYamlLoader().load(CatalogLoader.CATALOG_FILE, f.content());
      return r.ok() ? Optional.of(r.document()) : Optional.empty();
    }
    return Optional.empty();
  }

  /** Why {@code kernel}'s provider cannot be used: it is not defined here. */
  public String unknownMessage(Kernel kernel) {
    return "kernel "
        + kernel.release()
        + " names provider '"
        + kernel.provider()
        + "', which is not configured"
        + " here (configured: "
        + names()
        + "); whoever runs klp-catalog defines kernel providers in the"
        + " configuration's kernels.providers (--config FILE; see docs/configuration.md)";
  }
}
