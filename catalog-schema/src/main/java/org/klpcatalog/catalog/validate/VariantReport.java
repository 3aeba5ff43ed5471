package org.klpcatalog.catalog.validate;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.catalog.analysis.LivepatchSource;
import org.klpcatalog.catalog.analysis.PatchAnalysis;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Variant;

/**
 * A variant as validated: the kernels it serves, the analysis of its fix, its module source's
 * declarations, and the function keys the package owns on those kernels (changed and deleted
 * functions plus {@code spec.extraFunctions}).
 */
public record VariantReport(
    Variant variant,
    List<Kernel> kernels,
    Optional<PatchAnalysis> analysis,
    Optional<LivepatchSource> module,
    Set<String> functionKeys) {}
