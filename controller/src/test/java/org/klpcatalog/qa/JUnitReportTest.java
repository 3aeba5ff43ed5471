package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

class JUnitReportTest {
  @Test
  void oneTestCasePerStepWithFailuresCarryingProblemsAndOutput(@TempDir Path tmp) throws Exception {
    QaJob job = VerdictTest.job(List.of(), List.of(), 0);
    List<Verdict.StepResult> steps = new ArrayList<>();
    for (Verdict.Step s : Verdict.steps(job)) {
      steps.add(
          s == Verdict.Step.REMOVED
              ? new Verdict.StepResult(
                  s,
                  Verdict.Status.FAILED,
                  List.of("demo/demo-LOADED.test passed after removal"),
                  List.of(
                      "--- demo/demo-LOADED.test (removed), exit 0",
                      "control \u0001 char <tag> & more"))
              : new Verdict.StepResult(s, Verdict.Status.PASSED, List.of(), List.of()));
    }
    Path file = tmp.resolve("out/qa.xml");
    JUnitReport.write(
        List.of(new QaRunner.JobResult(job, steps, tmp.resolve("console.log"), 12.5, "tcg")), file);
    Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    Element root = d.getDocumentElement();
    assertThat(root.getAttribute("tests")).isEqualTo("7");
    assertThat(root.getAttribute("failures")).isEqualTo("1");
    var cases = d.getElementsByTagName("testcase");
    assertThat(cases.getLength()).isEqualTo(7);
    Element removed = (Element) cases.item(5);
    assertThat(removed.getAttribute("classname")).isEqualTo("qa.demo");
    assertThat(removed.getAttribute("name")).isEqualTo("6.1.0-50-amd64 removed");
    Element failure = (Element) removed.getElementsByTagName("failure").item(0);
    assertThat(failure.getAttribute("message"))
        .isEqualTo("demo/demo-LOADED.test passed after removal");
    assertThat(failure.getTextContent()).contains("control \\x01 char <tag> & more");
    assertThat(((Element) cases.item(0)).getElementsByTagName("failure").getLength()).isZero();
  }

  @Test
  void cpioArchivesAreWhatCpioReads(@TempDir Path tmp) throws Exception {
    Tools.require("cpio");
    Path base = tmp.resolve("base.gz");
    try (var out = new GZIPOutputStream(Files.newOutputStream(base));
        Cpio c = new Cpio(out)) {
      c.directory("bin");
      c.file("bin/tool", 0755, "#!/bin/sh\n".getBytes());
      c.symlink("bin/sh", "tool");
    }
    Path img = tmp.resolve("initrd.img");
    GuestImage.initrd(
        base, Map.of("qa/tests/demo/a.test", "x".getBytes(), "init", "y".getBytes()), img);
    // The overlay starts on a 512-byte boundary after the compressed base.
    byte[] all = Files.readAllBytes(img);
    long baseSize = Files.size(base);
    int overlay = (int) ((baseSize + 511) / 512 * 512);
    Path rest = tmp.resolve("overlay.cpio");
    Files.write(rest, Arrays.copyOfRange(all, overlay, all.length));
    var listing = Command.of("sh", "-c", "cpio -it --quiet < " + rest).run();
    assertThat(listing.output().lines())
        .containsExactly("qa", "qa/tests", "qa/tests/demo", "init", "qa/tests/demo/a.test");
    var baseListing = Command.of("sh", "-c", "zcat " + base + " | cpio -itv --quiet").run();
    assertThat(baseListing.output())
        .contains("bin/tool")
        .containsPattern("lrwxrwxrwx .* bin/sh -> tool");
  }
}
