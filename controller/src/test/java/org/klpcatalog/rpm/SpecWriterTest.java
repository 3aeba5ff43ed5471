package org.klpcatalog.rpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ModuleFile;

class SpecWriterTest {
  /** Catalog text that is hostile inside its lines but starts no line with % or #: carried. */
  static final String HOSTILE_BUT_CARRIED =
      String.join(
          "\n",
          "A fix.",
          "  indented, then %post %(touch /tmp/klp-catalog-pwned) %{lua: os.execute('id')}",
          "ends in a backslash \\",
          "\\%{ a backslash before an unclosed brace",
          "* Mon Jan 01 2024 evil <e@x> - 1",
          "100% fixed %{_bindir}",
          "");

  static DesiredPackage pkg(String summary, String description) {
    return pkg(summary, description, List.of("CVE-2024-1086", "https://example.org/fix%201"));
  }

  static DesiredPackage pkg(String summary, String description, List<String> references) {
    ModuleFile m50 =
        new ModuleFile(
            "6.1.0-50-amd64",
            "default",
            "fix.patch",
            Optional.of("livepatch.c"),
            "a",
            Optional.of("b"),
            "kpatch_x_1_2",
            "/usr/lib/kpatch/6.1.0-50-amd64/kpatch_x_1_2.ko");
    ModuleFile m56 =
        new ModuleFile(
            "6.1.0-56-amd64",
            "default",
            "fix.patch",
            Optional.of("livepatch.c"),
            "a",
            Optional.of("b"),
            "kpatch_x_1_2",
            "/usr/lib/kpatch/6.1.0-56-amd64/kpatch_x_1_2.ko");
    List<Capability> fns =
        List.of(
            Capability.function("6.1.0-50-amd64", "fs/x.c:f"),
            Capability.function("6.1.0-56-amd64", "fs/x.c:f"));
    return new DesiredPackage(
        "kpatch-x",
        "x",
        new Evr(0, "1", 2),
        "x86_64",
        summary,
        description,
        "GPL-2.0-only",
        references,
        List.of(m50, m56),
        List.of(fns.get(0), fns.get(1), Capability.equal("kpatch-old", new Evr(0, "1", 4))),
        fns,
        List.of(Capability.lessThan("kpatch-old", new Evr(0, "1", 4))),
        "m",
        "c",
        "");
  }

  static DesiredPackage withCapability(Capability c) {
    DesiredPackage p = pkg("Fix x", "A fix.");
    return new DesiredPackage(
        p.name(),
        p.patch(),
        p.evr(),
        p.arch(),
        p.summary(),
        p.description(),
        p.license(),
        p.references(),
        p.modules(),
        List.of(c),
        p.conflicts(),
        p.obsoletes(),
        p.metadataHash(),
        p.contentHash(),
        p.changedIn());
  }

  /** The spec's lines that start with %: what rpm reads as structure. */
  static List<String> sections(String spec) {
    return spec.lines().filter(l -> l.strip().startsWith("%")).toList();
  }

  @Test
  void escapesEveryPercentAndBackslashSoNothingExpandsAndNoLineContinues() {
    assertThat(SpecWriter.literal("100% %{x} %(id) a\\ \\%{ \\"))
        .isEqualTo("100%% %%{x} %%(id) a\\%{nil} \\%{nil}%%{ \\%{nil}");
  }

  @Test
  void hostileTextInsideLinesIsWrittenEscapedAndOpensNoSection() {
    String benign = SpecWriter.write(pkg("Fix x", "A fix."), List.of());
    String hostile =
        SpecWriter.write(
            pkg("100% %{_bindir} %(id) \\", HOSTILE_BUT_CARRIED),
            List.of(
                new SpecWriter.ChangelogEntry(
                    Instant.EPOCH, "1-2", List.of("%post %(id)", "* not a header \\"))));
    assertThat(sections(hostile)).isEqualTo(sections(benign));
    assertThat(hostile)
        .contains("Summary: 100%% %%{_bindir} %%(id) \\%{nil}\n")
        .contains(
            "\n"
                + "%description\n"
                + "A fix.\n"
                + "  indented, then %%post %%(touch /tmp/klp-catalog-pwned) %%{lua:"
                + " os.execute('id')}\n"
                + "ends in a backslash \\%{nil}\n"
                + "\\%{nil}%%{ a backslash before an unclosed brace\n"
                + "* Mon Jan 01 2024 evil <e@x> - 1\n"
                + "100%% fixed %%{_bindir}\n\n"
                + "References:\n")
        .contains("- %%post %%(id)\n- * not a header \\%{nil}\n");
  }

  @Test
  void refusesDescriptionLinesRpmWouldReadAsDirectivesSectionsOrComments() {
    for (String bad :
        List.of(
            "A fix.\n%include /etc/passwd",
            "A fix.\n \t%if 0",
            "A fix.\n%POST",
            " %%include x",
            "A fix.\n# a comment to rpm",
            "A fix.\n  #x",
            "trailing blank \nx",
            "trailing tab\t",
            "A fix.\n   \nx",
            "\n\n",
            "NUL \0 char",
            "bell \u0007",
            "CR \r\nx",
            "bidi \u202e")) {
      assertThatThrownBy(() -> SpecWriter.write(pkg("Fix x", bad), List.of()))
          .as(bad)
          .isInstanceOf(SpecWriter.UnsafeText.class)
          .hasMessageStartingWith("kpatch-x: refusing to write its spec: description ");
    }
  }

  @Test
  void refusesSummariesRpmWouldChange() {
    for (String bad :
        List.of(" leading", "trailing ", "\tleading tab", "two\nlines", "", "esc \u001b[31m")) {
      assertThatThrownBy(() -> SpecWriter.write(pkg(bad, "A fix."), List.of()))
          .as(bad)
          .isInstanceOf(SpecWriter.UnsafeText.class)
          .hasMessageContaining("summary ");
    }
  }

  @Test
  void refusesReferencesAndChangelogLinesOutsideTheRules() {
    assertThatThrownBy(
            () -> SpecWriter.write(pkg("Fix x", "A fix.", List.of("https://x/a b")), List.of()))
        .isInstanceOf(SpecWriter.UnsafeText.class)
        .hasMessageContaining("reference 'https://x/a b'");
    assertThatThrownBy(
            () -> SpecWriter.write(pkg("Fix x", "A fix.", List.of("see\n%post")), List.of()))
        .isInstanceOf(SpecWriter.UnsafeText.class);
    assertThatThrownBy(
            () ->
                SpecWriter.write(
                    pkg("Fix x", "A fix."),
                    List.of(
                        new SpecWriter.ChangelogEntry(
                            Instant.EPOCH, "1-2", List.of("ok", "two\n%post")))))
        .isInstanceOf(SpecWriter.UnsafeText.class)
        .hasMessageContaining("changelog line");
    assertThatThrownBy(
            () ->
                SpecWriter.write(
                    pkg("Fix x", "A fix."),
                    List.of(
                        new SpecWriter.ChangelogEntry(Instant.EPOCH, "1-2 %(id)", List.of("ok")))))
        .isInstanceOf(SpecWriter.UnsafeText.class)
        .hasMessageContaining("changelog EVR");
  }

  @Test
  void refusesCapabilitiesAndNamesOutsideTheSchema() {
    for (Capability bad :
        List.of(
            Capability.function("6.1.0-50-amd64", "fs/%{lua:os.exit()}.c:f"),
            Capability.function("6.1.0-50-amd64", "fs/a b.c:f"),
            Capability.function("6.1.0-50-amd64", "fs/a.c:f,g"),
            Capability.of("kpatch-x\n%post"),
            Capability.kernel("6.1.0-50-amd64) %{lua:os.exit()}"),
            Capability.kernel("6.1.0 50"),
            Capability.kernel(""),
            Capability.cve("CVE-2024-1086)\nProvides: x"),
            Capability.cve("cve-2024-1086"),
            Capability.cve("CVE-24-1"),
            Capability.of(""),
            new Capability("kpatch-old", "<", Optional.empty()))) {
      assertThatThrownBy(() -> SpecWriter.write(withCapability(bad), List.of()))
          .as(bad.toString())
          .isInstanceOf(SpecWriter.UnsafeText.class)
          .hasMessageContaining("capability");
    }
    DesiredPackage p = pkg("Fix x", "A fix.");
    DesiredPackage badLicense =
        new DesiredPackage(
            p.name(),
            p.patch(),
            p.evr(),
            p.arch(),
            p.summary(),
            p.description(),
            "GPL %(id)",
            p.references(),
            p.modules(),
            p.provides(),
            p.conflicts(),
            p.obsoletes(),
            p.metadataHash(),
            p.contentHash(),
            p.changedIn());
    assertThatThrownBy(() -> SpecWriter.write(badLicense, List.of()))
        .isInstanceOf(SpecWriter.UnsafeText.class)
        .hasMessageContaining("license 'GPL %(id)'");
  }

  @Test
  void writesCapabilitiesModulesAndTheKpatchScriptlets() {
    String spec = SpecWriter.write(pkg("Fix x", "A fix."), List.of());
    assertThat(spec)
        .contains("Requires: kpatch\n")
        .contains("Provides: kpatch-function(6.1.0-50-amd64:fs/x.c:f)\n")
        .contains("Conflicts: kpatch-function(6.1.0-56-amd64:fs/x.c:f)\n")
        .contains("Obsoletes: kpatch-old < 1-4\n")
        .contains("Provides: kpatch-old = 1-4\n")
        .contains(
            "install -D -m 0644 %{_sourcedir}/6.1.0-50-amd64/kpatch_x_1_2.ko"
                + " %{buildroot}/usr/lib/kpatch/6.1.0-50-amd64/kpatch_x_1_2.ko\n")
        .contains("  kpatch install -k \"$k\" \"/usr/lib/kpatch/$k/kpatch_x_1_2.ko\"")
        .contains("kpatch unload kpatch_x_1_2")
        .contains("  kpatch uninstall -k \"$k\" kpatch_x_1_2")
        .contains("URL: https://example.org/fix%%201\n");
  }

  @Test
  void writesKernelAndCveCapabilitiesAsProvidesOnly() {
    String spec =
        SpecWriter.write(withCapability(Capability.kernel("6.1.0-56-cloud-amd64")), List.of());
    assertThat(spec).contains("Provides: kpatch-kernel(6.1.0-56-cloud-amd64)\n");
    spec = SpecWriter.write(withCapability(Capability.cve("CVE-2024-1086")), List.of());
    assertThat(spec)
        .contains("Provides: kpatch-cve(CVE-2024-1086)\n")
        .doesNotContain("Conflicts: kpatch-cve");
  }
}
