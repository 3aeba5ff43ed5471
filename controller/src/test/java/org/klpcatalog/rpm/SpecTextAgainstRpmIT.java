package org.klpcatalog.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.load.Codes;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ModuleFile;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.testing.CatalogEdits;

/**
 * Differential test of catalog text against rpm itself: a corpus of hostile strings goes through
 * the real validate path (a manifest in a catalog), the spec writer and rpmbuild. What the spec
 * writer accepts (exactly what validate's text rules accept) comes back from the built package byte
 * for byte as its summary, description or changelog, and nothing else in the package changes (files
 * and payload, dependencies, scriptlets, triggers, other tags); what it refuses, validate refuses
 * with a position. Canaries: a file outside the package's top directory that an {@code %include} or
 * {@code %{load:...}} would read, and a file a {@code %(...)} or Lua would create.
 */
class SpecTextAgainstRpmIT {
  private static final String PATCH = "cmdline-marker";
  private static final String MANIFEST = "patches/" + PATCH + "/manifest.yaml";
  private static final String CANARY_TEXT = "CANARY-INCLUDED-3f9c";
  private static final long EPOCH = 1767225600L;
  private static final String SEP = "\n@@klp-sep@@\n";

  @TempDir static Path tmp;
  static Path canary;
  static Path ran;
  static CatalogTree base;
  static DesiredPackage plain;
  static Path plainRpm;
  static List<String> corpus;

  @BeforeAll
  static void thePlainPackageAndTheCorpus() throws Exception {
    canary = tmp.resolve("canary");
    Files.writeString(canary, CANARY_TEXT + "\n");
    ran = tmp.resolve("ran");
    base = new DirectoryTreeReader().read(Fixtures.base());
    plain = desired(new CatalogValidator().validate(base), base);
    corpus = corpus(canary.toString(), ran.toString());
    if (Tools.available("rpmbuild")) {
      plainRpm = build(plain, List.of(), "plain");
    }
  }

  /**
   * Hostile strings: every directive, section, macro form and comment, leading and trailing blanks,
   * backslashes (continuation, and before %% or an unclosed brace), control and invisible
   * characters, non-ASCII blanks rpm does not skip, long lines.
   */
  static List<String> corpus(String canary, String ran) {
    List<String> c =
        new ArrayList<>(
            List.of(
                "%include " + canary,
                "  %include " + canary,
                "\t%include " + canary,
                "%%include " + canary,
                "%include",
                "%{load:" + canary + "}",
                "%{load " + canary + "}",
                "%(touch " + ran + ")",
                "%{lua: io.open('" + ran + "', 'w'):close()}",
                "%{lua:print('%post')}",
                "%{expand:%%post}",
                "%define x %(touch " + ran + ")",
                "%global y %(touch " + ran + ")",
                "%undefine _topdir",
                "%if 0",
                "%if 1",
                "%else",
                "%endif",
                "%ifarch x86_64",
                "%ifnarch x86_64",
                "%elif 1",
                "%elifarch x86_64",
                "%post",
                "%POST",
                "%post -p /bin/sh",
                "%files",
                "%changelog",
                "%description",
                "%package -n evil",
                "%prep",
                "%end",
                "%trigger",
                "%verifyscript",
                "%",
                "%%",
                "% of hosts",
                "%{",
                "%(",
                "%[",
                "%{?nil}",
                "%[1+1]",
                "#",
                "# comment",
                "  # indented comment",
                "\t#tab comment",
                "* Mon Jan 01 2024 evil <e@x> - 1",
                "- dash",
                "Requires: evil",
                "Provides: kpatch-function(x)",
                "Summary: other",
                "URL: file:///etc/passwd",
                "Name: evil",
                "text %include " + canary,
                "text %(touch " + ran + ") %{lua: io.open('" + ran + "','w')} %[1+1] %{?nil}",
                "text %{!?x:y} %{_topdir} %{buildroot} %{summary} %{SUMMARY} 100%",
                "ends with a backslash \\",
                "\\",
                "\\\\",
                "\\%{",
                "\\%(touch " + ran,
                "\\%[",
                "\\%%",
                "\\%{lua:print('x')}",
                "%{ unclosed brace",
                "%( unclosed paren",
                "%[ unclosed bracket",
                "{ } ( ) [ ] } ) ]",
                "trailing space ",
                "trailing tab\t",
                " leading space",
                "\tleading tab",
                "",
                "   ",
                "\t",
                "NUL \0 x",
                "bell \u0007",
                "esc \u001b[31mred",
                "DEL \u007f",
                "NEL \u0085",
                "CR \r x",
                "VT \u000b",
                "FF \f",
                "line separator \u2028",
                "bidi \u202e evil",
                "zero width \u200b",
                "BOM \ufeff",
                "private \ue000",
                "emoji \uD83D\uDE00 and accents \u00e9\u00fc \u4e2d\u6587",
                "\u00a0%include " + canary,
                "\u3000%post",
                "nbsp at end\u00a0",
                "\u00e9".repeat(2000) + "x".repeat(5000)));
    return Collections.unmodifiableList(c);
  }

  // --- validate and the spec writer agree ---------------------------------------------------

  @Test
  void validateAndTheSpecWriterRefuseTheSameTextAndValidateSaysWhere() throws Exception {
    for (String s : corpus) {
      for (String field : List.of("summary", "description")) {
        CatalogTree tree = withText(base, field, s);
        ValidationReport r = new CatalogValidator().validate(tree);
        List<Diagnostic> here =
            r.diagnostics().stream()
                .filter(d -> d.isError() && d.yamlPath().equals("spec." + field))
                .toList();
        boolean writerRefuses = writerRefuses(field, s);
        if (writerRefuses) {
          assertThat(here)
              .as("validate refuses what the spec writer refuses: %s %s", field, show(s))
              .isNotEmpty();
          assertThat(here)
              .allSatisfy(
                  d -> {
                    assertThat(d.file()).isEqualTo(MANIFEST);
                    assertThat(d.line()).isPositive();
                    assertThat(d.column()).isPositive();
                  });
        } else {
          // Whatever the writer carries, validate refuses only for the schema's length limits.
          assertThat(here)
              .as("validate accepts what the spec writer carries: %s %s", field, show(s))
              .allSatisfy(d -> assertThat(d.code()).isEqualTo(Codes.SCHEMA));
        }
        if (here.stream().anyMatch(d -> d.code().equals(Codes.UNSAFE_TEXT))) {
          assertThat(writerRefuses)
              .as("the spec writer refuses what validate's text rules refuse: %s", show(s))
              .isTrue();
        }
        if (here.isEmpty()) {
          assertThat(r.valid()).as(show(s)).isTrue();
          DesiredPackage p = desired(r, tree);
          assertThat(field.equals("summary") ? p.summary() : p.description()).isEqualTo(s);
        }
      }
    }
  }

  @Test
  void aDescriptionLineIsReportedAtItsOwnLineInABlock() {
    CatalogTree tree =
        CatalogEdits.edit(
            base,
            MANIFEST,
            m ->
                m.replace(
                    "    Appends kpatch=1 to /proc/cmdline.\n",
                    "    Appends kpatch=1 to /proc/cmdline.\n\n     %include " + canary + "\n"));
    ValidationReport r = new CatalogValidator().validate(tree);
    assertThat(r.diagnostics())
        .extracting(Diagnostic::toString)
        .containsExactly(
            MANIFEST
                + ":11:6: error: spec.description line 3 starts with '%', which rpm reads as a spec"
                + " directive or section (%include, %if, %post, ...), even after spaces; begin the"
                + " line with a word (e.g. 'The %post scriptlet ...') (spec.description)");
  }

  // --- rpm carries what the spec writer writes ----------------------------------------------

  @Test
  void rpmCarriesEverySummaryTheSpecWriterAcceptsAndNothingElseChanges() throws Exception {
    Tools.require("rpmbuild");
    Tools.require("rpm");
    List<String> summaries = corpus.stream().filter(s -> !writerRefuses("summary", s)).toList();
    assertThat(summaries).hasSizeGreaterThan(40);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Map<String, Future<Path>> rpms = new LinkedHashMap<>();
      int i = 0;
      for (String s : summaries) {
        DesiredPackage p = with(plain, s, plain.description(), plain.references());
        String dir = "summary-" + i++;
        rpms.put(s, pool.submit(() -> build(p, List.of(), dir)));
      }
      String plainStructure = structure(plainRpm);
      String plainDescription = text(plainRpm).get(1);
      for (Map.Entry<String, Future<Path>> e : rpms.entrySet()) {
        Path rpm = e.getValue().get();
        List<String> text = text(rpm);
        assertThat(text.get(0)).as("summary of %s", show(e.getKey())).isEqualTo(e.getKey());
        assertThat(text.get(1))
            .as("description with summary %s", show(e.getKey()))
            .isEqualTo(plainDescription);
        assertThat(structure(rpm))
            .as("package with summary %s", show(e.getKey()))
            .isEqualTo(plainStructure);
      }
    } finally {
      pool.shutdownNow();
    }
    assertNoCanary();
  }

  @Test
  void rpmCarriesEveryDescriptionChangelogAndReferenceLineAndNothingElseChanges() throws Exception {
    Tools.require("rpmbuild");
    Tools.require("rpm");
    List<String> lines = corpus.stream().filter(s -> !writerRefuses("description", s)).toList();
    List<String> changelogLines =
        corpus.stream().filter(s -> !writerRefuses("summary", s)).toList();
    List<String> references =
        List.of(
            "https://example.org/%(touch" + "${IFS}" + ran + ")/%{load:" + canary + "}/x\\",
            "https://example.org/%{lua:io.open('" + ran + "','w')}",
            "https://example.org/a\\%{",
            "CVE-2024-1086",
            "bsc#1234567",
            "http://example.org/%include");
    // Each order puts every line next to other neighbours (a backslash before a brace, ...).
    for (List<String> order : List.of(lines, reversed(lines))) {
      String description = "\n" + String.join("\n", order) + "\n";
      DesiredPackage p = with(plain, plain.summary(), description, references);
      List<SpecWriter.ChangelogEntry> changelog =
          List.of(
              new SpecWriter.ChangelogEntry(Instant.ofEpochSecond(EPOCH), "1-2", changelogLines),
              new SpecWriter.ChangelogEntry(
                  Instant.ofEpochSecond(EPOCH - 86400), "1-1", reversed(changelogLines)));
      Path rpm = build(p, changelog, "lines-" + (order == lines ? "forward" : "reversed"));
      List<String> text = text(rpm);
      assertThat(text.get(0)).isEqualTo(plain.summary());
      assertThat(text.get(1))
          .isEqualTo(
              description.substring(0, description.length() - 1)
                  + "\n\nReferences:\n- "
                  + String.join("\n- ", references)
                  + "\n\nKernels: "
                  + String.join(" ", plain.kernels()));
      assertThat(text.get(2)).isEqualTo(references.get(0));
      assertThat(text.subList(3, text.size()))
          .containsExactly(
              "- " + String.join("\n- ", changelogLines),
              "- " + String.join("\n- ", reversed(changelogLines)));
      assertThat(structure(rpm)).isEqualTo(structure(plainRpm));
    }
    assertNoCanary();
  }

  @Test
  void withoutTheRefusalsRpmWouldIncludeFilesDropLinesStripBlanksAndOpenSections()
      throws Exception {
    Tools.require("rpmbuild");
    Tools.require("rpm");
    // The spec the writer would make if it only escaped, for text validate refuses.
    String refused =
        String.join(
            "\n",
            "first",
            "  %include " + canary,
            "# dropped as a comment",
            "trailing blanks \t ",
            "%verifyscript");
    for (String s : refused.substring("first\n".length()).split("\n")) {
      assertThat(writerRefuses("description", s)).as(s).isTrue();
    }
    assertThat(writerRefuses("summary", " leading blank")).isTrue();
    String spec =
        SpecWriter.write(plain, List.of())
            .replace(
                "Summary: " + plain.summary() + "\n",
                "Summary: " + SpecWriter.literal(" leading blank") + "\n")
            .replace(
                "\n%description\n" + plain.description(),
                "\n%description\n" + SpecWriter.literal(refused) + "\n");
    Path rpm =
        RpmPackager.build(
            plain,
            modules(plain, tmp.resolve("naive-modules")),
            spec,
            EPOCH,
            tmp.resolve("naive-work"),
            tmp.resolve("naive-out"),
            Duration.ofMinutes(2),
            // Outside the sandbox, so the control shows what rpm itself does with the text.
            Sandbox.unconfined(Sandbox.Limits.DEFAULT));
    List<String> text = text(rpm);
    assertThat(text.get(0)).isEqualTo("leading blank");
    assertThat(text.get(1)).isEqualTo("first\n" + CANARY_TEXT + "\n\ntrailing blanks");
    assertThat(query(rpm, "%{VERIFYSCRIPT}"))
        .isEqualTo("\nKernels: " + String.join(" ", plain.kernels()));
  }

  // --- helpers ----------------------------------------------------------------------------------

  private static boolean writerRefuses(String field, String s) {
    DesiredPackage p =
        field.equals("summary")
            ? with(plain, s, plain.description(), plain.references())
            : with(plain, plain.summary(), s, plain.references());
    try {
      SpecWriter.write(p, List.of());
      return false;
    } catch (SpecWriter.UnsafeText e) {
      return true;
    }
  }

  /** The base catalog with the patch's summary or description set to {@code s}. */
  private static CatalogTree withText(CatalogTree tree, String field, String s) {
    return CatalogEdits.edit(
        tree,
        MANIFEST,
        m ->
            field.equals("summary")
                ? m.replaceFirst(
                    "(?m)^  summary: .*$", Matcher.quoteReplacement("  summary: " + yamlString(s)))
                : m.replace(
                    "  description: |\n    Appends kpatch=1 to /proc/cmdline.\n",
                    "  description: " + yamlString(s) + "\n"));
  }

  /** The desired package of the patch in a valid catalog: the real path from manifest to spec. */
  private static DesiredPackage desired(ValidationReport r, CatalogTree tree) {
    return DesiredStateBuilder.build(r, tree, ReleaseLedger.EMPTY, Optional.empty())
        .state()
        .packages()
        .stream()
        .filter(p -> p.patch().equals(PATCH))
        .findFirst()
        .orElseThrow();
  }

  private static DesiredPackage with(
      DesiredPackage p, String summary, String description, List<String> references) {
    return new DesiredPackage(
        p.name(),
        p.patch(),
        p.evr(),
        p.arch(),
        summary,
        description,
        p.license(),
        references,
        p.modules(),
        p.provides(),
        p.conflicts(),
        p.obsoletes(),
        p.metadataHash(),
        p.contentHash(),
        p.changedIn());
  }

  /** A YAML double-quoted scalar holding exactly {@code s}, in ASCII. */
  static String yamlString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c >= 0x20 && c < 0x7f) {
        sb.append(c);
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
        sb.append(String.format("\\U%08X", s.codePointAt(i)));
        i++;
      } else {
        sb.append(String.format("\\u%04X", (int) c));
      }
    }
    return sb.append('"').toString();
  }

  private static Path build(DesiredPackage p, List<SpecWriter.ChangelogEntry> changelog, String dir)
      throws Exception {
    return RpmPackager.build(
        p,
        modules(p, tmp.resolve(dir + "-modules")),
        SpecWriter.write(p, changelog),
        EPOCH,
        tmp.resolve(dir + "-work"),
        tmp.resolve(dir + "-out"),
        Duration.ofMinutes(2),
        Sandbox.bubblewrap(Sandbox.Limits.DEFAULT));
  }

  /** A stand-in module file per kernel, the same bytes for every package. */
  private static Map<String, Path> modules(DesiredPackage p, Path dir) throws IOException {
    Map<String, Path> out = new LinkedHashMap<>();
    for (ModuleFile m : p.modules()) {
      Path ko = dir.resolve(m.kernelRelease()).resolve(m.moduleName() + ".ko");
      Files.createDirectories(ko.getParent());
      Files.writeString(ko, "module of " + m.kernelRelease());
      out.put(m.kernelRelease(), ko);
    }
    return out;
  }

  /** Summary, description, URL, then each changelog entry's text. */
  private static List<String> text(Path rpm) throws Exception {
    String out =
        query(
            rpm,
            "%{SUMMARY}" + SEP + "%{DESCRIPTION}" + SEP + "%{URL}[" + SEP + "%{CHANGELOGTEXT}]");
    return List.of(out.split(Pattern.quote(SEP), -1));
  }

  /**
   * Everything but the text: identity, tags, payload and files, dependencies, scriptlets, triggers.
   */
  private static String structure(Path rpm) throws Exception {
    return query(
        rpm,
        "%{NEVRA} %{LICENSE} %{GROUP} %{PACKAGER} %{BUILDHOST} %{BUILDTIME} %{PAYLOADDIGEST}\n"
            + "[file %{FILENAMES} %{FILEMODES:octal} %{FILEMTIMES} %{FILEDIGESTS} %{FILEUSERNAME}"
            + " %{FILEFLAGS}\n"
            + "][provides %{PROVIDENEVRS}\n"
            + "][requires %{REQUIRENEVRS} %{REQUIREFLAGS}\n"
            + "][conflicts %{CONFLICTNEVRS}\n"
            + "][obsoletes %{OBSOLETENEVRS}\n"
            + "][recommends %{RECOMMENDNEVRS}\n"
            + "][supplements %{SUPPLEMENTNEVRS}\n"
            + "]pretrans %{PRETRANS}\n"
            + "pre %{PREIN}\n"
            + "post %{POSTIN}\n"
            + "preun %{PREUN}\n"
            + "postun %{POSTUN}\n"
            + "posttrans %{POSTTRANS}\n"
            + "verify %{VERIFYSCRIPT}\n"
            + "[trigger %{TRIGGERSCRIPTS}\n"
            + "][filetrigger %{FILETRIGGERSCRIPTS}\n"
            + "][transfiletrigger %{TRANSFILETRIGGERSCRIPTS}\n"
            + "][policy %{POLICIES}\n"
            + "]");
  }

  private static String query(Path rpm, String format) throws Exception {
    return Command.of("rpm", "-qp", "--nosignature", "--qf", format, rpm.toString())
        .env("LC_ALL", "C.UTF-8")
        .check();
  }

  private static void assertNoCanary() throws IOException {
    assertThat(ran).as("a %(...) or Lua in catalog text ran").doesNotExist();
    try (var files = Files.walk(tmp)) {
      for (Path f :
          files.filter(Files::isRegularFile).filter(f -> f.toString().endsWith(".rpm")).toList()) {
        if (!f.getParent().getFileName().toString().startsWith("naive")) {
          assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1))
              .as(f.toString())
              .doesNotContain(CANARY_TEXT);
        }
      }
    }
  }

  private static List<String> reversed(List<String> l) {
    List<String> r = new ArrayList<>(l);
    Collections.reverse(r);
    return r;
  }

  private static String show(String s) {
    StringBuilder sb = new StringBuilder("'");
    s.codePoints()
        .limit(80)
        .forEach(
            cp ->
                sb.append(
                    cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)
                        ? String.format("\\x%02x", cp)
                        : new String(Character.toChars(cp))));
    return sb.append(s.length() > 80 ? "...'" : "'").toString();
  }
}
