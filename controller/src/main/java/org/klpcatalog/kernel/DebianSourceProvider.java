package org.klpcatalog.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;

/**
 * The source of Debian kernels through apt, with an apt configuration of klp-catalog's own that
 * leaves the machine's alone: a deb-src list derived from the sources apt already uses (the
 * machine's, or those of the provider's apt configuration), and private package lists and caches
 * under the cache directory. apt's trusted keys are the machine's (or the configuration's).
 *
 * <p>The source version is the one the release's headers package names ({@code Source: linux} and
 * its {@code Version}, or {@code Source: linux (VERSION)}), so the flavours of one upload share one
 * tree. The files of that source version are what apt's signed Sources index lists (name and
 * SHA-256); {@code apt-get source --download-only} fetches them, each is checked against the index
 * and against the {@code .dsc}'s Checksums-Sha256, and any other file is refused. {@code
 * dpkg-source -x} unpacks them with Debian's patches applied, in a {@code .partial} directory
 * renamed into place. The tree is cached by the source package, its version, the origin and the
 * files' checksums ({@link TreeKey}), never by release.
 */
final class DebianSourceProvider implements SourceProvider {
  private static final Pattern SOURCE_FIELD =
      Pattern.compile("([a-z0-9][a-z0-9.+-]*)(?:\\s+\\(([^)\\s]+)\\))?");
  private static final Pattern VERSION = Pattern.compile("[0-9][A-Za-z0-9.+~:-]*");
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.+~_-]*");

  private final String name;
  private final Optional<Path> aptConfig;
  private final Path cache;
  private final Map<String, SourceTree> provided = new ConcurrentHashMap<>();

  /**
   * Within one run a release's source is looked up once (apt-cache and apt-config take seconds).
   */
  private final Map<String, SourceTree> byRelease = new ConcurrentHashMap<>();

  private final AtomicInteger downloads = new AtomicInteger();
  private volatile boolean updated;

  /** A source package as apt's signed Sources index lists it: its files by name, with SHA-256. */
  record SourcePackage(String name, String version, Map<String, String> sha256) {}

  /** {@code cache} is the sources directory shared by every provider. */
  DebianSourceProvider(ProviderSpec.Debian spec, Path cache) {
    this.name = spec.name();
    this.aptConfig = spec.aptConfig();
    this.cache = cache;
  }

  /** How many source packages this instance downloaded (each source version at most once). */
  int downloads() {
    return downloads.get();
  }

  /** Runs an unpacking command into {@code work/src} and checks that it made a kernel tree. */
  private void unpack(Command unpack, Path work, String release, String what)
      throws IOException, InterruptedException, KernelException {
    unpack
        .env("LC_ALL", "C")
        .timeout(Duration.ofMinutes(30))
        .log(work.resolve("unpack.log"))
        .check();
    if (!Files.isRegularFile(work.resolve("src/Makefile"), LinkOption.NOFOLLOW_LINKS)) {
      throw new KernelException(
          where(release) + ": " + what + " unpacked into no kernel tree (no Makefile)");
    }
  }

  private String where(String release) {
    return "the source of kernel " + release + " " + DebianProvider.origin(name, aptConfig);
  }

  @Override
  public SourceTree source(Kernel kernel) throws KernelException, InterruptedException {
    String release = kernel.release();
    SourceTree known = byRelease.get(release);
    if (known != null) {
      return known;
    }
    try {
      requireTools(release);
      String[] pkg = sourceOf(release);
      String memo = pkg[0] + "_" + pkg[1];
      SourceTree done = provided.get(memo);
      if (done != null) {
        byRelease.put(release, done);
        return done;
      }
      AptDirs dirs = aptDirs();
      try (FileTrees.Lock l = FileTrees.lock(dirs.root())) {
        done = provided.get(memo);
        if (done != null) {
          return done;
        }
        SourceTree tree;
        try {
          tree = fromSourcePackage(release, dirs, pkg[0], pkg[1]);
        } catch (KernelException e) {
          if (!pkg[0].equals("linux")) {
            throw e;
          }
          tree = fromLinuxSource(release, pkg[1], e);
        }
        provided.put(memo, tree);
        byRelease.put(release, tree);
        return tree;
      }
    } catch (IOException e) {
      throw new KernelException(where(release) + ": " + e.getMessage(), e);
    }
  }

  private SourceTree fromSourcePackage(String release, AptDirs dirs, String pkg, String version)
      throws IOException, InterruptedException, KernelException {
    SourcePackage sp = indexed(release, dirs, pkg, version);
    TreeKey key =
        new TreeKey(
            "debian",
            "source",
            pkg + "_" + version,
            origin(),
            sp.sha256().entrySet().stream()
                .map(e -> e.getKey() + " sha256:" + e.getValue())
                .toList());
    Path dir = key.directory(cache);
    try (FileTrees.Lock t = FileTrees.lock(dir)) {
      if (!Files.isRegularFile(dir.resolve("STAMP"))) {
        unpack(release, dirs, sp, dir);
      }
    }
    return new SourceTree(name, sp.version(), dir.resolve("src"), key.hash());
  }

  /**
   * When the archive no longer serves the {@code linux} source package of a version (security
   * archives keep the binary packages of older uploads longer than their sources), the same
   * version's {@code linux-source-X.Y} binary package: Debian builds it from that source with
   * Debian's patches applied, as a tarball under {@code /usr/src}. It comes like the headers: its
   * SHA-256 from apt's signed Packages index, {@code apt-get download} with unauthenticated
   * packages refused, the file checked against the index, then {@code dpkg-deb -x} and tar.
   */
  private SourceTree fromLinuxSource(String release, String version, KernelException why)
      throws IOException, InterruptedException, KernelException {
    Matcher series = Pattern.compile("^(\\d+\\.\\d+)[.-]").matcher(version);
    if (!series.find()) {
      throw why;
    }
    String bin = "linux-source-" + series.group(1);
    Command.Result r =
        apt(List.of("apt-cache", "show", bin + "=" + version)).timeout(Duration.ofMinutes(2)).run();
    Map<String, String> record =
        records(r.output()).stream()
            .filter(f -> bin.equals(f.get("Package")) && version.equals(f.get("Version")))
            .findFirst()
            .orElse(null);
    String sha = record == null ? "" : record.getOrDefault("SHA256", "").toLowerCase(Locale.ROOT);
    if (!r.ok() || !sha.matches("[0-9a-f]{64}")) {
      throw new KernelException(
          why.getMessage()
              + "\nand apt knows no "
              + bin
              + " "
              + version
              + " (with a SHA256) to take the patched source from either",
          why);
    }
    TreeKey key =
        new TreeKey(
            "debian",
            "source",
            "linux_" + version,
            origin(),
            List.of(bin + "=" + version + " sha256:" + sha));
    Path dir = key.directory(cache);
    try (FileTrees.Lock t = FileTrees.lock(dir)) {
      if (!Files.isRegularFile(dir.resolve("STAMP"))) {
        Path work = FileTrees.fresh(dir);
        Path dl = work.resolve("download");
        Files.createDirectories(dl);
        Command.Result d =
            apt(List.of(
                    "apt-get",
                    "download",
                    "-q",
                    "-o",
                    "APT::Get::AllowUnauthenticated=false",
                    bin + "=" + version))
                .in(dl)
                .timeout(Duration.ofMinutes(30))
                .run();
        downloads.incrementAndGet();
        if (!d.ok()) {
          throw new KernelException(
              where(release)
                  + ": apt-get cannot download "
                  + bin
                  + " "
                  + version
                  + ":\n"
                  + Command.tail(d.output(), 5));
        }
        Path deb;
        try (Stream<Path> files = Files.list(dl)) {
          deb =
              files
                  .filter(
                      f ->
                          f.getFileName().toString().startsWith(bin + "_")
                              && f.getFileName().toString().endsWith(".deb"))
                  .findFirst()
                  .orElseThrow(() -> new IOException("apt-get download left no " + bin + "_*.deb"));
        }
        String actual = sha256(deb);
        if (!actual.equals(sha)) {
          throw new KernelException(
              where(release)
                  + ": "
                  + deb.getFileName()
                  + " does not match the SHA256 of apt's"
                  + " signed index ("
                  + sha
                  + ", got "
                  + actual
                  + ")");
        }
        Path root = work.resolve("root");
        Command.of("dpkg-deb", "-x", deb.toString(), root.toString())
            .timeout(Duration.ofMinutes(10))
            .check();
        Path tarball = root.resolve("usr/src/" + bin + ".tar.xz");
        if (!Files.isRegularFile(tarball, LinkOption.NOFOLLOW_LINKS)) {
          throw new KernelException(
              where(release) + ": " + bin + " " + version + " has no usr/src/" + bin + ".tar.xz");
        }
        Files.createDirectories(work.resolve("src"));
        unpack(
            Command.of(
                "tar",
                "-xJf",
                tarball.toString(),
                "-C",
                work.resolve("src").toString(),
                "--strip-components=1",
                "--no-same-owner",
                "--no-same-permissions"),
            work,
            release,
            bin + " " + version);
        Files.writeString(
            work.resolve("STAMP"),
            "debian " + bin + " " + version + " sha256:" + sha + "\n",
            StandardCharsets.UTF_8);
        FileTrees.deleteRecursively(dl);
        FileTrees.deleteRecursively(root);
        FileTrees.commit(work, dir);
      }
    }
    return new SourceTree(name, version, dir.resolve("src"), key.hash());
  }

  private void requireTools(String release) throws KernelException {
    for (String tool : List.of("apt-get", "apt-cache", "apt-config", "dpkg-source")) {
      if (Command.which(tool).isEmpty()) {
        throw new KernelException(
            where(release)
                + ": "
                + tool
                + " is needed (packages apt and dpkg-dev); run on"
                + " Debian or Ubuntu");
      }
    }
  }

  private String origin() throws IOException {
    return aptConfig.isEmpty()
        ? "apt"
        : "apt "
            + aptConfig.get().toAbsolutePath()
            + " sha256:"
            + Digests.sha256(Files.readAllBytes(aptConfig.get()));
  }

  private Command apt(List<String> argv) {
    Command c = Command.of(argv).env("LC_ALL", "C");
    aptConfig.ifPresent(f -> c.env("APT_CONFIG", f.toAbsolutePath().toString()));
    return c;
  }

  /** The source package and version the release's headers package was built from. */
  private String[] sourceOf(String release)
      throws IOException, InterruptedException, KernelException {
    String headers = "linux-headers-" + release;
    Command.Result r =
        apt(List.of("apt-cache", "show", "--no-all-versions", headers))
            .timeout(Duration.ofMinutes(2))
            .run();
    Map<String, String> record =
        records(r.output()).stream()
            .filter(f -> headers.equals(f.get("Package")))
            .findFirst()
            .orElse(null);
    if (!r.ok() || record == null || record.get("Version") == null) {
      throw new KernelException(
          where(release)
              + ": apt knows no "
              + headers
              + ", so its source version is unknown; check the release name, and that apt's package"
              + " lists are current (apt-get update)");
    }
    String[] pkg =
        sourcePackage(
            record.getOrDefault("Package", headers),
            record.getOrDefault("Source", ""),
            record.get("Version"));
    if (pkg == null) {
      throw new KernelException(
          where(release)
              + ": "
              + headers
              + " names no usable source package (Source: "
              + record.get("Source")
              + ", Version: "
              + record.get("Version")
              + ")");
    }
    return pkg;
  }

  /**
   * A binary package's source package and version from its {@code Source:} field ({@code linux},
   * {@code linux (6.1.187-1)}, or absent: the package's own name) and {@code Version:}; null when
   * either is not a Debian name or version.
   */
  static String[] sourcePackage(String pkg, String sourceField, String version) {
    String field = sourceField == null || sourceField.isBlank() ? pkg : sourceField.strip();
    Matcher m = SOURCE_FIELD.matcher(field);
    if (!m.matches()) {
      return null;
    }
    String v = m.group(2) != null ? m.group(2) : version;
    if (v == null || !VERSION.matcher(v).matches() || v.length() > 100) {
      return null;
    }
    return new String[] {m.group(1), v};
  }

  /** The private apt configuration: deb-src lists, package lists and caches. */
  private record AptDirs(Path root, List<String> options) {}

  private AptDirs aptDirs() throws IOException, InterruptedException, KernelException {
    Map<String, String> conf =
        parseAptConfig(apt(List.of("apt-config", "dump")).timeout(Duration.ofMinutes(1)).check());
    List<Path> files = sourceFiles(conf);
    Map<String, String> derived = new LinkedHashMap<>();
    int i = 0;
    for (Path f : files) {
      String text = Files.readString(f, StandardCharsets.UTF_8);
      String fname =
          String.format(
              "%02d-%s", i++, f.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_"));
      if (fname.endsWith(".sources")) {
        derived.put(fname, debSrcSources(text));
      } else {
        derived.put(fname.replaceAll("\\.list$", "") + ".list", debSrcList(text));
      }
    }
    StringBuilder all = new StringBuilder(origin()).append('\n');
    derived.forEach((k, v) -> all.append("== ").append(k).append('\n').append(v));
    Path root =
        cache.resolve("debian").resolve("apt-" + Digests.sha256(all.toString()).substring(0, 24));
    Path parts = root.resolve("sources.list.d");
    Files.createDirectories(root);
    try (FileTrees.Lock l = FileTrees.lock(parts)) {
      if (!Files.isDirectory(parts)) {
        Path work = FileTrees.fresh(parts);
        for (Map.Entry<String, String> e : derived.entrySet()) {
          Files.writeString(work.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
        }
        FileTrees.commit(work, parts);
      }
    }
    Files.createDirectories(root.resolve("lists/partial"));
    Files.createDirectories(root.resolve("cache/archives/partial"));
    return new AptDirs(
        root,
        List.of(
            "-o", "Dir::Etc::sourcelist=/dev/null",
            "-o", "Dir::Etc::sourceparts=" + parts.toAbsolutePath(),
            "-o", "Dir::State::Lists=" + root.resolve("lists").toAbsolutePath(),
            "-o", "Dir::Cache=" + root.resolve("cache").toAbsolutePath()));
  }

  /** {@code apt-config dump}'s {@code Key "value";} lines (the first value of each key). */
  static Map<String, String> parseAptConfig(String dump) {
    Map<String, String> out = new LinkedHashMap<>();
    Pattern line = Pattern.compile("^(\\S+) \"(.*)\";$");
    for (String l : dump.split("\n")) {
      Matcher m = line.matcher(l.strip());
      if (m.matches()) {
        out.putIfAbsent(m.group(1), m.group(2));
      }
    }
    return out;
  }

  /** The sources.list and the sources.list.d/*.list and *.sources files apt reads. */
  static List<Path> sourceFiles(Map<String, String> conf) throws IOException {
    Path rootDir = Path.of(conf.getOrDefault("Dir", "/"));
    Path etc = resolve(rootDir, conf.getOrDefault("Dir::Etc", "etc/apt/"));
    List<Path> out = new ArrayList<>();
    Path list = resolve(etc, conf.getOrDefault("Dir::Etc::sourcelist", "sources.list"));
    if (Files.isRegularFile(list)) {
      out.add(list);
    }
    Path parts = resolve(etc, conf.getOrDefault("Dir::Etc::sourceparts", "sources.list.d"));
    if (Files.isDirectory(parts)) {
      try (Stream<Path> s = Files.list(parts)) {
        s.filter(p -> p.getFileName().toString().matches("[A-Za-z0-9_.-]+\\.(list|sources)"))
            .filter(Files::isRegularFile)
            .sorted()
            .forEach(out::add);
      }
    }
    return out;
  }

  private static Path resolve(Path base, String p) {
    return p.startsWith("/") ? Path.of(p) : base.resolve(p);
  }

  /**
   * deb822 sources with {@code Types: deb-src}: each stanza that names the {@code deb} type (and is
   * not disabled) once, every other field kept (URIs, suites, components, Signed-By).
   */
  static String debSrcSources(String text) {
    StringBuilder out = new StringBuilder();
    for (String stanza : text.split("\n\\s*\n")) {
      List<String> lines = stanza.lines().filter(l -> !l.startsWith("#")).toList();
      boolean deb = false;
      boolean disabled = false;
      for (String l : lines) {
        String lower = l.toLowerCase(Locale.ROOT);
        if (lower.startsWith("types:")) {
          deb = List.of(l.substring(6).strip().split("\\s+")).contains("deb");
        } else if (lower.startsWith("enabled:")) {
          disabled = l.substring(8).strip().equalsIgnoreCase("no");
        }
      }
      if (!deb || disabled) {
        continue;
      }
      for (String l : lines) {
        out.append(l.toLowerCase(Locale.ROOT).startsWith("types:") ? "Types: deb-src" : l)
            .append('\n');
      }
      out.append('\n');
    }
    return out.toString();
  }

  /** One-line sources with each {@code deb} line turned into a {@code deb-src} line. */
  static String debSrcList(String text) {
    StringBuilder out = new StringBuilder();
    for (String l : text.split("\n")) {
      String s = l.strip();
      if (s.startsWith("deb ") || s.startsWith("deb\t")) {
        out.append("deb-src").append(s.substring(3)).append('\n');
      }
    }
    return out.toString();
  }

  /**
   * The Sources index's record of {@code pkg} at {@code version}; apt-get update on the private
   * lists once per run when it is not there yet.
   */
  private SourcePackage indexed(String release, AptDirs dirs, String pkg, String version)
      throws IOException, InterruptedException, KernelException {
    Optional<SourcePackage> found = showsrc(dirs, pkg, version);
    if (found.isEmpty() && !updated) {
      List<String> cmd = new ArrayList<>(List.of("apt-get", "update", "-q"));
      cmd.addAll(dirs.options());
      Command.Result r = apt(cmd).timeout(Duration.ofMinutes(10)).run();
      updated = true;
      if (!r.ok()) {
        throw new KernelException(
            where(release)
                + ": apt-get update of the deb-src lists derived from apt's"
                + " sources failed:\n"
                + Command.tail(r.output(), 5));
      }
      found = showsrc(dirs, pkg, version);
    }
    return found.orElseThrow(
        () ->
            new KernelException(
                where(release)
                    + ": apt's Sources indexes (deb-src of the"
                    + " sources apt uses) list no source package "
                    + pkg
                    + " "
                    + version
                    + "; the archive may no longer carry it"));
  }

  private Optional<SourcePackage> showsrc(AptDirs dirs, String pkg, String version)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("apt-cache"));
    cmd.addAll(dirs.options());
    cmd.addAll(List.of("showsrc", "--only-source", pkg));
    Command.Result r = apt(cmd).timeout(Duration.ofMinutes(2)).run();
    return r.ok() ? findSource(r.output(), pkg, version) : Optional.empty();
  }

  /**
   * The record of {@code pkg} at {@code version} in apt-cache showsrc's output, if it lists one.
   */
  static Optional<SourcePackage> findSource(String showsrc, String pkg, String version) {
    for (Map<String, String> f : records(showsrc)) {
      if (pkg.equals(f.get("Package")) && version.equals(f.get("Version"))) {
        Map<String, String> files = checksums(f.getOrDefault("Checksums-Sha256", ""));
        if (!files.isEmpty()) {
          return Optional.of(new SourcePackage(pkg, version, files));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * A Checksums-Sha256 field's files, by name; lines that are not {@code SHA256 SIZE NAME} are
   * ignored.
   */
  static Map<String, String> checksums(String field) {
    Map<String, String> out = new TreeMap<>();
    for (String l : field.split("\n")) {
      String[] w = l.strip().split("\\s+");
      if (w.length == 3 && w[0].matches("[0-9a-fA-F]{64}") && FILE_NAME.matcher(w[2]).matches()) {
        out.put(w[2], w[0].toLowerCase(Locale.ROOT));
      }
    }
    return out;
  }

  /**
   * Records of deb822 text (apt-cache show/showsrc, a .dsc): fields by name, continuation lines
   * joined by newlines.
   */
  static List<Map<String, String>> records(String text) {
    List<Map<String, String>> out = new ArrayList<>();
    Map<String, String> fields = new LinkedHashMap<>();
    String last = null;
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        if (!fields.isEmpty()) {
          out.add(fields);
          fields = new LinkedHashMap<>();
        }
        last = null;
      } else if ((line.startsWith(" ") || line.startsWith("\t")) && last != null) {
        fields.put(last, fields.get(last) + "\n" + line.strip());
      } else if (line.indexOf(':') > 0 && !line.startsWith("-----")) {
        last = line.substring(0, line.indexOf(':'));
        fields.putIfAbsent(last, line.substring(line.indexOf(':') + 1).strip());
      }
    }
    if (!fields.isEmpty()) {
      out.add(fields);
    }
    return out;
  }

  private void unpack(String release, AptDirs dirs, SourcePackage sp, Path target)
      throws IOException, InterruptedException, KernelException {
    Path work = FileTrees.fresh(target);
    Path dl = work.resolve("download");
    Files.createDirectories(dl);
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "apt-get",
                "source",
                "--download-only",
                "--only-source",
                "-q",
                "-o",
                "APT::Get::AllowUnauthenticated=false"));
    cmd.addAll(dirs.options());
    cmd.add(sp.name() + "=" + sp.version());
    Command.Result r = apt(cmd).in(dl).timeout(Duration.ofMinutes(30)).run();
    downloads.incrementAndGet();
    if (!r.ok()) {
      List<String> errors = r.output().lines().filter(l -> l.startsWith("E: ")).limit(5).toList();
      throw new KernelException(
          where(release)
              + ": apt-get cannot download the source "
              + sp.name()
              + " "
              + sp.version()
              + ":\n"
              + (errors.isEmpty() ? Command.tail(r.output(), 5) : String.join("\n", errors)));
    }
    verifyDownload(release, sp, dl);
    Path dsc =
        dl.resolve(
            sp.sha256().keySet().stream()
                .filter(n -> n.endsWith(".dsc"))
                .findFirst()
                .orElseThrow());
    unpack(
        Command.of("dpkg-source", "-x", dsc.toString(), work.resolve("src").toString()),
        work,
        release,
        dsc.getFileName().toString());
    Files.writeString(
        work.resolve("STAMP"),
        "debian source "
            + sp.name()
            + " "
            + sp.version()
            + "\n"
            + String.join(
                "\n",
                sp.sha256().entrySet().stream()
                    .map(e -> e.getKey() + " sha256:" + e.getValue())
                    .toList())
            + "\n",
        StandardCharsets.UTF_8);
    FileTrees.deleteRecursively(dl);
    FileTrees.commit(work, target);
  }

  /**
   * Exactly the index's files are there, each with the index's SHA-256; the .dsc lists exactly the
   * other files, with the same SHA-256.
   */
  private void verifyDownload(String release, SourcePackage sp, Path dl)
      throws IOException, KernelException {
    Set<String> present = new TreeSet<>();
    try (Stream<Path> s = Files.list(dl)) {
      s.forEach(p -> present.add(p.getFileName().toString()));
    }
    if (!present.equals(sp.sha256().keySet())) {
      throw new KernelException(
          where(release)
              + ": apt-get source left "
              + present
              + ", but the signed index lists "
              + sp.sha256().keySet()
              + "; refusing the download");
    }
    List<String> dscs = present.stream().filter(n -> n.endsWith(".dsc")).toList();
    if (dscs.size() != 1) {
      throw new KernelException(
          where(release) + ": the source package has " + dscs.size() + " .dsc files");
    }
    for (String n : present) {
      Path f = dl.resolve(n);
      if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
        throw new KernelException(where(release) + ": " + n + " is not a regular file");
      }
      String actual = sha256(f);
      if (!actual.equals(sp.sha256().get(n))) {
        throw new KernelException(
            where(release)
                + ": "
                + n
                + " does not match the SHA256 of apt's signed Sources index ("
                + sp.sha256().get(n)
                + ", got "
                + actual
                + ")");
      }
    }
    String dscText = Files.readString(dl.resolve(dscs.get(0)), StandardCharsets.UTF_8);
    Map<String, String> listed =
        records(dscText).stream()
            .filter(f -> f.containsKey("Checksums-Sha256"))
            .findFirst()
            .map(f -> checksums(f.get("Checksums-Sha256")))
            .orElse(Map.of());
    Set<String> others = new TreeSet<>(present);
    others.removeAll(dscs);
    if (!listed.keySet().equals(others)) {
      throw new KernelException(
          where(release)
              + ": "
              + dscs.get(0)
              + " lists "
              + listed.keySet()
              + ", not the "
              + others
              + " the index lists; refusing the download");
    }
    for (Map.Entry<String, String> e : listed.entrySet()) {
      if (!e.getValue().equals(sp.sha256().get(e.getKey()))) {
        throw new KernelException(
            where(release)
                + ": "
                + e.getKey()
                + " does not match the Checksums-Sha256 of "
                + dscs.get(0));
      }
    }
  }

  static String sha256(Path f) throws IOException {
    MessageDigest md = Digests.sha256Digest();
    try (InputStream in = Files.newInputStream(f)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
