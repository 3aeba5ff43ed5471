package org.klpcatalog.rpm;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ModuleFile;

/**
 * Writes the RPM spec of one package from the desired state. Pure.
 *
 * <p>Catalog text never changes the spec's structure: every {@code %} is doubled so no macro
 * expands, and a description or changelog line that would start with {@code %} (a section such as
 * {@code %post} after expansion) is indented by one space, which rpm keeps as text. Names,
 * versions, kernel releases and module names are restricted by the catalog's schema to
 * characters that are inert in a spec and in sh.
 */
public final class SpecWriter {
  /** One %changelog entry. */
  public record ChangelogEntry(Instant date, String evr, List<String> lines) {}

  private static final DateTimeFormatter CHANGELOG_DATE =
      DateTimeFormatter.ofPattern("EEE MMM dd yyyy", Locale.ROOT).withZone(ZoneOffset.UTC);

  private SpecWriter() {}

  public static String write(DesiredPackage p, List<ChangelogEntry> changelog) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Written by klp-catalog from patch ").append(p.patch()).append("; do not edit.\n");
    sb.append("Name: ").append(p.name()).append('\n');
    sb.append("Version: ").append(p.evr().version()).append('\n');
    sb.append("Release: ").append(p.evr().release()).append('\n');
    if (p.evr().epoch() != 0) {
      sb.append("Epoch: ").append(p.evr().epoch()).append('\n');
    }
    sb.append("Summary: ").append(oneLine(p.summary())).append('\n');
    sb.append("License: ").append(p.license()).append('\n');
    sb.append("Group: System Environment/Kernel\n");
    sb.append("Packager: klp-catalog\n");
    p.references().stream().filter(r -> r.startsWith("https://")).findFirst()
        .ifPresent(u -> sb.append("URL: ").append(escape(u)).append('\n'));
    sb.append("ExclusiveArch: ").append(p.arch()).append('\n');
    sb.append("Requires: kpatch\n");
    sb.append("Requires(post): kpatch\nRequires(preun): kpatch\nRequires(postun): kpatch\n");
    for (Capability c : p.provides()) {
      sb.append("Provides: ").append(c).append('\n');
    }
    for (Capability c : p.conflicts()) {
      sb.append("Conflicts: ").append(c).append('\n');
    }
    for (Capability c : p.obsoletes()) {
      sb.append("Obsoletes: ").append(c).append('\n');
    }
    sb.append("\n%description\n").append(block(p.description()));
    if (!p.references().isEmpty()) {
      sb.append("\nReferences:\n");
      for (String r : p.references()) {
        sb.append(line("- " + r)).append('\n');
      }
    }
    sb.append("\nKernels: ").append(String.join(" ", p.kernels())).append('\n');
    sb.append("\n%prep\n\n%build\n\n%install\n");
    for (ModuleFile m : p.modules()) {
      sb.append("install -D -m 0644 %{_sourcedir}/").append(m.kernelRelease()).append('/').append(m.moduleName())
          .append(".ko %{buildroot}").append(m.installPath()).append('\n');
    }
    sb.append('\n').append(scriptlets(p));
    sb.append("\n%files\n%dir /usr/lib/kpatch\n");
    for (ModuleFile m : p.modules()) {
      sb.append("%dir /usr/lib/kpatch/").append(m.kernelRelease()).append('\n');
      sb.append(m.installPath()).append('\n');
    }
    sb.append("\n%changelog\n");
    for (ChangelogEntry e : changelog) {
      sb.append("* ").append(CHANGELOG_DATE.format(e.date())).append(" klp-catalog <klp-catalog@localhost> - ")
          .append(e.evr()).append('\n');
      for (String l : e.lines()) {
        sb.append("- ").append(oneLine(l)).append('\n');
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * The scriptlets of the kpatch runtime contract. %post installs every module (kpatch install
   * -k) and loads the running kernel's; on an upgrade it runs before the old version's %preun,
   * so the new module is loaded before the old one is unloaded (their names differ). %preun
   * unloads this version's module, %postun uninstalls it, on erase and on upgrade alike.
   */
  static String scriptlets(DesiredPackage p) {
    String mod = p.modules().get(0).moduleName();
    String kernels = String.join(" ", p.kernels());
    StringBuilder sb = new StringBuilder();
    sb.append("%post\n")
        .append("for k in ").append(kernels).append("; do\n")
        .append("  kpatch install -k \"$k\" \"/usr/lib/kpatch/$k/").append(mod).append(".ko\" >/dev/null || :\n")
        .append("done\n")
        .append("running=\"$(uname -r)\"\n")
        .append("case \" ").append(kernels).append(" \" in\n")
        .append("  *\" $running \"*)\n")
        .append("    kpatch load \"/usr/lib/kpatch/$running/").append(mod).append(".ko\" >/dev/null ||")
        .append(" echo \"").append(p.name()).append(": cannot load the livepatch for $running now; it loads at the")
        .append(" next boot\" >&2 ;;\n")
        .append("esac\n")
        .append("exit 0\n\n");
    sb.append("%preun\n")
        .append("kpatch unload ").append(mod).append(" >/dev/null 2>&1 || :\n")
        .append("exit 0\n\n");
    sb.append("%postun\n")
        .append("for k in ").append(kernels).append("; do\n")
        .append("  kpatch uninstall -k \"$k\" ").append(mod).append(" >/dev/null 2>&1 || :\n")
        .append("done\n")
        .append("exit 0\n");
    return sb.toString();
  }

  /** Text for a one-line tag: macros neutralised. */
  static String oneLine(String s) {
    return escape(s.replace('\n', ' ').replace('\r', ' ').strip());
  }

  /** Multi-line text: macros neutralised, and no line may open a section. */
  static String block(String s) {
    StringBuilder sb = new StringBuilder();
    for (String l : s.strip().split("\n", -1)) {
      sb.append(line(l)).append('\n');
    }
    return sb.toString();
  }

  private static String line(String l) {
    String e = escape(l);
    return e.startsWith("%") ? " " + e : e;
  }

  static String escape(String s) {
    return s.replace("%", "%%");
  }
}
