package org.klpcatalog.rpm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ModuleFile;

class SpecWriterTest {
  static final String HOSTILE_DESCRIPTION = String.join("\n",
      "A fix.",
      "%post",
      "%(touch /tmp/klp-catalog-pwned)",
      "%{lua: os.execute('touch /tmp/klp-catalog-pwned')}",
      "%files",
      "/etc/shadow",
      "%changelog",
      "* Mon Jan 01 2024 evil <e@x> - 1",
      "100% fixed %{_bindir}");

  static DesiredPackage pkg(String summary, String description) {
    ModuleFile m50 = new ModuleFile("6.1.0-50-amd64", "default", "fix.patch", Optional.of("livepatch.c"), "a", Optional.of("b"),
        "kpatch_x_1_2", "/usr/lib/kpatch/6.1.0-50-amd64/kpatch_x_1_2.ko");
    ModuleFile m56 = new ModuleFile("6.1.0-56-amd64", "default", "fix.patch", Optional.of("livepatch.c"), "a", Optional.of("b"),
        "kpatch_x_1_2", "/usr/lib/kpatch/6.1.0-56-amd64/kpatch_x_1_2.ko");
    List<Capability> fns = List.of(Capability.function("6.1.0-50-amd64", "fs/x.c:f"), Capability.function("6.1.0-56-amd64", "fs/x.c:f"));
    return new DesiredPackage("kpatch-x", "x", new Evr(0, "1", 2), "x86_64", summary, description, "GPL-2.0-only",
        List.of("CVE-2024-1086", "https://example.org/fix%201"), List.of(m50, m56),
        List.of(fns.get(0), fns.get(1), Capability.equal("kpatch-old", new Evr(0, "1", 4))), fns,
        List.of(Capability.lessThan("kpatch-old", new Evr(0, "1", 4))), "m", "c", "");
  }

  /** The spec's section lines: what rpm reads as structure. */
  static List<String> sections(String spec) {
    return spec.lines().filter(l -> l.startsWith("%")).toList();
  }

  @Test
  void hostileTextNeverOpensASectionOrExpandsAMacro() {
    String benign = SpecWriter.write(pkg("Fix x", "A fix."), List.of());
    String hostile = SpecWriter.write(pkg("100% %{_bindir} %(id)", HOSTILE_DESCRIPTION),
        List.of(new SpecWriter.ChangelogEntry(Instant.EPOCH, "1-2", List.of("%post %(id)", "* not a header"))));
    assertThat(sections(hostile)).isEqualTo(sections(benign));
    assertThat(hostile).contains("Summary: 100%% %%{_bindir} %%(id)\n")
        .contains("\n %%post\n %%(touch /tmp/klp-catalog-pwned)\n")
        .contains("\n %%files\n/etc/shadow\n %%changelog\n* Mon Jan 01 2024 evil")
        .contains("- %%post %%(id)\n- * not a header\n");
  }

  @Test
  void writesCapabilitiesModulesAndTheKpatchScriptlets() {
    String spec = SpecWriter.write(pkg("Fix x", "A fix."), List.of());
    assertThat(spec).contains("Requires: kpatch\n")
        .contains("Provides: kpatch-function(6.1.0-50-amd64:fs/x.c:f)\n")
        .contains("Conflicts: kpatch-function(6.1.0-56-amd64:fs/x.c:f)\n")
        .contains("Obsoletes: kpatch-old < 1-4\nProvides: ".substring(0, 28))
        .contains("install -D -m 0644 %{_sourcedir}/6.1.0-50-amd64/kpatch_x_1_2.ko %{buildroot}/usr/lib/kpatch/6.1.0-50-amd64/kpatch_x_1_2.ko\n")
        .contains("  kpatch install -k \"$k\" \"/usr/lib/kpatch/$k/kpatch_x_1_2.ko\"")
        .contains("kpatch unload kpatch_x_1_2")
        .contains("  kpatch uninstall -k \"$k\" kpatch_x_1_2")
        .contains("URL: https://example.org/fix%%201\n");
  }

  @Test
  void rpmbuildKeepsHostileTextAsTextAndTheScriptletsAsWritten(@TempDir Path tmp) throws Exception {
    Tools.require("rpmbuild");
    DesiredPackage p = pkg("100% %{_bindir} %(id)", HOSTILE_DESCRIPTION);
    Path ko = tmp.resolve("kpatch_x_1_2.ko");
    Files.writeString(ko, "not really a module");
    Path rpm = RpmPackager.build(p, Map.of("6.1.0-50-amd64", ko, "6.1.0-56-amd64", ko), SpecWriter.write(p, List.of()),
        1767225600L, tmp.resolve("work"), tmp.resolve("out"), Duration.ofMinutes(2),
        org.klpcatalog.exec.Sandbox.bubblewrap(org.klpcatalog.exec.Sandbox.Limits.DEFAULT));
    assertThat(Path.of("/tmp/klp-catalog-pwned")).doesNotExist();
    assertThat(Command.of("rpm", "-qp", "--qf", "%{SUMMARY}", rpm.toString()).check()).isEqualTo("100% %{_bindir} %(id)");
    String description = Command.of("rpm", "-qp", "--qf", "%{DESCRIPTION}", rpm.toString()).check();
    assertThat(description).contains(" %post\n %(touch /tmp/klp-catalog-pwned)\n").contains("100% fixed %{_bindir}");
    String scripts = Command.of("rpm", "-qp", "--scripts", rpm.toString()).check();
    assertThat(scripts).isEqualTo("postinstall scriptlet (using /bin/sh):\n" + section(SpecWriter.scriptlets(p), "%post")
        + "preuninstall scriptlet (using /bin/sh):\n" + section(SpecWriter.scriptlets(p), "%preun")
        + "postuninstall scriptlet (using /bin/sh):\n" + section(SpecWriter.scriptlets(p), "%postun"));
    assertThat(Command.of("rpm", "-qpl", rpm.toString()).check()).isEqualTo(
        "/usr/lib/kpatch\n/usr/lib/kpatch/6.1.0-50-amd64\n/usr/lib/kpatch/6.1.0-50-amd64/kpatch_x_1_2.ko\n"
            + "/usr/lib/kpatch/6.1.0-56-amd64\n/usr/lib/kpatch/6.1.0-56-amd64/kpatch_x_1_2.ko\n");
  }

  private static String section(String scriptlets, String name) {
    String[] parts = scriptlets.split("(?m)^%");
    for (String part : parts) {
      if (part.startsWith(name.substring(1) + "\n")) {
        return part.substring(name.length()).stripTrailing() + "\n";
      }
    }
    throw new IllegalArgumentException(name);
  }
}
