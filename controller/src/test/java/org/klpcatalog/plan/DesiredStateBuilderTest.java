package org.klpcatalog.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.model.Kernel;

class DesiredStateBuilderTest {
  @Test
  void everyKernelServedAndEveryCveReferencedBecomesACapabilityButOtherReferencesDoNot() {
    List<Capability> caps =
        DesiredStateBuilder.servedAndFixed(
            List.of(kernel("6.1.0-56-amd64"), kernel("6.1.0-50-amd64")),
            List.of(
                "https://git.kernel.org/stable/c/0123",
                "CVE-2024-1086",
                "bsc#1219434",
                "CVE-2023-12345",
                "CVE-2024-1086"));
    assertThat(caps)
        .extracting(Capability::toString)
        .containsExactly(
            "kpatch-cve(CVE-2023-12345)",
            "kpatch-cve(CVE-2024-1086)",
            "kpatch-kernel(6.1.0-50-amd64)",
            "kpatch-kernel(6.1.0-56-amd64)");
  }

  private static Kernel kernel(String release) {
    return Kernel.of(release, null, "debian");
  }
}
