package org.klpcatalog.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.ToolRegistry;
import org.klpcatalog.files.FileTrees;

/**
 * Debian kernels through apt (the machine's, or the provider's own apt configuration): {@code
 * linux-headers-<release>} with the {@code -common} headers and the {@code linux-kbuild} tools of
 * the same version, and for QA {@code linux-image-<release>}.
 *
 * <p>Packages come only through apt: {@code apt-cache show} names each package's version and SHA256
 * from apt's indexes (which apt accepted only with a valid signature of the archive's Release
 * file), {@code apt-get download} fetches exactly those versions with unauthenticated packages
 * refused, and every downloaded file's SHA256 is compared with the index's before {@code dpkg-deb
 * -x} unpacks it. Nothing is installed. Trees are cached by the packages' names, versions and
 * checksums ({@link TreeKey}), made complete in a {@code .partial} directory and renamed into
 * place.
 */
public final class DebianProvider extends OncePerRunProvider {
  private static final Pattern COMMON =
      Pattern.compile("(linux-headers-[0-9.]+-[0-9]+-common) \\(= ([^)]+)\\)");
  private static final Pattern KBUILD =
      Pattern.compile("(linux-kbuild-[0-9.]+)(?: \\(>= ([^)]+)\\))?");

  private final String name;
  private final Optional<Path> aptConfig;
  private final Path cache;

  /** A package as apt's signed indexes describe it. */
  record AptPackage(String name, String version, String sha256, String depends) {
    String identity() {
      return name + "=" + version + " sha256:" + sha256;
    }
  }

  /** {@code cache} is the kernels directory shared by every provider. */
  public DebianProvider(ProviderSpec.Debian spec, Path cache) {
    this.name = spec.name();
    this.aptConfig = spec.aptConfig();
    this.cache = cache;
  }

  /** apt-get or apt-cache, with the provider's apt configuration if it has one. */
  private Command apt(List<String> argv) {
    Command c = Command.of(argv).env("LC_ALL", "C");
    aptConfig.ifPresent(f -> c.env("APT_CONFIG", f.toAbsolutePath().toString()));
    return c;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  String where(String release) {
    return "kernel " + release + " " + origin(name, aptConfig);
  }

  /** "(provider NAME, apt with FILE)": which provider and apt configuration a message is about. */
  static String origin(String name, Optional<Path> aptConfig) {
    return "(provider "
        + name
        + ", "
        + aptConfig.map(f -> "apt with " + f).orElse("the machine's apt")
        + ")";
  }

  @Override
  KernelTree fetch(String release, boolean withImage)
      throws IOException, KernelException, InterruptedException {
    requireTools(release);
    List<AptPackage> headerPackages = headerPackages(release);
    TreeKey headersKey = key(release, "headers", headerPackages);
    Path headersDir = headersKey.directory(cache);
    if (!Files.isRegularFile(headersDir.resolve("STAMP"))) {
      provisionHeaders(release, headerPackages, headersDir);
    }
    Path src = headersDir.resolve("root/usr/src/linux-headers-" + release);
    verifyHeaders(release, src);
    Optional<Path> image = Optional.empty();
    Optional<Path> modules = Optional.empty();
    String identity = headersKey.hash();
    if (withImage) {
      AptPackage img = show(release, List.of("linux-image-" + release)).get(0);
      TreeKey imageKey = key(release, "image", List.of(img));
      Path imageDir = imageKey.directory(cache);
      if (!Files.isRegularFile(imageDir.resolve("STAMP"))) {
        provisionImage(release, img, imageDir);
      }
      Path vmlinuz = imageDir.resolve("root/boot/vmlinuz-" + release);
      Path mods = imageDir.resolve("root/lib/modules/" + release);
      if (!Files.isRegularFile(vmlinuz) || !Files.isDirectory(mods)) {
        throw new KernelException(
            where(release)
                + ": linux-image-"
                + release
                + " has no boot/vmlinuz-"
                + release
                + " or lib/modules/"
                + release);
      }
      image = Optional.of(vmlinuz);
      modules = Optional.of(mods);
      identity = Digests.sha256(headersKey.hash() + "\n" + imageKey.hash() + "\n");
    }
    String toolchain =
        Files.readString(headersDir.resolve("STAMP"), StandardCharsets.UTF_8).strip();
    KernelTree tree = new KernelTree(release, name, src, image, modules, toolchain, identity);
    return tree;
  }

  /**
   * apt's packages are what apt's signed indexes say (name, version, SHA256); the origin is those
   * indexes, the machine's or those of the provider's apt configuration.
   */
  TreeKey key(String release, String part, List<AptPackage> packages) throws IOException {
    String origin =
        aptConfig.isEmpty()
            ? "apt"
            : "apt "
                + aptConfig.get().toAbsolutePath()
                + " sha256:"
                + Digests.sha256(Files.readAllBytes(aptConfig.get()));
    return new TreeKey(
        "debian", part, release, origin, packages.stream().map(AptPackage::identity).toList());
  }

  private void requireTools(String release) throws KernelException {
    for (String tool : List.of("apt-get", "apt-cache", "dpkg-deb", "dpkg")) {
      if (Command.which(tool).isEmpty()) {
        throw new KernelException(
            where(release)
                + ": "
                + tool
                + " is needed; run on Debian or Ubuntu, or configure"
                + " an rpm-repo provider");
      }
    }
  }

  /**
   * The headers of a release, the -common headers of the same version and the archive's current
   * linux-kbuild of the series (as apt on a host would install it, checked to be at least what the
   * headers ask for).
   */
  private List<AptPackage> headerPackages(String release)
      throws IOException, InterruptedException, KernelException {
    AptPackage headers = show(release, List.of("linux-headers-" + release)).get(0);
    Matcher common = COMMON.matcher(headers.depends());
    Matcher kbuild = KBUILD.matcher(headers.depends());
    if (!common.find() || !kbuild.find()) {
      throw new KernelException(
          where(release)
              + ": linux-headers-"
              + release
              + " "
              + headers.version()
              + " does not depend on a -common headers and a linux-kbuild package (Depends: "
              + headers.depends()
              + ")");
    }
    List<AptPackage> more =
        show(release, List.of(common.group(1) + "=" + common.group(2), kbuild.group(1)));
    AptPackage kbuildPackage = more.get(1);
    if (kbuild.group(2) != null
        && !Command.of("dpkg", "--compare-versions", kbuildPackage.version(), "ge", kbuild.group(2))
            .run()
            .ok()) {
      throw new KernelException(
          where(release)
              + ": "
              + kbuild.group(1)
              + " "
              + kbuildPackage.version()
              + " is older than the "
              + kbuild.group(2)
              + " the headers need");
    }
    return List.of(headers, more.get(0), kbuildPackage);
  }

  /**
   * What apt's indexes say of each package (NAME for the candidate version, NAME=VERSION for that
   * one), in the order asked.
   */
  private List<AptPackage> show(String release, List<String> wanted)
      throws IOException, InterruptedException, KernelException {
    List<String> cmd = new ArrayList<>(List.of("apt-cache", "show", "--no-all-versions"));
    cmd.addAll(wanted);
    Command.Result r = apt(cmd).timeout(Duration.ofMinutes(2)).run();
    Map<String, AptPackage> records = parseRecords(r.output());
    List<AptPackage> out = new ArrayList<>();
    for (String w : wanted) {
      String pkg = w.replaceAll("=.*", "");
      AptPackage p = records.get(pkg);
      String version = w.contains("=") ? w.substring(w.indexOf('=') + 1) : null;
      if (p == null || (version != null && !p.version().equals(version))) {
        throw new KernelException(
            where(release)
                + ": apt knows no "
                + w
                + "; check the release name, and that"
                + " apt's package lists are current (apt-get update)"
                + (r.ok() ? "" : ":\n" + Command.tail(r.output(), 3)));
      }
      if (!p.sha256().matches("[0-9a-f]{64}")) {
        throw new KernelException(
            where(release)
                + ": apt's index gives no SHA256 for "
                + w
                + "; only packages from signed archives with SHA256 indexes are used");
      }
      out.add(p);
    }
    return out;
  }

  /** apt-cache show's records, by package (the first record of each). */
  static Map<String, AptPackage> parseRecords(String output) {
    Map<String, AptPackage> out = new LinkedHashMap<>();
    for (String record : output.split("\n\\s*\n")) {
      Map<String, String> fields = new LinkedHashMap<>();
      String last = null;
      for (String line : record.split("\n")) {
        if ((line.startsWith(" ") || line.startsWith("\t")) && last != null) {
          fields.put(last, fields.get(last) + " " + line.strip());
        } else if (line.indexOf(':') > 0) {
          last = line.substring(0, line.indexOf(':'));
          fields.put(last, line.substring(line.indexOf(':') + 1).strip());
        }
      }
      String pkg = fields.get("Package");
      if (pkg != null && fields.containsKey("Version")) {
        out.putIfAbsent(
            pkg,
            new AptPackage(
                pkg,
                fields.get("Version"),
                fields.getOrDefault("SHA256", "").toLowerCase(Locale.ROOT),
                fields.getOrDefault("Depends", "")));
      }
    }
    return out;
  }

  private void provisionHeaders(String release, List<AptPackage> packages, Path target)
      throws IOException, InterruptedException, KernelException {
    Path work = FileTrees.fresh(target);
    Path debs = work.resolve("debs");
    Path root = work.resolve("root");
    for (Path deb : download(release, packages, debs)) {
      Command.of("dpkg-deb", "-x", deb.toString(), root.toString())
          .timeout(Duration.ofMinutes(5))
          .check();
    }
    // The flavour's Makefile includes the -common one by absolute path; point it where the tree
    // will live in the cache (the partial directory is renamed into place below).
    Path makefile = root.resolve("usr/src/linux-headers-" + release + "/Makefile");
    if (!Files.isRegularFile(makefile)) {
      throw new KernelException(
          where(release)
              + ": linux-headers-"
              + release
              + " has no usr/src/linux-headers-"
              + release
              + "/Makefile");
    }
    String text = Files.readString(makefile, StandardCharsets.UTF_8);
    Path finalRoot =
        target
            .toAbsolutePath()
            .getParent()
            .toRealPath()
            .resolve(target.getFileName())
            .resolve("root");
    Files.writeString(
        makefile,
        text.replace("include /usr/src/", "include " + finalRoot.resolve("usr/src") + "/"),
        StandardCharsets.UTF_8);
    verifyHeaders(release, root.resolve("usr/src/linux-headers-" + release));
    String gcc = compilerVersion(root.resolve("usr/src/linux-headers-" + release));
    StringBuilder stamp = new StringBuilder("debian");
    packages.forEach(p -> stamp.append(' ').append(p.name()).append(' ').append(p.version()));
    Files.writeString(work.resolve("STAMP"), stamp + "; " + gcc + "\n", StandardCharsets.UTF_8);
    FileTrees.deleteRecursively(debs);
    FileTrees.commit(work, target);
  }

  private void provisionImage(String release, AptPackage pkg, Path target)
      throws IOException, InterruptedException, KernelException {
    Path work = FileTrees.fresh(target);
    Path debs = work.resolve("debs");
    Path deb = download(release, List.of(pkg), debs).get(0);
    Command.of("dpkg-deb", "-x", deb.toString(), work.resolve("root").toString())
        .timeout(Duration.ofMinutes(5))
        .check();
    // Debian's images ship no modules.dep; QA's modprobe needs one.
    Path mods = work.resolve("root/lib/modules/" + release);
    if (Files.isDirectory(mods) && Command.which("depmod").isPresent()) {
      Command.of("depmod", "-b", work.resolve("root").toString(), release)
          .timeout(Duration.ofMinutes(5))
          .check();
    }
    Files.writeString(
        work.resolve("STAMP"),
        "debian " + pkg.name() + " " + pkg.version() + "\n",
        StandardCharsets.UTF_8);
    FileTrees.deleteRecursively(debs);
    FileTrees.commit(work, target);
  }

  /**
   * Downloads exactly these versions with apt (which refuses packages it cannot authenticate), and
   * checks each file against the SHA256 of apt's index.
   */
  private List<Path> download(String release, List<AptPackage> packages, Path dir)
      throws IOException, InterruptedException, KernelException {
    Files.createDirectories(dir);
    List<String> cmd =
        new ArrayList<>(
            List.of("apt-get", "download", "-q", "-o", "APT::Get::AllowUnauthenticated=false"));
    packages.forEach(p -> cmd.add(p.name() + "=" + p.version()));
    Command.Result r = apt(cmd).in(dir).timeout(Duration.ofMinutes(15)).run();
    if (!r.ok()) {
      List<String> errors = r.output().lines().filter(l -> l.startsWith("E: ")).limit(5).toList();
      throw new KernelException(
          where(release)
              + ": apt-get cannot download "
              + String.join(" ", cmd.subList(5, cmd.size()))
              + " (apt refuses a package that does not match its signed"
              + " index; old package lists are refreshed with apt-get update):\n"
              + (errors.isEmpty() ? Command.tail(r.output(), 5) : String.join("\n", errors)));
    }
    List<Path> out = new ArrayList<>();
    for (AptPackage p : packages) {
      Path deb;
      try (Stream<Path> s = Files.list(dir)) {
        deb =
            s.filter(
                    f ->
                        f.getFileName().toString().startsWith(p.name() + "_")
                            && f.toString().endsWith(".deb"))
                .findFirst()
                .orElseThrow(
                    () ->
                        new IOException(
                            "apt-get download left no " + p.name() + "_*.deb in " + dir));
      }
      String actual = Digests.sha256(Files.readAllBytes(deb));
      if (!actual.equals(p.sha256())) {
        throw new KernelException(
            where(release)
                + ": "
                + deb.getFileName()
                + " does not match the SHA256 of apt's"
                + " index ("
                + p.sha256()
                + ", got "
                + actual
                + "); it is not what the archive signed");
      }
      out.add(deb);
    }
    return out;
  }

  private void verifyHeaders(String release, Path src) throws IOException, KernelException {
    Path vars = src.resolve(".kernelvariables");
    if (!Files.isRegularFile(vars)
        || !Files.isRegularFile(src.resolve("Module.symvers"))
        || !Files.isRegularFile(src.resolve(".config"))) {
      throw new KernelException(
          where(release)
              + ": "
              + src
              + " is not a complete kbuild tree (no .kernelvariables, .config or Module.symvers)");
    }
    String text = Files.readString(vars, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("KERNELRELEASE\\s*=\\s*(\\S+)").matcher(text);
    if (!m.find() || !m.group(1).equals(release)) {
      throw new KernelException(
          where(release)
              + ": the headers are for "
              + (m.find(0) ? m.group(1) : "an unknown release")
              + ", not "
              + release);
    }
  }

  private static String compilerVersion(Path src) throws IOException, InterruptedException {
    String vars = Files.readString(src.resolve(".kernelvariables"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("\\)gcc-(\\d+)").matcher(vars);
    String gcc = m.find() ? "gcc-" + m.group(1) : "gcc";
    if (ToolRegistry.get().tool(gcc).isEmpty()) {
      // A kernel of another Debian release, built with a compiler this machine's klp-catalog does
      // not install: say so, rather than fail on an undeclared program.
      return gcc
          + " (not in klp-catalog's tool registry; builds for this kernel use whatever "
          + gcc
          + " the machine has)";
    }
    if (Command.which(gcc).isEmpty()) {
      return gcc + " (not installed)";
    }
    return Command.of(gcc, "--version").check().lines().findFirst().orElse(gcc);
  }
}
