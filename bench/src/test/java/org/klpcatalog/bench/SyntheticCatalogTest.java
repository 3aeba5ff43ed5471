package org.klpcatalog.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.ValidationReport;

/** The benchmark must measure a valid catalog with the shape it claims, not an error path. */
class SyntheticCatalogTest {

  @Test
  void generatesAValidCatalogWithSupersededPatchesAndVariants(@TempDir Path dir)
      throws IOException {
    new SyntheticCatalog(200, 20, 42).write(dir);
    ValidationReport r = new CatalogValidator().validate(new DirectoryTreeReader().read(dir));
    assertThat(r.diagnostics()).isEmpty();
    assertThat(r.spec().orElseThrow().kernels()).hasSize(20);
    // 200 active patches, plus one retired patch for every tenth.
    assertThat(r.patches()).hasSize(220);
    assertThat(r.patches().values().stream().filter(PatchReport::active).count()).isEqualTo(200);
    assertThat(r.patches().values().stream().filter(p -> p.patch().explicitVariants()).count())
        .isGreaterThan(10);
    assertThat(r.patches().get("synthetic-fix-0").allFunctionKeys())
        .containsExactly("drivers/synth/file0.c:synth_fn_0");
  }

  @Test
  void isDeterministic(@TempDir Path a, @TempDir Path b) throws IOException {
    new SyntheticCatalog(30, 4, 7).write(a);
    new SyntheticCatalog(30, 4, 7).write(b);
    assertThat(new DirectoryTreeReader().read(a).entries())
        .isEqualTo(new DirectoryTreeReader().read(b).entries());
  }
}
