package org.klpcatalog.plan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.klpcatalog.catalog.model.CatalogSpec;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.StateSpec;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.catalog.source.FileRead;
import org.klpcatalog.catalog.source.Paths;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.catalog.validate.VariantReport;

/**
 * Computes the desired state of the repository from a valid catalog revision: one package per
 * active patch, with its EVR, modules, capabilities and obsoletes, and the group. Pure: the tree,
 * the validation report and the release ledger are values.
 */
public final class DesiredStateBuilder {
  /**
   * Raised when what a package's content hash covers, or how it is rendered, changes for content
   * that already exists. Raising it gives every package a new content hash, which a repository's
   * inventory then disagrees with for every published NEVRA; so a new kind of content (such as
   * declared symbols) enters the hash only where it is present, and this stays.
   */
  public static final int FORMAT = 2;

  /** Kernel module names are at most 55 characters (MODULE_NAME_LEN - 1). */
  static final int MAX_MODULE_NAME = 55;

  /** The desired state and the ledger with this revision's assignments recorded. */
  public record Result(DesiredState state, ReleaseLedger ledger) {}

  private DesiredStateBuilder() {}

  /**
   * Builds the desired state. {@code report} must be valid. {@code origin} is the revision recorded
   * for content first seen here ("" for a directory).
   */
  public static Result build(
      ValidationReport report, CatalogTree tree, ReleaseLedger ledger, Optional<String> revision) {
    if (!report.valid() || report.spec().isEmpty()) {
      throw new IllegalArgumentException("the desired state needs a valid catalog");
    }
    CatalogSpec spec = report.spec().get();
    ReleaseLedger.Builder assignments = ledger.toBuilder();
    Map<String, Evr> evrs = new LinkedHashMap<>();
    List<DesiredPackage> packages = new ArrayList<>();
    for (PatchReport p : supersedesOrder(report.patches())) {
      Livepatch lp = p.patch();
      String name = spec.packagePrefix() + lp.name();
      List<Capability> obsoletes = new ArrayList<>();
      List<Capability> provides = new ArrayList<>();
      for (String target : transitiveSupersedes(lp.name(), report.patches())) {
        String targetPkg = spec.packagePrefix() + target;
        Optional<Evr> last =
            Optional.ofNullable(evrs.get(target))
                .or(() -> ledger.last(targetPkg).map(e -> new Evr(0, e.version(), e.release())));
        last.ifPresent(
            evr -> {
              obsoletes.add(Capability.lessThan(targetPkg, evr.nextRelease()));
              provides.add(Capability.equal(targetPkg, evr.nextRelease()));
            });
      }
      Set<Capability> functions = new TreeSet<>();
      List<ModuleInput> inputs = new ArrayList<>();
      Map<String, String> fileHashes = new HashMap<>();
      for (Kernel k : p.kernels()) {
        VariantReport v = variantFor(p, k);
        for (String key : v.functionKeys()) {
          functions.add(Capability.function(k.release(), key));
        }
        String fixSha =
            fileHashes.computeIfAbsent(v.variant().patch(), f -> sha256(fileBytes(tree, lp, f)));
        Optional<String> moduleSha =
            v.variant()
                .module()
                .map(m -> fileHashes.computeIfAbsent(m, f -> sha256(fileBytes(tree, lp, f))));
        inputs.add(
            new ModuleInput(
                k.release(),
                v.variant().name(),
                v.variant().patch(),
                v.variant().module(),
                fixSha,
                moduleSha,
                symbolsText(v.variant().symbols())));
      }
      String license = lp.license() != null ? lp.license() : spec.license();
      String metadata = metadataText(lp, license, spec.arch(), obsoletes);
      String metadataHash = sha256(metadata.getBytes(StandardCharsets.UTF_8));
      String content = contentText(name, lp, metadata, inputs, functions);
      String contentHash = sha256(content.getBytes(StandardCharsets.UTF_8));
      ReleaseLedger.Entry entry =
          assignments.assign(name, lp.version(), contentHash, revision.orElse(""));
      Evr evr = new Evr(0, lp.version(), entry.release());
      evrs.put(lp.name(), evr);
      if (!p.active()) {
        continue;
      }
      String moduleName = moduleName(lp.name(), lp.version(), entry.release());
      List<ModuleFile> modules = new ArrayList<>();
      for (ModuleInput in : inputs) {
        modules.add(
            new ModuleFile(
                in.kernel,
                in.variant,
                in.patchFile,
                in.moduleSource,
                in.fixSha,
                in.moduleSha,
                moduleName,
                "/usr/lib/kpatch/" + in.kernel + "/" + moduleName + ".ko"));
      }
      List<Capability> allProvides = new ArrayList<>(functions);
      allProvides.addAll(provides);
      allProvides.addAll(servedAndFixed(p.kernels(), lp.references()));
      allProvides.sort(Capability.ORDER);
      obsoletes.sort(Capability.ORDER);
      packages.add(
          new DesiredPackage(
              name,
              lp.name(),
              evr,
              spec.arch(),
              lp.summary(),
              lp.description(),
              license,
              lp.references(),
              List.copyOf(modules),
              List.copyOf(allProvides),
              List.copyOf(functions),
              List.copyOf(obsoletes),
              metadataHash,
              contentHash,
              entry.origin()));
    }
    packages.sort(Comparator.comparing(DesiredPackage::name));
    DesiredGroup group =
        new DesiredGroup(
            spec.group().id(),
            spec.group().name(),
            spec.group().description(),
            packages.stream().map(DesiredPackage::name).toList());
    return new Result(
        new DesiredState(spec.name(), revision, List.copyOf(packages), group), assignments.build());
  }

  /**
   * The capabilities that say which kernels a package serves and which CVEs it fixes: one {@code
   * kpatch-kernel(release)} per kernel, one {@code kpatch-cve(id)} per CVE reference.
   */
  static List<Capability> servedAndFixed(List<Kernel> kernels, List<String> references) {
    Set<Capability> out = new TreeSet<>();
    kernels.forEach(k -> out.add(Capability.kernel(k.release())));
    references.stream()
        .filter(r -> Capability.CVE_ID.matcher(r).matches())
        .forEach(r -> out.add(Capability.cve(r)));
    return List.copyOf(out);
  }

  /** {@code symbols}: the variant's declared symbols in canonical form ({@link #symbolsText}). */
  private record ModuleInput(
      String kernel,
      String variant,
      String patchFile,
      Optional<String> moduleSource,
      String fixSha,
      Optional<String> moduleSha,
      String symbols) {}

  /**
   * Declared symbols in a canonical form: their labels ({@code object:name[,sympos]}), sorted and
   * separated by spaces (neither names nor objects contain one); "" when there are none.
   */
  public static String symbolsText(List<SymbolSpec> symbols) {
    return String.join(" ", new TreeSet<>(symbols.stream().map(SymbolSpec::label).toList()));
  }

  private static VariantReport variantFor(PatchReport p, Kernel k) {
    for (VariantReport v : p.variants()) {
      if (v.kernels().contains(k)) {
        return v;
      }
    }
    throw new IllegalStateException("no variant of " + p.patch().name() + " serves " + k.release());
  }

  /** Patches ordered so that every patch comes after the patches it supersedes. */
  static List<PatchReport> supersedesOrder(Map<String, PatchReport> patches) {
    List<PatchReport> out = new ArrayList<>();
    Set<String> done = new LinkedHashSet<>();
    for (String name : patches.keySet()) {
      visit(name, patches, done, out, new LinkedHashSet<>());
    }
    return out;
  }

  private static void visit(
      String name,
      Map<String, PatchReport> patches,
      Set<String> done,
      List<PatchReport> out,
      Set<String> path) {
    PatchReport p = patches.get(name);
    if (p == null || done.contains(name) || !path.add(name)) {
      return;
    }
    for (String t : p.patch().supersedes()) {
      visit(t, patches, done, out, path);
    }
    done.add(name);
    out.add(p);
  }

  /** Everything a patch replaces, directly or through the patches it superseded, sorted. */
  static List<String> transitiveSupersedes(String name, Map<String, PatchReport> patches) {
    Set<String> seen = new TreeSet<>();
    List<String> todo = new ArrayList<>();
    PatchReport start = patches.get(name);
    if (start != null) {
      todo.addAll(start.patch().supersedes());
    }
    while (!todo.isEmpty()) {
      String t = todo.remove(todo.size() - 1);
      if (t.equals(name) || !seen.add(t)) {
        continue;
      }
      PatchReport r = patches.get(t);
      if (r != null) {
        todo.addAll(r.patch().supersedes());
      }
    }
    return List.copyOf(seen);
  }

  static String moduleName(String patch, String version, int release) {
    String full =
        ("kpatch_" + patch + "_" + version + "_" + release)
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9_]", "_");
    if (full.length() <= MAX_MODULE_NAME) {
      return full;
    }
    String tail = "_" + version.replaceAll("[^0-9]", "_") + "_" + release;
    String hash = sha256(full.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
    int keep = MAX_MODULE_NAME - tail.length() - hash.length() - 1;
    return full.substring(0, Math.max(8, keep)) + "_" + hash + tail;
  }

  private static String metadataText(
      Livepatch lp, String license, String arch, List<Capability> obsoletes) {
    StringBuilder sb = new StringBuilder();
    line(sb, "summary", lp.summary());
    line(sb, "description", lp.description());
    line(sb, "license", license);
    line(sb, "arch", arch);
    for (String r : lp.references()) {
      line(sb, "reference", r);
    }
    for (Capability c : obsoletes) {
      line(sb, "obsoletes", c.toString());
    }
    return sb.toString();
  }

  private static String contentText(
      String name,
      Livepatch lp,
      String metadata,
      List<ModuleInput> inputs,
      Set<Capability> functions) {
    StringBuilder sb = new StringBuilder();
    line(sb, "klp-catalog-package", String.valueOf(FORMAT));
    line(sb, "name", name);
    line(sb, "version", lp.version());
    sb.append(metadata);
    line(sb, "replace", String.valueOf(lp.replace()));
    for (StateSpec s : lp.states()) {
      line(sb, "state", s.id() + "@" + s.version());
    }
    for (ModuleInput in : inputs) {
      // Symbols only where some are declared: the hash of content that declares none stays what it
      // was before symbols existed, so no published package needs a new release for them.
      line(
          sb,
          "kernel",
          in.kernel
              + " variant="
              + in.variant
              + " fix="
              + in.fixSha
              + " module="
              + in.moduleSha.orElse("-")
              + (in.symbols.isEmpty() ? "" : " symbols=" + in.symbols));
    }
    for (Capability c : functions) {
      line(sb, "function", c.name());
    }
    return sb.toString();
  }

  private static void line(StringBuilder sb, String key, String value) {
    sb.append(key)
        .append(' ')
        .append(value.replace("\\", "\\\\").replace("\n", "\\n"))
        .append('\n');
  }

  private static byte[] fileBytes(CatalogTree tree, Livepatch lp, String relative) {
    String path = Paths.join(lp.dir(), relative).orElseThrow();
    FileRead r = FileRead.read(tree, path, lp.dir());
    if (r instanceof FileRead.Found f) {
      return f.content();
    }
    throw new IllegalStateException("a valid catalog lacks " + path);
  }

  static String sha256(byte[] bytes) {
    return Digests.sha256(bytes);
  }
}
