package org.klpcatalog.catalog.validate;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.klpcatalog.catalog.analysis.PatchAnalyzer;
import org.klpcatalog.catalog.diag.Diagnostics;
import org.klpcatalog.catalog.load.CatalogLoader;
import org.klpcatalog.catalog.model.CatalogSpec;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.catalog.source.TreeEntry;

/**
 * Validates a catalog: loads it, checks every patch on its own (in parallel), then the rules
 * between patches. Reports every problem at once. Pure: the tree is a value, nothing is read from
 * disk or network here.
 */
public final class CatalogValidator {
  private final CatalogLoader loader;
  private volatile Map<String, Checked> cache;

  public CatalogValidator() {
    this(new CatalogLoader(), false);
  }

  /**
   * A validator; with {@code cache}, it remembers each patch's result by the content of the patch
   * directory and of catalog.yaml, so validating the next revision of the same catalog checks only
   * what changed (results stay exactly those of a fresh validation).
   */
  public CatalogValidator(CatalogLoader loader, boolean cache) {
    this.loader = loader;
    this.cache = cache ? new ConcurrentHashMap<>() : null;
  }

  public ValidationReport validate(CatalogTree tree) {
    return validate(tree, History.NONE);
  }

  public ValidationReport validate(CatalogTree tree, History history) {
    Diagnostics diags = new Diagnostics();
    if (!loader.checkTree(tree, diags)) {
      return new ValidationReport(Optional.empty(), Map.of(), diags.sorted());
    }
    Optional<CatalogSpec> spec = loader.loadSpec(tree, diags);
    List<String> dirs = loader.patchDirectories(tree, diags);
    loader.checkCatalogSuite(tree, diags);
    PatchAnalyzer analyzer =
        new PatchAnalyzer(
            spec.map(CatalogSpec::unpatchableFunctions).orElse(PatchAnalyzer.DEFAULT_UNPATCHABLE));
    PatchRules rules = new PatchRules(tree, spec, analyzer);
    String specKey = fingerprint(tree, List.of(CatalogLoader.CATALOG_FILE));
    Map<String, Checked> previous = cache;
    Map<String, Checked> next = new ConcurrentHashMap<>();
    // Patches are checked on their own in parallel; an unchanged patch of an unchanged catalog
    // is not checked again when this validator keeps a cache (a long-running service).
    List<Checked> checked =
        dirs.parallelStream()
            .map(
                dir -> {
                  String key =
                      previous == null
                          ? null
                          : specKey + "/" + fingerprint(tree, tree.listRecursive(dir));
                  Checked c = key == null ? null : previous.get(key);
                  if (c == null) {
                    CatalogLoader.PatchLoad load = loader.loadPatch(tree, dir);
                    c = new Checked(load, load.patch().map(rules::check));
                  }
                  if (key != null) {
                    next.put(key, c);
                  }
                  return c;
                })
            .collect(Collectors.toList());
    if (previous != null) {
      cache = next;
    }
    Map<String, PatchReport> reports = new TreeMap<>();
    for (Checked c : checked) {
      diags.addAll(c.load().diagnostics());
      c.outcome()
          .ifPresent(
              o -> {
                diags.addAll(o.diagnostics());
                reports.put(o.report().patch().name(), o.report());
              });
    }
    Map<String, PatchReport> finalReports = reports;
    if (spec.isPresent()) {
      CatalogRules catalogRules =
          new CatalogRules(spec.get().kernels(), spec.get().packagePrefix(), history);
      finalReports = catalogRules.check(reports);
      diags.addAll(catalogRules.diagnostics());
    }
    return new ValidationReport(spec, Collections.unmodifiableMap(finalReports), diags.sorted());
  }

  /** One patch directory, loaded and checked on its own. */
  private record Checked(CatalogLoader.PatchLoad load, Optional<PatchRules.Outcome> outcome) {}

  /** A digest of the given entries' paths and contents. */
  private static String fingerprint(CatalogTree tree, List<String> paths) {
    MessageDigest md = Digests.sha256Digest();
    {
      for (String p : paths) {
        md.update(p.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        TreeEntry e = tree.get(p).orElse(null);
        if (e instanceof TreeEntry.File f) {
          md.update((byte) 'F');
          md.update(f.content());
        } else if (e instanceof TreeEntry.Symlink l) {
          md.update((byte) 'L');
          md.update(l.target().getBytes(StandardCharsets.UTF_8));
        } else if (e instanceof TreeEntry.Oversized o) {
          md.update((byte) 'O');
          md.update(Long.toString(o.size()).getBytes(StandardCharsets.UTF_8));
        }
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest());
    }
  }

  /** The patch names of a report that are active (published). */
  public static List<Livepatch> activePatches(ValidationReport r) {
    return r.patches().values().stream()
        .filter(PatchReport::active)
        .map(PatchReport::patch)
        .collect(Collectors.toList());
  }
}
