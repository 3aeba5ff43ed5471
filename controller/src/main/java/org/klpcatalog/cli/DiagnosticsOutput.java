package org.klpcatalog.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.validate.ValidationReport;
import tools.jackson.databind.node.ArrayNode;

/** Prints a validation report's diagnostics, as text or into JSON; shared by every command. */
final class DiagnosticsOutput {
  private DiagnosticsOutput() {}

  static void printText(Terminal t, ValidationReport report, String prefix) {
    for (Diagnostic d : report.diagnostics()) {
      String line = Terminal.safe(d.format(prefix));
      String label = d.severity().label() + ":";
      String painted = d.isError() ? t.red(label) : t.yellow(label);
      t.out()
          .println(
              line.replaceFirst(
                  Pattern.quote(": " + label), Matcher.quoteReplacement(": " + painted)));
    }
  }

  static void toJson(ArrayNode diags, ValidationReport report, String prefix) {
    for (Diagnostic d : report.diagnostics()) {
      var o = diags.addObject();
      o.put("severity", d.severity().label());
      o.put("code", d.code());
      o.put("file", d.file());
      o.put("path", prefix + d.file());
      o.put("line", d.line());
      o.put("column", d.column());
      o.put("yamlPath", d.yamlPath());
      o.put("message", d.message());
    }
  }
}
