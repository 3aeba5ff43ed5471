package org.klpcatalog.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.exec.Command;

/**
 * Debian kernels: {@code linux-headers-<release>} with the {@code -common} headers and the
 * {@code linux-kbuild} tools of the same version, and for QA {@code linux-image-<release>}. The
 * packages are fetched with {@code apt-get download} (apt checks them against the archive's
 * signed indexes), never installed, and unpacked with {@code dpkg-deb -x} into the cache, one
 * directory per release, made complete before it is renamed into place.
 */
public final class DebianProvider implements KernelProvider {
  private static final Pattern COMMON = Pattern.compile("(linux-headers-[0-9.]+-[0-9]+-common) \\(= ([^)]+)\\)");
  private static final Pattern KBUILD = Pattern.compile("(linux-kbuild-[0-9.]+)(?: \\(>= ([^)]+)\\))?");

  private final Path cache;
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  public DebianProvider(Path cache) {
    this.cache = cache.resolve("debian");
  }

  @Override
  public String name() {
    return "debian";
  }

  @Override
  public KernelTree provide(Kernel kernel, boolean withImage) throws KernelException, InterruptedException {
    String release = kernel.release();
    synchronized (locks.computeIfAbsent(release, r -> new Object())) {
      try {
        Path dir = cache.resolve(release);
        Path headers = dir.resolve("headers");
        if (!Files.isRegularFile(headers.resolve("STAMP"))) {
          provisionHeaders(release, headers);
        }
        Path src = headers.resolve("root/usr/src/linux-headers-" + release);
        verifyHeaders(release, src);
        Optional<Path> image = Optional.empty();
        Optional<Path> modules = Optional.empty();
        if (withImage) {
          Path img = dir.resolve("image");
          if (!Files.isRegularFile(img.resolve("STAMP"))) {
            provisionImage(release, img);
          }
          Path vmlinuz = img.resolve("root/boot/vmlinuz-" + release);
          Path mods = img.resolve("root/lib/modules/" + release);
          if (!Files.isRegularFile(vmlinuz) || !Files.isDirectory(mods)) {
            throw new KernelException("kernel " + release + " (provider debian): linux-image-" + release
                + " has no boot/vmlinuz-" + release + " or lib/modules/" + release);
          }
          image = Optional.of(vmlinuz);
          modules = Optional.of(mods);
        }
        String toolchain = Files.readString(headers.resolve("STAMP"), StandardCharsets.UTF_8).strip();
        return new KernelTree(release, name(), src, image, modules, toolchain);
      } catch (IOException e) {
        throw new KernelException("kernel " + release + " (provider debian): " + e.getMessage(), e);
      }
    }
  }

  private void provisionHeaders(String release, Path target) throws IOException, InterruptedException, KernelException {
    Path work = fresh(target);
    Path debs = work.resolve("debs");
    Files.createDirectories(debs);
    Path headersDeb = download(release, debs, "linux-headers-" + release);
    String version = field(headersDeb, "Version");
    String depends = field(headersDeb, "Depends");
    Matcher common = COMMON.matcher(depends);
    Matcher kbuild = KBUILD.matcher(depends);
    if (!common.find() || !kbuild.find()) {
      throw new KernelException("kernel " + release + " (provider debian): linux-headers-" + release + " " + version
          + " does not depend on a -common headers and a linux-kbuild package (Depends: " + depends + ")");
    }
    List<Path> all = new ArrayList<>();
    all.add(headersDeb);
    all.add(download(release, debs, common.group(1) + "=" + common.group(2)));
    // Like apt on a Debian host: one linux-kbuild serves every headers package of the series, the
    // archive's current one, as long as it is as new as the headers ask.
    Path kbuildDeb = download(release, debs, kbuild.group(1));
    String kbuildVersion = field(kbuildDeb, "Version");
    if (kbuild.group(2) != null
        && !Command.of("dpkg", "--compare-versions", kbuildVersion, "ge", kbuild.group(2)).run().ok()) {
      throw new KernelException("kernel " + release + " (provider debian): " + kbuild.group(1) + " " + kbuildVersion
          + " is older than the " + kbuild.group(2) + " the headers need");
    }
    all.add(kbuildDeb);
    Path root = work.resolve("root");
    for (Path deb : all) {
      Command.of("dpkg-deb", "-x", deb.toString(), root.toString()).timeout(Duration.ofMinutes(5)).check();
    }
    // The flavour's Makefile includes the -common one by absolute path; point it where the tree
    // will live in the cache (the partial directory is renamed into place below).
    Path makefile = root.resolve("usr/src/linux-headers-" + release + "/Makefile");
    String text = Files.readString(makefile, StandardCharsets.UTF_8);
    Path finalRoot = target.toAbsolutePath().getParent().toRealPath().resolve(target.getFileName()).resolve("root");
    Files.writeString(makefile, text.replace("include /usr/src/", "include " + finalRoot.resolve("usr/src") + "/"),
        StandardCharsets.UTF_8);
    verifyHeaders(release, root.resolve("usr/src/linux-headers-" + release));
    String gcc = compilerVersion(root.resolve("usr/src/linux-headers-" + release));
    Files.writeString(work.resolve("STAMP"), "debian linux-headers-" + release + " " + version + ", " + kbuild.group(1)
        + " " + kbuildVersion + "; " + gcc + "\n",
        StandardCharsets.UTF_8);
    deleteRecursively(debs);
    commit(work, target);
  }

  private void provisionImage(String release, Path target) throws IOException, InterruptedException, KernelException {
    Path work = fresh(target);
    Path debs = work.resolve("debs");
    Files.createDirectories(debs);
    Path deb = download(release, debs, "linux-image-" + release);
    Command.of("dpkg-deb", "-x", deb.toString(), work.resolve("root").toString()).timeout(Duration.ofMinutes(5)).check();
    // Debian's images ship no modules.dep; QA's modprobe needs one.
    Path mods = work.resolve("root/lib/modules/" + release);
    if (Files.isDirectory(mods) && Command.which("depmod").isPresent()) {
      Command.of("depmod", "-b", work.resolve("root").toString(), release).timeout(Duration.ofMinutes(5)).check();
    }
    Files.writeString(work.resolve("STAMP"), "debian linux-image-" + release + " " + field(deb, "Version") + "\n",
        StandardCharsets.UTF_8);
    deleteRecursively(debs);
    commit(work, target);
  }

  private static Path download(String release, Path dir, String pkg) throws IOException, InterruptedException, KernelException {
    if (Command.which("apt-get").isEmpty() || Command.which("dpkg-deb").isEmpty()) {
      throw new KernelException("kernel " + release + " (provider debian): apt-get and dpkg-deb are needed to fetch "
          + pkg + "; run on Debian or Ubuntu, or use the rpm-repo provider");
    }
    Command.Result r = Command.of("apt-get", "download", "-q", pkg).in(dir).timeout(Duration.ofMinutes(15)).run();
    if (!r.ok()) {
      throw new KernelException("kernel " + release + " (provider debian): apt-get cannot download " + pkg
          + "; check the release name, and that apt's package lists are current (apt-get update):\n"
          + Command.tail(r.output(), 5));
    }
    String base = pkg.replaceAll("=.*", "");
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(base + "_") && p.toString().endsWith(".deb"))
          .findFirst()
          .orElseThrow(() -> new IOException("apt-get download left no " + base + "_*.deb in " + dir));
    }
  }

  private static String field(Path deb, String field) throws IOException, InterruptedException {
    return Command.of("dpkg-deb", "-f", deb.toString(), field).check().strip();
  }

  private static void verifyHeaders(String release, Path src) throws IOException, KernelException {
    Path vars = src.resolve(".kernelvariables");
    if (!Files.isRegularFile(vars) || !Files.isRegularFile(src.resolve("Module.symvers"))
        || !Files.isRegularFile(src.resolve(".config"))) {
      throw new KernelException("kernel " + release + " (provider debian): " + src
          + " is not a complete kbuild tree (no .kernelvariables, .config or Module.symvers)");
    }
    String text = Files.readString(vars, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("KERNELRELEASE\\s*=\\s*(\\S+)").matcher(text);
    if (!m.find() || !m.group(1).equals(release)) {
      throw new KernelException("kernel " + release + " (provider debian): the headers are for "
          + (m.find(0) ? m.group(1) : "an unknown release") + ", not " + release);
    }
  }

  private static String compilerVersion(Path src) throws IOException, InterruptedException {
    String vars = Files.readString(src.resolve(".kernelvariables"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("\\)gcc-(\\d+)").matcher(vars);
    String gcc = m.find() ? "gcc-" + m.group(1) : "gcc";
    if (Command.which(gcc).isEmpty()) {
      return gcc + " (not installed)";
    }
    return Command.of(gcc, "--version").check().lines().findFirst().orElse(gcc);
  }

  private static Path fresh(Path target) throws IOException {
    Path work = target.resolveSibling(target.getFileName() + ".partial");
    if (Files.exists(work)) {
      deleteRecursively(work);
    }
    Files.createDirectories(work);
    return work;
  }

  private static void commit(Path work, Path target) throws IOException {
    if (Files.exists(target)) {
      deleteRecursively(target);
    }
    Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
  }

  static void deleteRecursively(Path p) throws IOException {
    KernelFiles.deleteRecursively(p);
  }
}
