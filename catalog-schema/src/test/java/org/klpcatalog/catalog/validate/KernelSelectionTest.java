package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.KernelSelector;

class KernelSelectionTest {
  static final List<Kernel> ALL =
      List.of(
          Kernel.of("6.1.0-9-amd64", null, "debian"),
          Kernel.of("6.1.0-50-amd64", null, "debian"),
          Kernel.of("6.1.0-50-cloud-amd64", null, "debian"),
          Kernel.of("6.1.0-53-amd64", null, "debian"),
          Kernel.of("6.1.0-56-rt-amd64", null, "debian"),
          Kernel.of("5.14.0-427.13.1.el9_4.x86_64", null, "rpm-repo"));

  private static List<String> select(KernelSelector s) {
    KernelSelection.Result r = KernelSelection.select(s, ALL, ALL, "the catalog");
    assertThat(r.problems()).isEmpty();
    return r.kernels().stream().map(Kernel::release).toList();
  }

  private static KernelSelector range(String from, String to, String... flavours) {
    return new KernelSelector(
        Optional.ofNullable(from),
        Optional.ofNullable(to),
        List.of(flavours),
        List.of(),
        "spec.kernels");
  }

  @Test
  void derivesVersionAndFlavourFromDebianReleases() {
    assertThat(ALL.get(2).version()).isEqualTo("6.1.0-50");
    assertThat(ALL.get(2).flavour()).isEqualTo("cloud-amd64");
    assertThat(ALL.get(4).flavour()).isEqualTo("rt-amd64");
    assertThat(ALL.get(5).version()).isEqualTo("5.14.0-427.13.1.el9_4.x86_64");
    assertThat(ALL.get(5).flavour()).isEmpty();
    assertThat(Kernel.of("5.14.0-427.el9.x86_64", "el9", "rpm-repo").flavour()).isEqualTo("el9");
  }

  @Test
  void rangesUseRpmOrderNotStringOrder() {
    // "6.1.0-9" sorts after "6.1.0-50" as a string, before it in rpm order.
    assertThat(select(range("6.1.0-10", null)))
        .containsExactly(
            "6.1.0-50-amd64", "6.1.0-50-cloud-amd64", "6.1.0-53-amd64", "6.1.0-56-rt-amd64");
    assertThat(select(range(null, "6.1.0-50")))
        .containsExactly(
            "6.1.0-9-amd64",
            "6.1.0-50-amd64",
            "6.1.0-50-cloud-amd64",
            "5.14.0-427.13.1.el9_4.x86_64");
  }

  @Test
  void boundsAreInclusiveAndFlavoursFilter() {
    assertThat(select(range("6.1.0-50", "6.1.0-53", "amd64")))
        .containsExactly("6.1.0-50-amd64", "6.1.0-53-amd64");
    assertThat(select(range("6.1.0-50", "6.1.0-56", "cloud-amd64", "rt-amd64")))
        .containsExactly("6.1.0-50-cloud-amd64", "6.1.0-56-rt-amd64");
  }

  @Test
  void explicitListsKeepTheCatalogOrder() {
    KernelSelector s =
        new KernelSelector(
            Optional.empty(),
            Optional.empty(),
            List.of(),
            List.of("6.1.0-53-amd64", "6.1.0-9-amd64"),
            "spec.kernels");
    assertThat(select(s)).containsExactly("6.1.0-9-amd64", "6.1.0-53-amd64");
  }

  @Test
  void mixingAListWithARangeIsAnError() {
    KernelSelector s =
        new KernelSelector(
            Optional.of("6.1.0-50"),
            Optional.empty(),
            List.of(),
            List.of("6.1.0-53-amd64"),
            "spec.kernels");
    KernelSelection.Result r = KernelSelection.select(s, ALL, ALL, "the catalog");
    assertThat(r.problems())
        .extracting(KernelSelection.Problem::message)
        .containsExactly(
            "give either releases (an explicit list) or from/to/flavours (a range), not both");
  }

  @Test
  void aReleaseOutsideTheScopeIsNamedAsSuch() {
    List<Kernel> scope = ALL.subList(0, 2);
    KernelSelector s =
        new KernelSelector(
            Optional.empty(),
            Optional.empty(),
            List.of(),
            List.of("6.1.0-53-amd64"),
            "spec.variants[0].kernels");
    KernelSelection.Result r = KernelSelection.select(s, scope, ALL, "spec.kernels");
    assertThat(r.problems())
        .extracting(KernelSelection.Problem::yamlPath, KernelSelection.Problem::message)
        .containsExactly(
            Tuple.tuple(
                "spec.variants[0].kernels.releases[0]",
                "kernel 6.1.0-53-amd64 is not among the kernels spec.kernels selects"));
  }

  @Test
  void describesLongListsCompactly() {
    assertThat(KernelSelection.describeNames(List.of("a", "b", "c", "d", "e", "f", "g", "h")))
        .isEqualTo("a, b, c, d, e, f and 2 more");
  }
}
