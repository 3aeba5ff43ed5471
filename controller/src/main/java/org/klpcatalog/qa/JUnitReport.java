package org.klpcatalog.qa;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * The QA report in JUnit XML, which CI systems show: one {@code <testsuite>} per VM (a patch on a
 * kernel, or all packages of a kernel together), one {@code <testcase>} per protocol step, named
 * {@code <kernel> <step>} with the patch as its class. A failed step carries its problems in the
 * failure message and the test, rpm and kernel output that explains them in the body.
 */
public final class JUnitReport {
  private JUnitReport() {}

  public static void write(List<QaRunner.JobResult> results, Path file) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    if (file.toAbsolutePath().getParent() != null) {
      Files.createDirectories(file.toAbsolutePath().getParent());
    }
    try (OutputStream out = Files.newOutputStream(tmp)) {
      XMLStreamWriter w = XMLOutputFactory.newFactory().createXMLStreamWriter(out, "UTF-8");
      w.writeStartDocument("UTF-8", "1.0");
      w.writeCharacters("\n");
      w.writeStartElement("testsuites");
      w.writeAttribute("name", "klp-catalog qa");
      w.writeAttribute(
          "tests", Long.toString(results.stream().mapToLong(r -> r.steps().size()).sum()));
      w.writeAttribute(
          "failures", Long.toString(results.stream().mapToLong(r -> r.failed().size()).sum()));
      w.writeCharacters("\n");
      for (QaRunner.JobResult r : results) {
        w.writeStartElement("testsuite");
        w.writeAttribute("name", r.job().subject() + " on " + r.job().kernel());
        w.writeAttribute("tests", Integer.toString(r.steps().size()));
        w.writeAttribute("failures", Integer.toString(r.failed().size()));
        w.writeAttribute("errors", "0");
        w.writeAttribute(
            "skipped",
            Long.toString(
                r.steps().stream().filter(s -> s.status() == Verdict.Status.SKIPPED).count()));
        w.writeAttribute("time", String.format(Locale.ROOT, "%.3f", r.seconds()));
        w.writeCharacters("\n");
        w.writeStartElement("properties");
        property(w, "kernel", r.job().kernel());
        property(
            w,
            "packages",
            String.join(" ", r.job().packages().stream().map(QaJob.Pkg::nevra).toList()));
        property(w, "accel", r.accel());
        property(w, "console", r.console().toString());
        w.writeEndElement();
        w.writeCharacters("\n");
        for (Verdict.StepResult s : r.steps()) {
          w.writeStartElement("testcase");
          w.writeAttribute("classname", "qa." + r.job().subject());
          w.writeAttribute("name", r.job().kernel() + " " + s.step().label);
          w.writeAttribute("time", "0");
          if (s.status() == Verdict.Status.FAILED) {
            w.writeStartElement("failure");
            w.writeAttribute("message", clean(String.join("; ", s.problems())));
            w.writeAttribute("type", "qa." + s.step().label);
            StringBuilder body = new StringBuilder();
            s.problems().forEach(p -> body.append(p).append('\n'));
            s.output().forEach(l -> body.append(l).append('\n'));
            w.writeCharacters(clean(body.toString()));
            w.writeEndElement();
          } else if (s.status() == Verdict.Status.SKIPPED) {
            w.writeEmptyElement("skipped");
            w.writeAttribute("message", clean(String.join("; ", s.problems())));
          }
          w.writeEndElement();
          w.writeCharacters("\n");
        }
        w.writeEndElement();
        w.writeCharacters("\n");
      }
      w.writeEndElement();
      w.writeCharacters("\n");
      w.writeEndDocument();
      w.close();
    } catch (XMLStreamException e) {
      throw new IOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void property(XMLStreamWriter w, String name, String value)
      throws XMLStreamException {
    w.writeEmptyElement("property");
    w.writeAttribute("name", name);
    w.writeAttribute("value", clean(value));
  }

  /** XML 1.0 cannot carry most control characters, whatever a test printed. */
  static String clean(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    s.codePoints()
        .forEach(
            c -> {
              if (c == '\n'
                  || c == '\t'
                  || c == '\r'
                  || (c >= 0x20 && c != 0xFFFE && c != 0xFFFF)) {
                sb.appendCodePoint(c);
              } else {
                sb.append(String.format("\\x%02x", c));
              }
            });
    return sb.toString();
  }
}
