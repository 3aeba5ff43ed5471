package org.klpcatalog.rpm;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.validate.TextRules;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ModuleFile;

/**
 * Writes the RPM spec of one package from the desired state. Pure.
 *
 * <p>Invariant: catalog text never becomes spec syntax, and the built package carries it byte for
 * byte. rpmbuild has no way to take the %description other than as spec lines (text from a file can
 * only come in through a macro, and rpm splits a macro's output into lines and reads those for
 * directives and sections too), so the writer does two things:
 *
 * <ul>
 *   <li>it escapes each {@code %} as {@code %%} and each {@code \} as {@code \%{nil}}, so no macro
 *       expands and no line is joined with the next (rpm joins a line ending in {@code \}, and a
 *       {@code \} before {@code %%} would hide the first {@code %} from rpm's count of open
 *       braces);
 *   <li>it writes only text that, expanded, reads back as itself: the summary, description,
 *       references and changelog lines must pass {@link TextRules} (the rules {@code validate}
 *       applies: no line starting with {@code %} or {@code #} after blanks, no blanks rpm would
 *       strip, no control or invisible characters), and every name, version, license, kernel
 *       release, module name, install path and capability must match the catalog schema's patterns.
 * </ul>
 *
 * <p>On anything else it throws {@link UnsafeText} and writes nothing, even if validation was
 * bypassed. The description is {@link TextRules#sectionBody} of the manifest's, followed by the
 * references and the kernels; everything rpm reads is under the package's top directory.
 */
public final class SpecWriter {
  /** One %changelog entry. */
  public record ChangelogEntry(Instant date, String evr, List<String> lines) {}

  /** Text the writer cannot prove rpm carries as text; no spec is written. */
  public static final class UnsafeText extends IllegalArgumentException {
    UnsafeText(String pkg, String what, String why) {
      super(
          pkg
              + ": refusing to write its spec: "
              + what
              + " "
              + why
              + " (validate refuses such a catalog; it must have been bypassed)");
    }
  }

  private static final DateTimeFormatter CHANGELOG_DATE =
      DateTimeFormatter.ofPattern("EEE MMM dd yyyy", Locale.ROOT).withZone(ZoneOffset.UTC);

  private static final Pattern PACKAGE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");
  private static final Pattern PATCH_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");
  private static final Pattern VERSION = Pattern.compile("[0-9]+(\\.[0-9]+)*");
  private static final Pattern EVR = Pattern.compile("([0-9]+:)?[0-9]+(\\.[0-9]+)*-[0-9]+");
  private static final Pattern LICENSE =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9.+-]*( (AND|OR|WITH) [A-Za-z0-9][A-Za-z0-9.+-]*)*");
  private static final Pattern ARCH = Pattern.compile("[a-z0-9_]+");
  private static final Pattern KERNEL = Pattern.compile("[0-9][A-Za-z0-9._+~^-]*");
  private static final Pattern MODULE = Pattern.compile("[a-z0-9_]+");
  private static final Pattern FUNCTION_CAPABILITY =
      Pattern.compile(
          "kpatch-function\\([0-9][A-Za-z0-9._+~^-]*:[A-Za-z0-9_./+-]+:[A-Za-z_][A-Za-z0-9_]*\\)");
  private static final Pattern SERVED_CAPABILITY =
      Pattern.compile(
          "kpatch-kernel\\([0-9][A-Za-z0-9._+~^-]*\\)|kpatch-cve\\(CVE-[0-9]{4}-[0-9]{4,}\\)");
  private static final List<String> OPERATORS = List.of("", "<", "<=", "=", ">=", ">");

  private SpecWriter() {}

  /** The spec of {@code p}; throws {@link UnsafeText} rather than write one rpm would misread. */
  public static String write(DesiredPackage p, List<ChangelogEntry> changelog) {
    String pkg = require(p.name(), PACKAGE_NAME, "package", "name");
    require(p.patch(), PATCH_NAME, pkg, "patch name");
    require(p.evr().version(), VERSION, pkg, "version");
    require(p.license(), LICENSE, pkg, "license");
    require(p.arch(), ARCH, pkg, "arch");
    if (p.evr().release() < 1 || p.evr().epoch() < 0) {
      throw new UnsafeText(
          pkg, "EVR '" + p.evr() + "'", "is not a positive release with an epoch of 0 or more");
    }
    if (p.modules().isEmpty()) {
      throw new UnsafeText(pkg, "module list", "is empty");
    }
    for (ModuleFile m : p.modules()) {
      require(m.kernelRelease(), KERNEL, pkg, "kernel release");
      require(m.moduleName(), MODULE, pkg, "module name");
      if (!m.installPath()
          .equals("/usr/lib/kpatch/" + m.kernelRelease() + "/" + m.moduleName() + ".ko")) {
        throw new UnsafeText(
            pkg,
            "install path '" + m.installPath() + "'",
            "is not /usr/lib/kpatch/<release>/<module>.ko");
      }
    }
    if (p.modules().stream().map(ModuleFile::moduleName).distinct().count() != 1) {
      throw new UnsafeText(pkg, "modules", "do not share one module name");
    }
    for (List<Capability> caps : List.of(p.provides(), p.conflicts(), p.obsoletes())) {
      caps.forEach(c -> capability(pkg, c));
    }
    String summary = tagValue(pkg, "summary", p.summary());
    String description = sectionText(pkg, p.description());
    for (String r : p.references()) {
      if (!TextRules.isReference(r) || TextRules.check(r, false).isPresent()) {
        throw new UnsafeText(
            pkg, "reference '" + r + "'", "is not a CVE id, an http(s) URL or a tracker id");
      }
    }

    StringBuilder sb = new StringBuilder();
    sb.append("# Written by klp-catalog from patch ").append(p.patch()).append("; do not edit.\n");
    sb.append("Name: ").append(pkg).append('\n');
    sb.append("Version: ").append(p.evr().version()).append('\n');
    sb.append("Release: ").append(p.evr().release()).append('\n');
    if (p.evr().epoch() != 0) {
      sb.append("Epoch: ").append(p.evr().epoch()).append('\n');
    }
    sb.append("Summary: ").append(literal(summary)).append('\n');
    sb.append("License: ").append(p.license()).append('\n');
    sb.append("Group: System Environment/Kernel\n");
    sb.append("Packager: klp-catalog\n");
    p.references().stream()
        .filter(r -> r.startsWith("https://"))
        .findFirst()
        .ifPresent(u -> sb.append("URL: ").append(literal(u)).append('\n'));
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
    sb.append("\n%description\n").append(literal(description)).append('\n');
    if (!p.references().isEmpty()) {
      sb.append("\nReferences:\n");
      for (String r : p.references()) {
        sb.append("- ").append(literal(r)).append('\n');
      }
    }
    sb.append("\nKernels: ").append(String.join(" ", p.kernels())).append('\n');
    sb.append("\n%prep\n\n%build\n\n%install\n");
    for (ModuleFile m : p.modules()) {
      sb.append("install -D -m 0644 %{_sourcedir}/")
          .append(m.kernelRelease())
          .append('/')
          .append(m.moduleName())
          .append(".ko %{buildroot}")
          .append(m.installPath())
          .append('\n');
    }
    sb.append('\n').append(scriptlets(p));
    sb.append("\n%files\n%dir /usr/lib/kpatch\n");
    for (ModuleFile m : p.modules()) {
      sb.append("%dir /usr/lib/kpatch/").append(m.kernelRelease()).append('\n');
      sb.append(m.installPath()).append('\n');
    }
    sb.append("\n%changelog\n");
    for (ChangelogEntry e : changelog) {
      require(e.evr(), EVR, pkg, "changelog EVR");
      sb.append("* ")
          .append(CHANGELOG_DATE.format(e.date()))
          .append(" klp-catalog <klp-catalog@localhost> - ")
          .append(e.evr())
          .append('\n');
      if (e.lines().isEmpty()) {
        throw new UnsafeText(pkg, "changelog entry " + e.evr(), "has no lines");
      }
      for (String l : e.lines()) {
        sb.append("- ").append(literal(tagValue(pkg, "changelog line", l))).append('\n');
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * The scriptlets of the kpatch runtime contract. %post installs every module (kpatch install -k)
   * and loads the running kernel's; on an upgrade it runs before the old version's %preun, so the
   * new module is loaded before the old one is unloaded (their names differ). %preun unloads this
   * version's module, %postun uninstalls it, on erase and on upgrade alike.
   */
  static String scriptlets(DesiredPackage p) {
    String mod = p.modules().get(0).moduleName();
    String kernels = String.join(" ", p.kernels());
    StringBuilder sb = new StringBuilder();
    sb.append("%post\n")
        .append("for k in ")
        .append(kernels)
        .append("; do\n")
        .append("  kpatch install -k \"$k\" \"/usr/lib/kpatch/$k/")
        .append(mod)
        .append(".ko\" >/dev/null || :\n")
        .append("done\n")
        .append("running=\"$(uname -r)\"\n")
        .append("case \" ")
        .append(kernels)
        .append(" \" in\n")
        .append("  *\" $running \"*)\n")
        .append("    kpatch load \"/usr/lib/kpatch/$running/")
        .append(mod)
        .append(".ko\" >/dev/null ||")
        .append(" echo \"")
        .append(p.name())
        .append(": cannot load the livepatch for $running now; it loads at the")
        .append(" next boot\" >&2 ;;\n")
        .append("esac\n")
        .append("exit 0\n\n");
    sb.append("%preun\n")
        .append("kpatch unload ")
        .append(mod)
        .append(" >/dev/null 2>&1 || :\n")
        .append("exit 0\n\n");
    sb.append("%postun\n")
        .append("for k in ")
        .append(kernels)
        .append("; do\n")
        .append("  kpatch uninstall -k \"$k\" ")
        .append(mod)
        .append(" >/dev/null 2>&1 || :\n")
        .append("done\n")
        .append("exit 0\n");
    return sb.toString();
  }

  /**
   * Text as spec source that rpm expands back to exactly {@code s}: {@code %} doubled, and
   * {@code \} followed by an empty macro, so it neither ends a line (rpm would join the next)
   * nor hides the {@code %} after it from rpm's scan for unclosed {@code %{ %( %[}. Only safe on
   * text that passed {@link TextRules}: escaping cannot stop rpm reading an expanded line that
   * starts with {@code %} or {@code #}.
   */
  static String literal(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        sb.append("%%");
      } else if (c == '\\') {
        sb.append("\\%{nil}");
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static String tagValue(String pkg, String what, String text) {
    Optional<TextRules.Problem> bad = TextRules.tagValue(text);
    if (bad.isPresent()) {
      throw new UnsafeText(pkg, what, bad.get().message());
    }
    return text;
  }

  private static String sectionText(String pkg, String text) {
    List<TextRules.Problem> bad = TextRules.sectionText(text);
    if (!bad.isEmpty()) {
      throw new UnsafeText(pkg, "description", bad.get(0).message());
    }
    return TextRules.sectionBody(text);
  }

  private static void capability(String pkg, Capability c) {
    boolean name =
        FUNCTION_CAPABILITY.matcher(c.name()).matches()
            || SERVED_CAPABILITY.matcher(c.name()).matches()
            || PACKAGE_NAME.matcher(c.name()).matches();
    boolean version =
        c.operator().isEmpty()
            ? c.evr().isEmpty()
            : OPERATORS.contains(c.operator())
                && c.evr().isPresent()
                && EVR.matcher(c.evr().get().toString()).matches();
    if (!name || !version) {
      throw new UnsafeText(
          pkg,
          "capability '" + c + "'",
          "is not a package name, kpatch-function(release:path:function),"
              + " kpatch-kernel(release) or kpatch-cve(CVE id) with an optional comparison");
    }
  }

  private static String require(String value, Pattern pattern, String pkg, String what) {
    if (value == null || !pattern.matcher(value).matches()) {
      throw new UnsafeText(
          pkg, what + " '" + value + "'", "has characters the catalog schema does not allow there");
    }
    return value;
  }
}
