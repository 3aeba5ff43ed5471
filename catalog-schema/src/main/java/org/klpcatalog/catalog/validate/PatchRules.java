package org.klpcatalog.catalog.validate;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.analysis.ChangedFunction;
import org.klpcatalog.catalog.analysis.Flag;
import org.klpcatalog.catalog.analysis.FlagKind;
import org.klpcatalog.catalog.analysis.LivepatchSource;
import org.klpcatalog.catalog.analysis.LivepatchSourceParser;
import org.klpcatalog.catalog.analysis.PatchAnalysis;
import org.klpcatalog.catalog.analysis.PatchAnalyzer;
import org.klpcatalog.catalog.diag.Diagnostics;
import org.klpcatalog.catalog.load.CatalogLoader;
import org.klpcatalog.catalog.load.Codes;
import org.klpcatalog.catalog.model.Acknowledgement;
import org.klpcatalog.catalog.model.CatalogSpec;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.ModuleSpec;
import org.klpcatalog.catalog.model.StateSpec;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.catalog.model.Variant;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.FileRead;
import org.klpcatalog.catalog.source.Paths;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.yaml.Mark;
import tools.jackson.databind.JsonNode;

/**
 * The rules that concern one patch on its own: names, text, files, kernel selection, variant
 * coverage, the analysis of each variant's fix and its agreement with the module source.
 */
final class PatchRules {
  /** A function key as the catalog format writes it (spec.extraFunctions): path/file.c:name. */
  static final Pattern FUNCTION_KEY = Pattern.compile("^[A-Za-z0-9_./+-]+:[A-Za-z_][A-Za-z0-9_]*$");

  private final CatalogTree tree;
  private final Optional<CatalogSpec> spec;
  private final PatchAnalyzer analyzer;

  PatchRules(CatalogTree tree, Optional<CatalogSpec> spec, PatchAnalyzer analyzer) {
    this.tree = tree;
    this.spec = spec;
    this.analyzer = analyzer;
  }

  record Outcome(PatchReport report, Diagnostics diagnostics) {}

  Outcome check(Livepatch p) {
    Diagnostics d = new Diagnostics();
    Located at = new Located(p, d);
    checkName(p, at);
    checkText(p, at);
    checkSymlinks(p, at);
    List<Kernel> kernels = List.of();
    if (spec.isPresent()) {
      List<Kernel> all = spec.get().kernels();
      KernelSelection.Result sel = KernelSelection.select(p.kernels(), all, all, "the catalog");
      for (KernelSelection.Problem pr : sel.problems()) {
        at.error(pr.code(), pr.yamlPath(), pr.message());
      }
      kernels = sel.kernels();
      if (kernels.isEmpty() && sel.problems().isEmpty()) {
        at.error(
            Codes.KERNELS_EMPTY,
            "spec.kernels",
            "selects none of the catalog's kernels; check from/to/flavours against catalog.yaml's"
                + " spec.kernels");
      }
    }
    Map<String, List<Kernel>> variantKernels = variantKernels(p, kernels, at);
    Map<String, PatchAnalysis> analyses = new HashMap<>();
    Map<String, LivepatchSource> modules = new HashMap<>();
    Set<String> usedAcks = new TreeSet<>();
    List<VariantReport> reports = new ArrayList<>();
    Set<String> testedDirs = new TreeSet<>();
    for (Variant v : p.variants()) {
      Optional<PatchAnalysis> analysis = analysis(p, v, analyses, at, usedAcks);
      Optional<LivepatchSource> module = Optional.empty();
      if (v.module().isPresent()) {
        module = module(p, v, modules, at);
        if (module.isPresent() && analysis.isPresent() && analysis.get().problems().isEmpty()) {
          crossCheck(p, v, analysis.get(), module.get(), at, usedAcks);
        }
      }
      if (testedDirs.add(v.tests())) {
        checkTests(p, v, at);
      }
      Set<String> keys = new TreeSet<>(p.extraFunctions());
      analysis.ifPresent(a -> keys.addAll(a.ownedKeys()));
      reports.add(
          new VariantReport(
              v, variantKernels.getOrDefault(v.name(), List.of()), analysis, module, keys));
    }
    checkSymbols(p, reports, at);
    for (Acknowledgement a : p.acknowledged()) {
      // code-change is about what a kernel's compiler makes of the fix: only the source checks
      // against that kernel's source can tell whether it is used.
      if (!a.flag().equals(FlagKind.CODE_CHANGE.id())
          && !usedAcks.contains(a.flag() + " " + a.key())) {
        at.warning(
            Codes.ACK_UNUSED,
            a.yamlPath() + ".key",
            "acknowledges "
                + a.flag()
                + " '"
                + a.key()
                + "', which the fix does not have; remove the entry"
                + " (klp-catalog analyze prints the flags and their keys)");
      }
    }
    return new Outcome(new PatchReport(p, true, kernels, List.copyOf(reports)), d);
  }

  /** Reports diagnostics at positions of one manifest. */
  static final class Located {
    final Livepatch p;
    final Diagnostics d;

    Located(Livepatch p, Diagnostics d) {
      this.p = p;
      this.d = d;
    }

    void error(String code, String yamlPath, String message) {
      Mark m = p.source().markOf(yamlPath);
      d.error(code, p.manifestPath(), m.line(), m.column(), yamlPath, message);
    }

    void warning(String code, String yamlPath, String message) {
      Mark m = p.source().markOf(yamlPath);
      d.warning(code, p.manifestPath(), m.line(), m.column(), yamlPath, message);
    }

    /** An error at a position inside the text of the string at {@code yamlPath}. */
    void errorInText(String code, String yamlPath, TextRules.Problem problem, String message) {
      Mark m = p.source().markOfText(yamlPath, problem.line(), problem.column());
      d.error(code, p.manifestPath(), m.line(), m.column(), yamlPath, message);
    }

    void errorIn(String code, String file, int line, String yamlPath, String message) {
      d.error(code, file, line, line > 0 ? 1 : 0, yamlPath, message);
    }
  }

  private void checkName(Livepatch p, Located at) {
    String dirName = Paths.name(p.dir());
    if (!dirName.equals(p.name())) {
      at.error(
          Codes.NAME_MISMATCH,
          "metadata.name",
          "metadata.name '"
              + p.name()
              + "' differs from its directory '"
              + dirName
              + "'; rename one so they match (the directory name is the patch's identity)");
    }
  }

  /**
   * Text that reaches the package (summary, description, references) must be what rpm carries
   * verbatim (TextRules); a description's problems are reported at their line in the manifest.
   */
  private void checkText(Livepatch p, Located at) {
    TextRules.tagValue(p.summary())
        .ifPresent(w -> at.error(Codes.UNSAFE_TEXT, "spec.summary", "spec.summary " + w.message()));
    for (TextRules.Problem w : TextRules.sectionText(p.description())) {
      at.errorInText(Codes.UNSAFE_TEXT, "spec.description", w, "spec.description " + w.message());
    }
    for (int i = 0; i < p.references().size(); i++) {
      String r = p.references().get(i);
      String path = "spec.references[" + i + "]";
      Optional<String> bad = TextRules.check(r, false);
      if (bad.isPresent()) {
        at.error(Codes.UNSAFE_TEXT, path, path + " " + bad.get());
      } else if (!TextRules.isReference(r)) {
        at.error(
            Codes.UNSAFE_TEXT,
            path,
            path
                + " must be a CVE id (CVE-2024-1234), an http(s) URL without spaces, or a tracker"
                + " id such as bsc#1234567");
      }
    }
  }

  /**
   * Symbolic links in a patch directory may not point outside it: the build copies the directory.
   */
  private void checkSymlinks(Livepatch p, Located at) {
    for (String path : tree.listRecursive(p.dir())) {
      TreeEntry e = tree.get(path).orElseThrow();
      if (e instanceof TreeEntry.Symlink link) {
        Optional<String> target = tree.resolve(path);
        if (target.isEmpty() || !Paths.isWithin(target.get(), p.dir())) {
          at.d.error(
              Codes.PATH_ESCAPE,
              path,
              0,
              0,
              "",
              "symbolic link to '"
                  + link.target()
                  + "' leaves the patch directory "
                  + p.dir()
                  + "; replace it with the file itself");
        }
      }
    }
  }

  private Map<String, List<Kernel>> variantKernels(Livepatch p, List<Kernel> kernels, Located at) {
    Map<String, List<Kernel>> out = new LinkedHashMap<>();
    if (!p.explicitVariants()) {
      out.put(p.variants().get(0).name(), kernels);
      return out;
    }
    Set<String> names = new TreeSet<>();
    List<Kernel> all = spec.map(CatalogSpec::kernels).orElse(List.of());
    Map<Kernel, List<String>> claims = new LinkedHashMap<>();
    for (Kernel k : kernels) {
      claims.put(k, new ArrayList<>());
    }
    for (Variant v : p.variants()) {
      if (!names.add(v.name())) {
        at.error(
            Codes.VARIANT_DUPLICATE,
            v.pathOf("name"),
            "variant name '" + v.name() + "' is used twice; give each variant its own name");
      }
      if (spec.isEmpty()) {
        continue;
      }
      KernelSelection.Result sel =
          KernelSelection.select(v.kernels(), kernels, all, "spec.kernels");
      for (KernelSelection.Problem pr : sel.problems()) {
        at.error(pr.code(), pr.yamlPath(), pr.message());
      }
      if (sel.kernels().isEmpty() && sel.problems().isEmpty() && !kernels.isEmpty()) {
        at.error(
            Codes.KERNELS_EMPTY,
            v.pathOf("kernels"),
            "variant '"
                + v.name()
                + "' selects none of the patch's kernels ("
                + KernelSelection.describe(kernels)
                + ")");
      }
      out.put(v.name(), sel.kernels());
      for (Kernel k : sel.kernels()) {
        claims.get(k).add(v.name());
      }
    }
    if (spec.isEmpty()) {
      return out;
    }
    Map<String, List<Kernel>> overlaps = new LinkedHashMap<>();
    List<Kernel> gaps = new ArrayList<>();
    for (Map.Entry<Kernel, List<String>> e : claims.entrySet()) {
      if (e.getValue().isEmpty()) {
        gaps.add(e.getKey());
      } else if (e.getValue().size() > 1) {
        overlaps.computeIfAbsent(listNames(e.getValue()), x -> new ArrayList<>()).add(e.getKey());
      }
    }
    for (Map.Entry<String, List<Kernel>> e : overlaps.entrySet()) {
      at.error(
          Codes.VARIANT_OVERLAP,
          "spec.variants",
          "variants "
              + e.getKey()
              + " claim "
              + KernelSelection.describe(e.getValue())
              + "; each kernel must be served by exactly one variant, so narrow their kernels");
    }
    if (!gaps.isEmpty()) {
      at.error(
          Codes.VARIANT_GAP,
          "spec.variants",
          "no variant serves "
              + KernelSelection.describe(gaps)
              + ", which spec.kernels selects; extend a variant's kernels or narrow spec.kernels");
    }
    return out;
  }

  /** 'a' and 'b', or 'a', 'b' and 'c'. */
  private static String listNames(List<String> names) {
    List<String> quoted = names.stream().map(n -> "'" + n + "'").toList();
    if (quoted.size() == 1) {
      return quoted.get(0);
    }
    return String.join(", ", quoted.subList(0, quoted.size() - 1))
        + " and "
        + quoted.get(quoted.size() - 1);
  }

  /** Resolves a path of the manifest inside the patch directory, reporting escapes. */
  private Optional<String> inside(Livepatch p, String relative, String yamlPath, Located at) {
    Optional<String> joined = Paths.join(p.dir(), relative);
    if (joined.isEmpty()
        || !Paths.isWithin(joined.get(), p.dir())
        || joined.get().equals(p.dir())) {
      at.error(
          Codes.PATH_ESCAPE,
          yamlPath,
          yamlPath
              + " '"
              + relative
              + "' points outside the patch directory; files of a patch live in its directory");
      return Optional.empty();
    }
    return joined;
  }

  private Optional<String> readText(
      Livepatch p, String relative, String yamlPath, String what, long limit, Located at) {
    Optional<String> path = inside(p, relative, yamlPath, at);
    if (path.isEmpty()) {
      return Optional.empty();
    }
    FileRead r = FileRead.read(tree, path.get(), p.dir());
    long size =
        r instanceof FileRead.Found f
            ? f.content().length
            : r instanceof FileRead.TooLarge t ? t.size() : 0;
    if (size > limit) {
      at.errorIn(
          Codes.FILE_TOO_LARGE,
          p.file(relative),
          0,
          yamlPath,
          what
              + " "
              + relative
              + " is "
              + size
              + " bytes; a "
              + what
              + " is at most "
              + limit
              + " bytes ("
              + (limit >> 20)
              + " MiB): livepatch fixes are small, so keep to the functions this patch changes");
      return Optional.empty();
    }
    if (r instanceof FileRead.Found f) {
      return Optional.of(new String(f.content(), StandardCharsets.UTF_8));
    }
    if (r instanceof FileRead.Escapes) {
      return Optional.empty(); // reported by checkSymlinks
    }
    at.error(
        Codes.FILE_MISSING,
        yamlPath,
        what
            + " '"
            + relative
            + "' does not exist in "
            + p.dir()
            + "; add the file or fix "
            + yamlPath);
    return Optional.empty();
  }

  private Optional<PatchAnalysis> analysis(
      Livepatch p, Variant v, Map<String, PatchAnalysis> cache, Located at, Set<String> usedAcks) {
    String yamlPath = v.pathOf("patch");
    if (cache.containsKey(v.patch())) {
      return Optional.of(cache.get(v.patch()));
    }
    Optional<String> text = readText(p, v.patch(), yamlPath, "fix", TreeLimits.FIX_BYTES, at);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    PatchAnalysis a = analyzer.analyze(text.get());
    cache.put(v.patch(), a);
    String file = p.file(v.patch());
    for (PatchAnalysis.Problem pr : a.problems()) {
      at.errorIn(Codes.DIFF_INVALID, file, pr.patchLine(), yamlPath, pr.message());
    }
    for (ChangedFunction f : a.functions()) {
      if (!FUNCTION_KEY.matcher(f.key()).matches()) {
        at.errorIn(
            Codes.DIFF_INVALID,
            file,
            f.patchLine(),
            yamlPath,
            "the fix changes '"
                + f.name()
                + "' in '"
                + f.file()
                + "', a path or name with characters other than letters, digits, '_', '.', '/', '+'"
                + " and '-'; kernel sources have none, and the key becomes the package's"
                + " kpatch-function capability: make the diff from the kernel tree");
      }
    }
    if (a.functions().isEmpty() && a.problems().isEmpty()) {
      at.errorIn(
          Codes.DIFF_INVALID,
          file,
          1,
          yamlPath,
          "the fix changes no function; a livepatch carries function changes");
    }
    for (Flag f : a.flags()) {
      String id = f.kind().id() + " " + f.key();
      boolean acked = false;
      for (Acknowledgement ack : p.acknowledged()) {
        if (ack.flag().equals(f.kind().id()) && ack.key().equals(f.key())) {
          acked = true;
          usedAcks.add(id);
        }
      }
      if (!acked) {
        at.errorIn(
            Codes.FLAGGED_CHANGE,
            file,
            f.patchLine(),
            yamlPath,
            f.message()
                + " ["
                + f.kind().id()
                + " "
                + f.key()
                + "]; if it is safe, acknowledge it in"
                + " spec.acknowledge with flag: "
                + f.kind().id()
                + ", key: "
                + f.key()
                + " and a reason");
      }
    }
    return Optional.of(a);
  }

  private Optional<LivepatchSource> module(
      Livepatch p, Variant v, Map<String, LivepatchSource> cache, Located at) {
    String rel = v.module().orElseThrow();
    if (cache.containsKey(rel)) {
      return Optional.of(cache.get(rel));
    }
    Optional<String> text =
        readText(p, rel, v.pathOf("module"), "module source", TreeLimits.MODULE_BYTES, at);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    LivepatchSource src = LivepatchSourceParser.parse(text.get());
    cache.put(rel, src);
    String file = p.file(rel);
    for (PatchAnalysis.Problem pr : src.problems()) {
      at.errorIn(Codes.LIVEPATCH_INVALID, file, pr.patchLine(), v.pathOf("module"), pr.message());
    }
    if (!src.hasPatch()) {
      at.errorIn(
          Codes.LIVEPATCH_INVALID,
          file,
          1,
          v.pathOf("module"),
          "defines no 'struct klp_patch'; a source-based livepatch declares its klp_patch,"
              + " klp_object and klp_func arrays");
    }
    return Optional.of(src);
  }

  /** The module's replaced functions, replace mode and states must match the fix and manifest. */
  private void crossCheck(
      Livepatch p,
      Variant v,
      PatchAnalysis a,
      LivepatchSource src,
      Located at,
      Set<String> usedAcks) {
    if (!src.hasPatch()) {
      return;
    }
    String file = p.file(v.module().orElseThrow());
    String yamlPath = v.pathOf("module");
    Set<String> expected = new TreeSet<>();
    Set<String> inlined = new TreeSet<>();
    for (ChangedFunction f : a.replaced()) {
      // A changed function the compiler inlined into every caller has no symbol to replace: the
      // maintainer says so with an inline-function acknowledgement, and the module replaces the
      // callers instead (changed by the fix too, or listed in spec.extraFunctions).
      String ack = FlagKind.INLINE_FUNCTION.id() + " " + f.file() + ":" + f.name();
      if (p.acknowledged().stream().anyMatch(x -> (x.flag() + " " + x.key()).equals(ack))) {
        usedAcks.add(ack);
        inlined.add(f.file() + ":" + f.name());
        continue;
      }
      expected.add(objectOf(p, f.file()) + ":" + f.name());
    }
    for (String extra : p.extraFunctions()) {
      int colon = extra.lastIndexOf(':');
      expected.add(objectOf(p, extra.substring(0, colon)) + ":" + extra.substring(colon + 1));
    }
    if (!inlined.isEmpty() && expected.isEmpty()) {
      at.errorIn(
          Codes.LIVEPATCH_MISMATCH,
          file,
          src.patchLine(),
          yamlPath,
          "the fix's "
              + String.join(", ", inlined)
              + " is acknowledged as inlined into its callers, but the module replaces no caller:"
              + " list the functions the compiler inlined it into in spec.extraFunctions and"
              + " replace them");
    }
    Set<String> actual = new TreeSet<>();
    int firstLine = src.patchLine();
    for (LivepatchSource.KlpObject o : src.objects()) {
      for (LivepatchSource.KlpFunc f : o.funcs()) {
        actual.add(o.name() + ":" + f.oldName());
        firstLine = Math.min(firstLine, f.line());
      }
    }
    if (!expected.equals(actual)) {
      Set<String> missing = new TreeSet<>(expected);
      missing.removeAll(actual);
      Set<String> extra = new TreeSet<>(actual);
      extra.removeAll(expected);
      StringBuilder msg = new StringBuilder();
      msg.append("the module replaces [")
          .append(String.join(", ", actual))
          .append("] but the fix changes [")
          .append(String.join(", ", expected))
          .append("] (object:function)");
      if (!missing.isEmpty()) {
        msg.append("; add klp_func entries for ").append(String.join(", ", missing));
      }
      if (!extra.isEmpty()) {
        msg.append("; the fix does not change ")
            .append(String.join(", ", extra))
            .append(
                " (if the compiler inlined a changed function into it, list it in"
                    + " spec.extraFunctions; if it lives in a loadable module, declare the module"
                    + " in spec.modules)");
      }
      at.errorIn(Codes.LIVEPATCH_MISMATCH, file, firstLine, yamlPath, msg.toString());
    }
    boolean srcReplace = src.replace().orElse(false);
    if (srcReplace != p.replace()) {
      at.errorIn(
          Codes.LIVEPATCH_MISMATCH,
          file,
          src.replaceLine() > 0 ? src.replaceLine() : src.patchLine(),
          yamlPath,
          "the module's klp_patch has .replace = "
              + srcReplace
              + " but the manifest says replace: "
              + p.replace()
              + "; make them agree (independent patches are non-replace)");
    }
    Set<String> manifestStates = new TreeSet<>();
    for (StateSpec s : p.states()) {
      manifestStates.add(s.id() + "@" + s.version());
    }
    Set<String> sourceStates = new TreeSet<>();
    int stateLine = src.patchLine();
    for (LivepatchSource.KlpState s : src.states()) {
      sourceStates.add(s.id() + "@" + s.version());
      stateLine = s.line();
    }
    if (!manifestStates.equals(sourceStates)) {
      at.errorIn(
          Codes.LIVEPATCH_MISMATCH,
          file,
          stateLine,
          yamlPath,
          "the module declares klp_states ["
              + String.join(", ", sourceStates)
              + "] but spec.states lists ["
              + String.join(", ", manifestStates)
              + "] (id@version); make them agree");
    }
  }

  private static String objectOf(Livepatch p, String file) {
    for (ModuleSpec m : p.modules()) {
      if (m.files().contains(file)) {
        return m.name();
      }
    }
    return LivepatchSource.VMLINUX;
  }

  /**
   * The declared non-exported symbols ({@code spec.symbols}, a variant's {@code symbols}): each
   * list names every (name, object) once, each object is one the kernel applies relocations for, no
   * symbol is (a compiler copy of) a function the variant's module replaces, and a list is only
   * given where a kbuild module uses it. Whether a {@code sympos} is needed depends on each
   * kernel's symbol table, so the build checks that.
   */
  private static void checkSymbols(Livepatch p, List<VariantReport> reports, Located at) {
    JsonNode spec = p.source().root().path("spec");
    Set<String> objects = new TreeSet<>();
    objects.add(SymbolSpec.VMLINUX);
    for (ModuleSpec m : p.modules()) {
      objects.add(m.canonicalName());
    }
    boolean specListUsed = false;
    Set<String> reported = new HashSet<>();
    for (int i = 0; i < reports.size(); i++) {
      VariantReport r = reports.get(i);
      Variant v = r.variant();
      boolean own = p.explicitVariants() && spec.path("variants").path(i).has("symbols");
      if (own) {
        checkSymbolList(v.symbols(), objects, at);
        if (v.module().isEmpty()) {
          at.error(
              Codes.SYMBOLS_UNUSED,
              v.pathOf("symbols"),
              "variant '"
                  + v.name()
                  + "' has no module, so kpatch-build builds it and finds the symbols it needs"
                  + " itself; these declarations mean nothing: remove them, or give the variant a"
                  + " module");
        }
      } else {
        specListUsed |= v.module().isPresent();
      }
      checkAgainstModule(p, r, reported, at);
    }
    if (spec.has("symbols")) {
      List<SymbolSpec> declared =
          p.variants().stream()
              .map(Variant::symbols)
              .filter(l -> !l.isEmpty() && l.get(0).yamlPath().startsWith("spec.symbols["))
              .findFirst()
              .orElse(List.of());
      checkSymbolList(declared, objects, at);
      if (!specListUsed) {
        at.error(
            Codes.SYMBOLS_UNUSED,
            "spec.symbols",
            (p.explicitVariants()
                    ? "every variant either declares its own symbols or has no module"
                    : "the patch has no module (spec.module), so kpatch-build builds it and finds"
                        + " the symbols it needs itself")
                + "; spec.symbols means nothing here: remove it");
      }
    }
  }

  /** One declared list on its own: known objects, each (name, object) once. */
  private static void checkSymbolList(List<SymbolSpec> symbols, Set<String> objects, Located at) {
    Map<String, String> seen = new HashMap<>();
    for (SymbolSpec s : symbols) {
      if (!objects.contains(s.object())) {
        at.error(
            Codes.SYMBOL_OBJECT,
            s.yamlPath() + ".object",
            "object '"
                + s.object()
                + "' is neither vmlinux nor a module of spec.modules; the kernel applies the"
                + " relocations against a module's symbols only when the patch has that module as"
                + " an object: add it to spec.modules, or use vmlinux if the symbol is built into"
                + " the kernel");
      }
      String previous = seen.putIfAbsent(s.name(), s.object() + "\0" + s.yamlPath());
      if (previous != null) {
        String prevObject = previous.substring(0, previous.indexOf('\0'));
        String prevPath = previous.substring(previous.indexOf('\0') + 1);
        at.error(
            Codes.SYMBOL_DUPLICATE,
            s.yamlPath(),
            prevObject.equals(s.object())
                ? s.object()
                    + ":"
                    + s.name()
                    + " is declared twice (also "
                    + prevPath
                    + "); remove one (one name refers"
                    + " to one symbol: where the name is not unique, sympos says which)"
                : s.name()
                    + " is declared for "
                    + s.object()
                    + " and for "
                    + prevObject
                    + " ("
                    + prevPath
                    + "); one name"
                    + " in livepatch.c reaches one symbol: keep the one the module means");
      }
    }
  }

  /**
   * A variant's symbols against what its module does. A livepatch must not reach the old copy of a
   * function it replaces: a call through the declared symbol would run the code the fix corrects,
   * and compiler copies ({@code foo.isra.0}) of a replaced {@code foo} hold the same old code. And
   * a module's symbols are only resolved when the module source has a {@code klp_object} for that
   * module. {@code reported} keeps an entry shared by several variants from being reported once per
   * variant.
   */
  private static void checkAgainstModule(
      Livepatch p, VariantReport r, Set<String> reported, Located at) {
    if (r.variant().symbols().isEmpty()) {
      return;
    }
    Set<String> replaced = new TreeSet<>();
    r.analysis()
        .ifPresent(
            a ->
                a.replaced()
                    .forEach(f -> replaced.add(canonicalObjectOf(p, f.file()) + ":" + f.name())));
    for (String extra : p.extraFunctions()) {
      int colon = extra.lastIndexOf(':');
      replaced.add(
          canonicalObjectOf(p, extra.substring(0, colon)) + ":" + extra.substring(colon + 1));
    }
    Set<String> klpObjects = new TreeSet<>();
    r.module()
        .ifPresent(
            src ->
                src.objects()
                    .forEach(
                        o -> {
                          klpObjects.add(ModuleSpec.canonicalName(o.name()));
                          o.funcs()
                              .forEach(
                                  f ->
                                      replaced.add(
                                          ModuleSpec.canonicalName(o.name()) + ":" + f.oldName()));
                        }));
    for (SymbolSpec s : r.variant().symbols()) {
      int dot = s.name().indexOf('.');
      String function = dot > 0 ? s.name().substring(0, dot) : s.name();
      if (replaced.contains(s.object() + ":" + function) && reported.add(s.yamlPath() + ".name")) {
        at.error(
            Codes.SYMBOL_REPLACED,
            s.yamlPath() + ".name",
            s.object()
                + ":"
                + s.name()
                + (function.equals(s.name()) ? " is" : " is a compiler copy of " + function + ",")
                + " a function the module replaces; calling it would run the old code the fix"
                + " corrects: call the module's new version instead and remove the entry");
      }
      boolean objectOfPatch =
          p.modules().stream().anyMatch(m -> m.canonicalName().equals(s.object()));
      if (objectOfPatch
          && r.module().isPresent()
          && r.module().get().hasPatch()
          && !klpObjects.contains(s.object())
          && reported.add(s.yamlPath() + ".object")) {
        at.error(
            Codes.SYMBOL_OBJECT,
            s.yamlPath() + ".object",
            r.variant().module().orElseThrow()
                + " has no klp_object for module '"
                + s.object()
                + "'; the kernel resolves a module's symbols only when the patch has that module as"
                + " an object: add { .name = \""
                + s.object()
                + "\", .funcs = ... } to its klp_object array");
      }
    }
  }

  private static String canonicalObjectOf(Livepatch p, String file) {
    return ModuleSpec.canonicalName(objectOf(p, file));
  }

  private void checkTests(Livepatch p, Variant v, Located at) {
    String yamlPath =
        p.explicitVariants() && !v.tests().equals("tests") ? v.pathOf("tests") : "spec.tests";
    Optional<String> dir = inside(p, v.tests(), yamlPath, at);
    if (dir.isEmpty()) {
      return;
    }
    String resolved = tree.resolve(dir.get()).orElse(dir.get());
    if (!Paths.isWithin(resolved, p.dir())) {
      return; // reported by checkSymlinks
    }
    int loaded = 0;
    boolean any = false;
    for (String name : tree.children(resolved)) {
      if (!name.endsWith(".test")) {
        continue;
      }
      any = true;
      if (!CatalogLoader.TEST_FILE_NAME.matcher(name).matches()) {
        at.errorIn(
            Codes.TEST_NAME,
            resolved + "/" + name,
            0,
            yamlPath,
            "test file names use letters, digits, '.', '_' and '-' and end in .test");
      }
      FileRead test = FileRead.read(tree, resolved + "/" + name, p.dir());
      if (test instanceof FileRead.TooLarge
          || test instanceof FileRead.Found f && f.content().length > TreeLimits.TEST_BYTES) {
        at.errorIn(
            Codes.FILE_TOO_LARGE,
            resolved + "/" + name,
            0,
            yamlPath,
            CatalogLoader.testTooLarge(test));
      }
      if (name.endsWith("-LOADED.test")) {
        loaded++;
      }
    }
    if (!tree.isDirectory(resolved)) {
      at.error(
          Codes.TESTS_MISSING,
          yamlPath,
          "the patch has no tests: add "
              + p.dir()
              + "/"
              + v.tests()
              + "/ with at least one <name>-LOADED.test"
              + " (passes only while the patch is loaded)");
    } else if (loaded == 0) {
      at.error(
          Codes.TESTS_MISSING,
          yamlPath,
          (any ? "" : "no *.test files; ")
              + p.dir()
              + "/"
              + v.tests()
              + "/ needs at least one *-LOADED.test (passes only while the patch is loaded;"
              + " kpatch's convention)");
    }
  }
}
