package org.klpcatalog.qa;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.catalog.load.CatalogLoader;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.ModuleSpec;
import org.klpcatalog.catalog.model.Variant;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.FileRead;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ModuleFile;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;

/**
 * Which VMs QA boots, from the desired state and the built RPMs. Pure.
 *
 * <ul>
 *   <li>One {@link QaJob.Kind#PATCH} job per package and kernel it serves, with the tests of the
 *       variant serving that kernel and the catalog-wide suite ({@code qa/*.test}), the patch's
 *       target modules (late module patching), the package's previous versions (upgrade) and the
 *       stress count.
 *   <li>One {@link QaJob.Kind#TOGETHER} job per kernel served by two or more of the packages: all
 *       of them installed in one rpm transaction, every test run.
 * </ul>
 */
public final class QaPlan {
  /** The catalog-wide suite's directory (its names are checked by the validator). */
  public static final String CATALOG_SUITE = CatalogLoader.CATALOG_SUITE_DIR;

  /** A package to test: what the desired state says and where its RPM is. */
  public record Candidate(DesiredPackage pkg, Path rpm) {}

  /** A published version a host may have before a candidate: its RPM and the kernels it serves. */
  public record Previous(Path rpm, List<String> kernels) {}

  private QaPlan() {}

  /** The catalog's kernels by release (what QA boots). */
  public static Map<String, Kernel> kernels(ValidationReport report) {
    Map<String, Kernel> out = new LinkedHashMap<>();
    report.spec().ifPresent(s -> s.kernels().forEach(k -> out.put(k.release(), k)));
    return out;
  }

  public static List<QaJob> jobs(
      List<Candidate> candidates,
      ValidationReport report,
      CatalogTree tree,
      Set<String> kernels,
      Map<String, List<Previous>> previous,
      int stress,
      boolean together) {
    List<QaTest> catalogSuite = catalogSuite(tree);
    List<QaJob> jobs = new ArrayList<>();
    for (Candidate c : candidates) {
      DesiredPackage p = c.pkg();
      PatchReport pr = report.patches().get(p.patch());
      Livepatch lp = pr.patch();
      for (ModuleFile m : p.modules()) {
        if (!kernels.isEmpty() && !kernels.contains(m.kernelRelease())) {
          continue;
        }
        List<QaTest> tests = new ArrayList<>(patchTests(tree, lp, m.variant()));
        tests.addAll(catalogSuite);
        QaJob job =
            new QaJob(
                p.name() + "@" + m.kernelRelease(),
                QaJob.Kind.PATCH,
                m.kernelRelease(),
                List.of(new QaJob.Pkg(p.name(), p.patch(), p.nevra(), c.rpm(), m.moduleName())),
                List.copyOf(tests),
                lp.modules().stream().map(ModuleSpec::name).toList(),
                // Only what serves this kernel: an older build without it loads nothing here.
                previous.getOrDefault(p.name(), List.of()).stream()
                    .filter(o -> o.kernels().contains(m.kernelRelease()))
                    .map(Previous::rpm)
                    .toList(),
                stress);
        jobs.add(job);
      }
    }
    if (together) {
      together(candidates, List.of(), report, tree).stream()
          .filter(j -> kernels.isEmpty() || kernels.contains(j.kernel()))
          .forEach(jobs::add);
    }
    return List.copyOf(jobs);
  }

  /**
   * One TOGETHER job per kernel that two or more packages serve: {@code candidates} (the packages
   * under test) with {@code staying} (published packages that stay, installed alongside), all
   * installed in one transaction, every test of every one of them run. A kernel none of the
   * candidates serves is not tested.
   */
  public static List<QaJob> together(
      List<Candidate> candidates,
      List<Candidate> staying,
      ValidationReport report,
      CatalogTree tree) {
    List<QaTest> catalogSuite = catalogSuite(tree);
    Map<String, List<QaJob.Pkg>> pkgs = new LinkedHashMap<>();
    Map<String, List<QaTest>> tests = new LinkedHashMap<>();
    Map<String, Set<String>> targets = new LinkedHashMap<>();
    Set<String> served = new HashSet<>();
    List<Candidate> all = new ArrayList<>(candidates);
    all.addAll(staying);
    for (Candidate c : all) {
      DesiredPackage p = c.pkg();
      PatchReport pr = report.patches().get(p.patch());
      if (pr == null) {
        continue;
      }
      for (ModuleFile m : p.modules()) {
        if (candidates.contains(c)) {
          served.add(m.kernelRelease());
        }
        pkgs.computeIfAbsent(m.kernelRelease(), k -> new ArrayList<>())
            .add(new QaJob.Pkg(p.name(), p.patch(), p.nevra(), c.rpm(), m.moduleName()));
        tests
            .computeIfAbsent(m.kernelRelease(), k -> new ArrayList<>())
            .addAll(patchTests(tree, pr.patch(), m.variant()));
        pr.patch()
            .modules()
            .forEach(
                ms ->
                    targets
                        .computeIfAbsent(m.kernelRelease(), k -> new LinkedHashSet<>())
                        .add(ms.name()));
      }
    }
    List<QaJob> jobs = new ArrayList<>();
    for (Map.Entry<String, List<QaJob.Pkg>> e : pkgs.entrySet()) {
      if (e.getValue().size() < 2 || !served.contains(e.getKey())) {
        continue;
      }
      List<QaTest> t = new ArrayList<>(tests.get(e.getKey()));
      t.addAll(catalogSuite);
      // The target modules go into the guest (the tests load them); late patching is not run.
      jobs.add(
          new QaJob(
              "all-together@" + e.getKey(),
              QaJob.Kind.TOGETHER,
              e.getKey(),
              List.copyOf(e.getValue()),
              List.copyOf(t),
              List.copyOf(targets.getOrDefault(e.getKey(), Set.of())),
              List.of(),
              0));
    }
    return jobs;
  }

  /**
   * The versions a host may have before this one: the published package of the same name when
   * older, and the published packages this one obsoletes (a successor replacing them).
   */
  public static List<ObservedPackage> previousVersions(DesiredPackage p, ObservedState observed) {
    List<ObservedPackage> out = new ArrayList<>();
    observed.pkg(p.name()).filter(o -> o.evr().compareTo(p.evr()) < 0).ifPresent(out::add);
    for (Capability c : p.obsoletes()) {
      observed
          .pkg(c.name())
          .filter(o -> !o.name().equals(p.name()))
          .ifPresent(
              o -> {
                if (!out.contains(o)) {
                  out.add(o);
                }
              });
    }
    return out;
  }

  static List<QaTest> patchTests(CatalogTree tree, Livepatch lp, String variant) {
    Optional<Variant> v = lp.variants().stream().filter(x -> x.name().equals(variant)).findFirst();
    String dir = lp.dir() + "/" + v.map(Variant::tests).orElse("tests");
    return tests(tree, dir, lp.name(), lp.dir());
  }

  static List<QaTest> catalogSuite(CatalogTree tree) {
    return tests(tree, CATALOG_SUITE, QaTest.CATALOG, CATALOG_SUITE);
  }

  private static List<QaTest> tests(CatalogTree tree, String dir, String group, String boundary) {
    List<QaTest> out = new ArrayList<>();
    for (String name : tree.children(dir)) {
      if (!name.endsWith(".test") || !GuestScript.SAFE.matcher(name).matches()) {
        continue;
      }
      String path = dir + "/" + name;
      if (FileRead.read(tree, path, boundary) instanceof FileRead.Found f) {
        out.add(new QaTest(group, name, path, f.content()));
      }
    }
    return out;
  }
}
