package org.klpcatalog.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;

/** Every big-input shape leaves the example catalog valid and grows its file to the size asked. */
class BigInputsTest {
  @Test
  void everyShapeIsValidAndAsBigAsAsked() throws IOException {
    CatalogTree example =
        BigInputs.example(Path.of("../controller/src/test/resources/sample-catalog"));
    for (BigInputs.Shape shape : BigInputs.SHAPES) {
      int bytes = 200_000;
      CatalogTree tree = shape.apply(example, bytes);
      ValidationReport r = new CatalogValidator().validate(tree);
      assertThat(r.diagnostics()).as(shape.name()).isEmpty();
      assertThat(r.patches().get(BigInputs.PATCH).allFunctionKeys())
          .as(shape.name())
          .containsExactly("kernel/pid_namespace.c:pid_ns_ctl_handler");
      int size =
          ((TreeEntry.File)
                  tree.get("patches/" + BigInputs.PATCH + "/" + shape.file()).orElseThrow())
              .content()
              .length;
      assertThat(size).as(shape.name()).isBetween(bytes * 9 / 10, bytes * 11 / 10);
    }
  }
}
