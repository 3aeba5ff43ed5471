package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.load.CatalogLoader;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;

/** A caching validator gives exactly what a fresh one gives, revision after revision. */
class ValidatorCacheTest {

  @Test
  void cachedResultsEqualFreshResultsAcrossEveryFixture() throws IOException {
    CatalogValidator cached = new CatalogValidator(new CatalogLoader(), true);
    CatalogTree base = new DirectoryTreeReader().read(Fixtures.base());
    for (String name : Fixtures.caseNames()) {
      CatalogTree tree = Fixtures.tree(name);
      for (CatalogTree t : new CatalogTree[] {tree, base, tree}) {
        ValidationReport fresh = new CatalogValidator().validate(t);
        ValidationReport again = cached.validate(t);
        assertThat(again.diagnostics()).as(name).isEqualTo(fresh.diagnostics());
        assertThat(again.patches().keySet()).as(name).isEqualTo(fresh.patches().keySet());
        again
            .patches()
            .forEach((k, v) -> assertThat(v.active()).isEqualTo(fresh.patches().get(k).active()));
      }
    }
  }
}
