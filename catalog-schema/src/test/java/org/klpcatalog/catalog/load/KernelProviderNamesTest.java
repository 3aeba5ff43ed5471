package org.klpcatalog.catalog.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;

/** A catalog names kernel providers by name only, and 'debian' when it names none. */
class KernelProviderNamesTest {
  @Test
  void aKernelNamesAnyProviderOrNoneAndThenDebian(@TempDir Path tmp) throws IOException {
    try (Stream<Path> s = Files.walk(Fixtures.base())) {
      for (Path p : s.toList()) {
        Path to = tmp.resolve(Fixtures.base().relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    Path yaml = tmp.resolve("catalog.yaml");
    Files.writeString(
        yaml,
        Files.readString(yaml)
            .replace("{release: 6.1.0-53-amd64, provider: debian}", "{release: 6.1.0-53-amd64}")
            .replace(
                "{release: 6.1.0-56-amd64, provider: debian}",
                "{release: 6.1.0-56-amd64, provider: lab-mirror_2}"));
    ValidationReport r = new CatalogValidator().validate(new DirectoryTreeReader().read(tmp));
    assertThat(r.diagnostics()).isEmpty();
    assertThat(r.spec().orElseThrow().kernels())
        .extracting(Kernel::release, Kernel::provider)
        .containsExactly(
            Tuple.tuple("6.1.0-50-amd64", "debian"),
            Tuple.tuple("6.1.0-53-amd64", CatalogLoader.DEFAULT_PROVIDER),
            Tuple.tuple("6.1.0-56-amd64", "lab-mirror_2"),
            Tuple.tuple("6.1.0-56-cloud-amd64", "debian"));
  }
}
