package org.klpcatalog;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.PackageMatcher;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.cli.Main;

/**
 * The package graph is a one-way list: each package may import only packages to its right. Packages
 * on one rank (the service's leaves) import neither each other nor anything to their left.
 * docs/architecture.md shows the same list.
 */
class PackageGraphTest {

  /**
   * Left to right, under org.klpcatalog; each rank holds one package or several that may not import
   * each other; {@code ..} takes in the subpackages (catalog-schema's).
   */
  static final List<List<String>> ORDER =
      List.of(
          List.of("cli"),
          List.of("service"),
          List.of("service.webhook", "service.forge", "service.cluster"),
          List.of("reconcile"),
          List.of("qa"),
          List.of("publish"),
          List.of("build"),
          List.of("sourcecheck"),
          List.of("rpm"),
          List.of("klp"),
          List.of("kernel"),
          List.of("repo"),
          List.of("revision"),
          List.of("plan"),
          List.of("source"),
          List.of("log"),
          List.of("exec"),
          List.of("files"),
          List.of("catalog.."));

  private static JavaClasses classes;

  @BeforeAll
  static void importMainClasses() {
    classes =
        new ClassFileImporter()
            .importLocations(
                Set.of(
                    Location.of(Main.class.getProtectionDomain().getCodeSource().getLocation()),
                    Location.of(
                        CatalogValidator.class
                            .getProtectionDomain()
                            .getCodeSource()
                            .getLocation())));
  }

  @Test
  void everyPackageImportsOnlyPackagesToItsRight() {
    LayeredArchitecture graph = layeredArchitecture().consideringOnlyDependenciesInLayers();
    for (List<String> rank : ORDER) {
      for (String pkg : rank) {
        graph = graph.layer(pkg).definedBy(identifier(pkg));
      }
    }
    List<String> left = new ArrayList<>();
    for (List<String> rank : ORDER) {
      for (String pkg : rank) {
        graph =
            left.isEmpty()
                ? graph.whereLayer(pkg).mayNotBeAccessedByAnyLayer()
                : graph.whereLayer(pkg).mayOnlyBeAccessedByLayers(left.toArray(String[]::new));
      }
      left.addAll(rank);
    }
    graph.check(classes);
  }

  @Test
  void everyPackageHasItsPlaceInTheList() {
    List<PackageMatcher> listed =
        ORDER.stream().flatMap(List::stream).map(p -> PackageMatcher.of(identifier(p))).toList();
    Set<String> unplaced = new TreeSet<>();
    for (JavaClass c : classes) {
      if (listed.stream().noneMatch(m -> m.matches(c.getPackageName()))) {
        unplaced.add(c.getPackageName());
      }
    }
    assertThat(unplaced).as("packages missing from PackageGraphTest.ORDER").isEmpty();
  }

  private static String identifier(String pkg) {
    return "org.klpcatalog." + pkg;
  }
}
