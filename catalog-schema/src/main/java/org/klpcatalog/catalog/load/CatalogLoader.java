package org.klpcatalog.catalog.load;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.klpcatalog.catalog.analysis.PatchAnalyzer;
import org.klpcatalog.catalog.diag.Diagnostics;
import org.klpcatalog.catalog.model.Acknowledgement;
import org.klpcatalog.catalog.model.CatalogSpec;
import org.klpcatalog.catalog.model.GroupSpec;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.KernelSelector;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.ModuleSpec;
import org.klpcatalog.catalog.model.StateSpec;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.catalog.model.Variant;
import org.klpcatalog.catalog.schema.SchemaValidator;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.FileRead;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.source.TreeProblem;
import org.klpcatalog.catalog.yaml.Mark;
import org.klpcatalog.catalog.yaml.SafeYamlLoader;
import org.klpcatalog.catalog.yaml.YamlDocument;
import org.klpcatalog.catalog.yaml.YamlPath;
import org.klpcatalog.catalog.yaml.YamlProblem;
import tools.jackson.databind.JsonNode;

/**
 * Loads a catalog from a {@link CatalogTree}: reads {@code catalog.yaml} and every {@code
 * patches/<name>/manifest.yaml} safely, checks them against the schemas and binds them to the
 * model. Problems are collected, never thrown; a file that fails its schema is reported and left
 * out of the model so later rules do not pile on. Pure: no I/O beyond the tree value.
 */
public final class CatalogLoader {
  public static final String CATALOG_FILE = "catalog.yaml";

  /** The kernel provider of a kernel whose entry names none: the machine's apt, always defined. */
  public static final String DEFAULT_PROVIDER = "debian";

  public static final String PATCHES_DIR = "patches";
  public static final String MANIFEST = "manifest.yaml";

  private final SafeYamlLoader yaml;
  private final SchemaValidator schemas;

  public CatalogLoader() {
    this(new SafeYamlLoader(), new SchemaValidator());
  }

  public CatalogLoader(SafeYamlLoader yaml, SchemaValidator schemas) {
    this.yaml = yaml;
    this.schemas = schemas;
  }

  /**
   * The outcome: the catalog's settings (absent when catalog.yaml is unusable), the patches whose
   * manifests loaded, sorted by name, and every problem found on the way.
   */
  public record Result(
      Optional<CatalogSpec> spec, List<Livepatch> patches, Diagnostics diagnostics) {}

  public Result load(CatalogTree tree) {
    Diagnostics diags = new Diagnostics();
    if (!checkTree(tree, diags)) {
      return new Result(Optional.empty(), List.of(), diags);
    }
    Optional<CatalogSpec> spec = loadSpec(tree, diags);
    List<String> dirs = patchDirectories(tree, diags);
    checkCatalogSuite(tree, diags);
    // Manifests are independent: load them in parallel, then merge in a fixed order.
    List<PatchLoad> loads =
        dirs.parallelStream().map(d -> loadPatch(tree, d)).collect(Collectors.toList());
    List<Livepatch> patches = new ArrayList<>();
    for (PatchLoad l : loads) {
      diags.addAll(l.diagnostics());
      l.patch().ifPresent(patches::add);
    }
    patches.sort(Comparator.comparing(Livepatch::name));
    return new Result(spec, List.copyOf(patches), diags);
  }

  /**
   * Reports what the tree's reader found wrong with the catalog's files as a whole; false when the
   * reader stopped early (the catalog is over its size limits), so nothing else is worth checking.
   */
  public boolean checkTree(CatalogTree tree, Diagnostics diags) {
    for (TreeProblem p : tree.problems()) {
      diags.error(p.code(), p.path(), 0, 0, "", p.message());
    }
    return !tree.truncated();
  }

  /** The patch directories under patches/, sorted; files there are reported as stray. */
  public List<String> patchDirectories(CatalogTree tree, Diagnostics diags) {
    List<String> dirs = new ArrayList<>();
    for (String child : tree.children(PATCHES_DIR)) {
      String path = PATCHES_DIR + "/" + child;
      if (tree.isDirectory(path)) {
        dirs.add(path);
      } else {
        diags.warning(
            Codes.STRAY_FILE,
            path,
            0,
            0,
            "",
            "not a patch directory; patches/ holds one directory per patch, so this file is"
                + " ignored");
      }
    }
    if (dirs.isEmpty() && !tree.isDirectory(PATCHES_DIR)) {
      diags.warning(
          Codes.STRAY_FILE, PATCHES_DIR, 0, 0, "", "the catalog has no patches/ directory yet");
    }
    return dirs;
  }

  /** What a QA test file's name looks like, in a patch's tests/ and in qa/. */
  public static final Pattern TEST_FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\.test");

  /** The catalog-wide QA suite's directory: tests run for every patch (docs/qa.md). */
  public static final String CATALOG_SUITE_DIR = "qa";

  /** Files of qa/ must be tests the QA guest can run: regular files named like patch tests. */
  public void checkCatalogSuite(CatalogTree tree, Diagnostics diags) {
    for (String child : tree.children(CATALOG_SUITE_DIR)) {
      String path = CATALOG_SUITE_DIR + "/" + child;
      if (!TEST_FILE_NAME.matcher(child).matches()) {
        fileError(
            diags,
            Codes.TEST_NAME,
            path,
            "qa/ holds the catalog-wide tests: files named with letters, digits, '.', '_' and '-'"
                + " ending in .test; rename or remove this entry");
      } else {
        FileRead read = FileRead.read(tree, path, CATALOG_SUITE_DIR);
        if (read instanceof FileRead.TooLarge
            || read instanceof FileRead.Found f && f.content().length > TreeLimits.TEST_BYTES) {
          diags.error(Codes.FILE_TOO_LARGE, path, 0, 0, "", testTooLarge(read));
        } else if (!(read instanceof FileRead.Found)) {
          fileError(
              diags,
              Codes.TEST_NAME,
              path,
              "a catalog-wide test must be a regular file inside qa/ (not a directory, nor a link"
                  + " leading out)");
        }
      }
    }
  }

  /** The message for a test file over {@link TreeLimits#TEST_BYTES}, read as {@code read}. */
  public static String testTooLarge(FileRead read) {
    long size =
        read instanceof FileRead.TooLarge t ? t.size() : ((FileRead.Found) read).content().length;
    return "test is "
        + size
        + " bytes; a test is at most "
        + TreeLimits.TEST_BYTES
        + " bytes (1 MiB), as every"
        + " QA guest holds a copy: keep test data out of the script";
  }

  /** One patch directory's manifest, loaded, or the problems that kept it from loading. */
  public record PatchLoad(Optional<Livepatch> patch, Diagnostics diagnostics) {}

  /** Reads, parses and schema-checks one YAML file; empty when it is unusable. */
  private Optional<YamlDocument> document(
      CatalogTree tree,
      String path,
      String boundary,
      SchemaValidator.Kind kind,
      Diagnostics diags) {
    FileRead read = FileRead.read(tree, path, boundary);
    if (read instanceof FileRead.Missing || read instanceof FileRead.NotAFile) {
      if (kind == SchemaValidator.Kind.CATALOG) {
        fileError(
            diags,
            Codes.CATALOG_MISSING,
            path,
            "no catalog.yaml at the catalog root; create one (kind: Catalog) listing the group and"
                + " kernels");
      } else {
        fileError(
            diags,
            Codes.MANIFEST_MISSING,
            path,
            "patch directory has no manifest.yaml; add one (kind: Livepatch) or remove the"
                + " directory");
      }
      return Optional.empty();
    }
    if (read instanceof FileRead.Escapes e) {
      fileError(
          diags,
          Codes.PATH_ESCAPE,
          path,
          "symbolic link to '"
              + e.linkTarget()
              + "' leaves "
              + (boundary.isEmpty() ? "the catalog" : boundary)
              + "; replace it with the file itself");
      return Optional.empty();
    }
    if (read instanceof FileRead.TooLarge t) {
      fileError(
          diags,
          Codes.FILE_TOO_LARGE,
          path,
          "file is "
              + t.size()
              + " bytes; YAML files of a catalog are"
              + " limited to "
              + SafeYamlLoader.DEFAULT_MAX_BYTES
              + " bytes");
      return Optional.empty();
    }
    byte[] content = ((FileRead.Found) read).content();
    SafeYamlLoader.Result r = yaml.load(path, content);
    if (!r.ok()) {
      for (YamlProblem p : r.problems()) {
        diags.error(
            Codes.YAML, path, p.mark().line(), p.mark().column(), p.yamlPath(), p.message());
      }
      return Optional.empty();
    }
    var schemaErrors = schemas.validate(kind, r.document());
    if (!schemaErrors.isEmpty()) {
      diags.addAll(schemaErrors);
      return Optional.empty();
    }
    return Optional.of(r.document());
  }

  /** catalog.yaml, loaded, or empty with the problems in {@code diags}. */
  public Optional<CatalogSpec> loadSpec(CatalogTree tree, Diagnostics diags) {
    Optional<YamlDocument> doc =
        document(tree, CATALOG_FILE, "", SchemaValidator.Kind.CATALOG, diags);
    if (doc.isEmpty()) {
      return Optional.empty();
    }
    JsonNode root = doc.get().root();
    JsonNode spec = root.get("spec");
    JsonNode group = spec.get("group");
    List<Kernel> kernels = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    int i = 0;
    for (JsonNode k : Json.objects(spec, "kernels")) {
      String release = Json.text(k, "release", "");
      String path = YamlPath.child(YamlPath.index("spec.kernels", i), "release");
      Integer prev = seen.putIfAbsent(release, i);
      if (prev != null) {
        Mark m = doc.get().markOf(path);
        diags.error(
            Codes.KERNEL_DUPLICATE,
            CATALOG_FILE,
            m.line(),
            m.column(),
            path,
            "kernel " + release + " is listed twice (also spec.kernels[" + prev + "]); remove one");
      } else {
        kernels.add(
            Kernel.of(
                release,
                Json.text(k, "flavour", null),
                Json.text(k, "provider", DEFAULT_PROVIDER)));
      }
      i++;
    }
    List<String> unpatchable =
        spec.has("unpatchableFunctions")
            ? Json.strings(spec, "unpatchableFunctions")
            : PatchAnalyzer.DEFAULT_UNPATCHABLE;
    return Optional.of(
        new CatalogSpec(
            Json.text(root.get("metadata"), "name", ""),
            Json.text(spec, "packagePrefix", "kpatch-"),
            Json.text(spec, "license", "GPL-2.0-only"),
            Json.text(spec, "arch", "x86_64"),
            new GroupSpec(
                Json.text(group, "id", "kernel-livepatches"),
                Json.text(group, "name", ""),
                Json.text(group, "description", "")),
            List.copyOf(kernels),
            List.copyOf(unpatchable),
            doc.get()));
  }

  public PatchLoad loadPatch(CatalogTree tree, String dir) {
    Diagnostics diags = new Diagnostics();
    String manifest = dir + "/" + MANIFEST;
    Optional<YamlDocument> doc =
        document(tree, manifest, dir, SchemaValidator.Kind.LIVEPATCH, diags);
    if (doc.isEmpty()) {
      return new PatchLoad(Optional.empty(), diags);
    }
    return new PatchLoad(Optional.of(bind(dir, doc.get())), diags);
  }

  /** Binds a schema-valid manifest to the model. */
  static Livepatch bind(String dir, YamlDocument doc) {
    JsonNode root = doc.root();
    JsonNode spec = root.get("spec");
    String name = Json.text(root.get("metadata"), "name", "");
    KernelSelector kernels = selector(spec.get("kernels"), "spec.kernels");
    String tests = Json.text(spec, "tests", "tests");
    List<Variant> variants = new ArrayList<>();
    List<SymbolSpec> specSymbols = symbols(spec, "spec");
    boolean explicit = spec.has("variants");
    if (explicit) {
      int i = 0;
      for (JsonNode v : Json.objects(spec, "variants")) {
        String path = YamlPath.index("spec.variants", i++);
        variants.add(
            new Variant(
                Json.text(v, "name", ""),
                selector(v.get("kernels"), path + ".kernels"),
                Json.text(v, "patch", ""),
                Json.text(v, "module"),
                Json.text(v, "tests", tests),
                path,
                v.has("symbols") ? symbols(v, path) : specSymbols));
      }
    } else {
      variants.add(
          new Variant(
              Variant.DEFAULT,
              KernelSelector.all("spec.kernels"),
              Json.text(spec, "patch", ""),
              Json.text(spec, "module"),
              tests,
              "spec",
              specSymbols));
    }
    List<ModuleSpec> modules = new ArrayList<>();
    for (JsonNode m : Json.objects(spec, "modules")) {
      modules.add(new ModuleSpec(Json.text(m, "name", ""), List.copyOf(Json.strings(m, "files"))));
    }
    List<StateSpec> states = new ArrayList<>();
    for (JsonNode s : Json.objects(spec, "states")) {
      states.add(new StateSpec(s.get("id").longValue(), s.get("version").longValue()));
    }
    List<Acknowledgement> acks = new ArrayList<>();
    int i = 0;
    for (JsonNode a : Json.objects(spec, "acknowledge")) {
      acks.add(
          new Acknowledgement(
              Json.text(a, "flag", ""),
              Json.text(a, "key", ""),
              Json.text(a, "reason", ""),
              YamlPath.index("spec.acknowledge", i++)));
    }
    return new Livepatch(
        name,
        dir,
        Json.text(spec, "version", "1"),
        Json.text(spec, "summary", ""),
        Json.text(spec, "description", ""),
        List.copyOf(Json.strings(spec, "references")),
        Json.text(spec, "license").orElse(null),
        kernels,
        List.copyOf(variants),
        explicit,
        List.copyOf(modules),
        List.copyOf(Json.strings(spec, "supersedes")),
        Json.bool(spec, "replace", false),
        List.copyOf(states),
        List.copyOf(Json.strings(spec, "extraFunctions")),
        List.copyOf(acks),
        doc);
  }

  /**
   * The {@code symbols} list of a manifest node at {@code path}, in manifest order. A module name
   * with '-' is the module with '_' (the kernel's own rule), so objects are kept in the '_' form.
   */
  private static List<SymbolSpec> symbols(JsonNode node, String path) {
    List<SymbolSpec> out = new ArrayList<>();
    int i = 0;
    for (JsonNode s : Json.objects(node, "symbols")) {
      JsonNode pos = s.get("sympos");
      out.add(
          new SymbolSpec(
              Json.text(s, "name", ""),
              ModuleSpec.canonicalName(Json.text(s, "object", "")),
              pos == null || pos.isNull() ? OptionalInt.empty() : OptionalInt.of(pos.intValue()),
              YamlPath.index(YamlPath.child(path, "symbols"), i++)));
    }
    return List.copyOf(out);
  }

  private static KernelSelector selector(JsonNode node, String path) {
    if (node == null) {
      return KernelSelector.all(path);
    }
    return new KernelSelector(
        Json.text(node, "from"),
        Json.text(node, "to"),
        List.copyOf(Json.strings(node, "flavours")),
        List.copyOf(Json.strings(node, "releases")),
        path);
  }

  /** A problem of a whole file (no line, no YAML path). */
  private static void fileError(Diagnostics diags, String code, String path, String message) {
    diags.error(code, path, 0, 0, "", message);
  }
}
