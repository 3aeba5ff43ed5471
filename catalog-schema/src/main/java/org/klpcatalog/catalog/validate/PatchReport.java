package org.klpcatalog.catalog.validate;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;

/**
 * A patch as validated: its manifest, whether it is active (not superseded by another patch of the
 * catalog, so it is published), the kernels it serves and its variants.
 */
public record PatchReport(
    Livepatch patch, boolean active, List<Kernel> kernels, List<VariantReport> variants) {

  /** The function keys this patch owns on {@code kernel}: those of the variant serving it. */
  public Set<String> functionKeysOn(Kernel kernel) {
    for (VariantReport v : variants) {
      if (v.kernels().contains(kernel)) {
        return v.functionKeys();
      }
    }
    return Set.of();
  }

  /** Every function key of every variant. */
  public Set<String> allFunctionKeys() {
    Set<String> keys = new TreeSet<>();
    for (VariantReport v : variants) {
      keys.addAll(v.functionKeys());
    }
    return keys;
  }

  PatchReport withActive(boolean a) {
    return new PatchReport(patch, a, kernels, variants);
  }
}
