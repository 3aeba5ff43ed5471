package org.klpcatalog.qa;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.klpcatalog.build.BuildCache;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelTree;

/**
 * The guest's root filesystem, as an initramfs in two parts. The base, one per kernel and set of
 * signing keys (cached by content): a static busybox, the host's {@code rpm} with the libraries it
 * links and its configuration, an rpm database holding the signing keys and the guest runtime
 * packages ({@code kpatch} with the kpatch commands, and the shell), and the kernel's modules the
 * patches target with their dependencies. The overlay, one per job: {@code /init}, the tests, the
 * packages under test. The kernel unpacks both, the overlay last.
 *
 * <p>In the guest rpm verifies every package's signature and digests ({@code %_pkgverify_level
 * all}) against the imported keys, runs the packages' real scriptlets with busybox sh, and resolves
 * their dependencies ({@code Requires: kpatch}, {@code Conflicts}) as on a host.
 */
public final class GuestImage {
  /** Bumped when the base's layout changes, so cached bases are rebuilt. */
  private static final String FORMAT = "guest-base 1";

  /** Modules every guest carries for the tests' own use. */
  static final List<String> TEST_MODULES = List.of("loop");

  private GuestImage() {}

  /** What QA needs on the host: qemu, a static busybox, rpm and rpmbuild. */
  public static List<String> missingTools() {
    List<String> missing = new ArrayList<>();
    for (String t : List.of("qemu-system-x86_64", "rpm", "rpmbuild", "ldd")) {
      if (Command.which(t).isEmpty()) {
        missing.add(t);
      }
    }
    if (busybox().isEmpty()) {
      missing.add("busybox (static; Debian's busybox-static)");
    }
    return missing;
  }

  static Optional<Path> busybox() {
    for (Path p : List.of(Path.of("/bin/busybox"), Path.of("/usr/bin/busybox"))) {
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Command.which("busybox");
  }

  /**
   * The base image of a kernel: built once per content under {@code cache} and reused. {@code
   * modules} are the module names (as the kernel spells them) the guest must be able to load.
   */
  public static Path base(
      Path cache, KernelTree kernel, Set<String> modules, List<Path> keys, Path runtime)
      throws IOException, InterruptedException {
    Path busybox = busybox().orElseThrow(() -> new IOException("no static busybox on this host"));
    Path rpm = Command.which("rpm").orElseThrow(() -> new IOException("no rpm on this host"));
    Path modulesDir =
        kernel
            .modules()
            .orElseThrow(
                () -> new IOException("kernel " + kernel.release() + " has no modules directory"));
    Map<String, String> dep = modulesDep(modulesDir);
    Set<String> files = new TreeSet<>();
    for (String m : modules) {
      closure(normal(m), dep, files);
    }
    // Tools of the tests, whatever the patches target: loop devices, so that a test can mount an
    // image it made (a file system fix is tested that way). Absent when the kernel builds it in.
    for (String m : TEST_MODULES) {
      closure(m, dep, files);
    }
    StringBuilder key =
        new StringBuilder(FORMAT)
            .append('\n')
            .append(kernel.release())
            .append('\n')
            .append(kernel.toolchain())
            .append('\n')
            .append(kernel.identity())
            .append('\n')
            .append(BuildCache.sha256(Files.readAllBytes(busybox)))
            .append('\n')
            .append(BuildCache.sha256(Files.readAllBytes(rpm)))
            .append('\n')
            .append(BuildCache.sha256(Files.readAllBytes(runtime)))
            .append('\n');
    files.forEach(f -> key.append("module ").append(f).append('\n'));
    for (Path k : keys) {
      key.append("key ").append(BuildCache.sha256(Files.readAllBytes(k))).append('\n');
    }
    Path dir =
        cache.resolve(
            "base-"
                + BuildCache.sha256(key.toString().getBytes(StandardCharsets.UTF_8))
                    .substring(0, 20));
    Path image = dir.resolve("base.cpio.gz");
    if (Files.isRegularFile(image)) {
      return image;
    }
    Path work = dir.resolveSibling(dir.getFileName() + ".partial-" + ProcessHandle.current().pid());
    FileTrees.deleteRecursively(work);
    Path root = work.resolve("root");
    for (String d :
        List.of(
            "bin",
            "sbin",
            "usr/bin",
            "usr/sbin",
            "usr/lib",
            "proc",
            "sys",
            "dev",
            "tmp",
            "run",
            "root",
            "etc/rpm",
            "var/lib/rpm",
            "var/lib/kpatch",
            "var/tmp")) {
      Files.createDirectories(root.resolve(d));
    }
    // busybox and its applets (the guest's shell is busybox sh).
    Files.copy(busybox, root.resolve("bin/busybox"));
    for (String applet : Command.of(busybox.toString(), "--list").check().split("\n")) {
      applet = applet.strip();
      if (!applet.isEmpty()
          && !applet.equals("busybox")
          && !applet.equals("rpm")
          && !applet.equals("rpm2cpio")
          && !applet.contains("/")) {
        Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
      }
    }
    // rpm, the libraries it links (as ldd resolves them here) and its configuration.
    copy(rpm, root.resolve("usr/bin/rpm"));
    for (String line : Command.of("ldd", rpm.toString()).check().split("\n")) {
      int slash = line.indexOf('/');
      if (slash < 0) {
        continue;
      }
      Path lib = Path.of(line.substring(slash).replaceAll(" \\(0x[0-9a-f]+\\)$", "").strip());
      copy(lib.toRealPath(), root.resolve(lib.toString().substring(1)));
    }
    Path rpmConfig = Path.of("/usr/lib/rpm");
    try (var s = Files.walk(rpmConfig)) {
      for (Path p : s.toList()) {
        String rel = rpmConfig.relativize(p).toString();
        if (rel.startsWith("platform/") && !rel.startsWith("platform/x86_64-linux")) {
          continue;
        }
        Path to = root.resolve("usr/lib/rpm").resolve(rel);
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else if (Files.isRegularFile(p)) {
          copy(p, to);
        }
      }
    }
    Files.writeString(
        root.resolve("etc/rpm/macros"),
        "# klp-catalog QA guest: one database, and no package without a valid signature\n"
            + "# (digests only when the packages under test are unsigned).\n"
            + "%_dbpath /var/lib/rpm\n%_pkgverify_level "
            + (keys.isEmpty() ? "digest" : "all")
            + "\n",
        StandardCharsets.UTF_8);
    String rootArg = root.toAbsolutePath().toString();
    Command.of("rpm", "--root", rootArg, "--dbpath", "/var/lib/rpm", "--initdb").check();
    for (Path k : keys) {
      Command.of(
              "rpm",
              "--root",
              rootArg,
              "--dbpath",
              "/var/lib/rpm",
              "--import",
              k.toAbsolutePath().toString())
          .check();
    }
    List<String> install =
        new ArrayList<>(
            List.of(
                "rpm",
                "--root",
                rootArg,
                "--dbpath",
                "/var/lib/rpm",
                "-i",
                "--nosignature",
                "--ignorearch"));
    try (var s = Files.list(runtime.getParent())) {
      s.filter(p -> p.toString().endsWith(".rpm")).sorted().forEach(p -> install.add(p.toString()));
    }
    Command.of(install).timeout(Duration.ofMinutes(2)).check();
    // The kernel's module index and the target modules with their dependencies.
    Path mods = root.resolve("lib/modules").resolve(kernel.release());
    Files.createDirectories(mods);
    try (var s = Files.list(modulesDir)) {
      for (Path p : s.toList()) {
        if (p.getFileName().toString().startsWith("modules.") && Files.isRegularFile(p)) {
          copy(p, mods.resolve(p.getFileName()));
        }
      }
    }
    for (String f : files) {
      copy(modulesDir.resolve(f), mods.resolve(f));
    }
    Path tmp = work.resolve("base.cpio.gz");
    try (OutputStream out = new BufferedOutputStream(new FastGzip(Files.newOutputStream(tmp)));
        Cpio cpio = new Cpio(out)) {
      cpio.tree(root);
    }
    Files.createDirectories(dir);
    Files.move(tmp, image, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    FileTrees.deleteRecursively(work);
    return image;
  }

  /**
   * Writes a job's initrd: the base, zero-padded to a 512-byte boundary (the kernel looks for the
   * next archive there), then the overlay, uncompressed.
   */
  public static void initrd(Path base, Map<String, byte[]> overlay, Path target)
      throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(target))) {
      long size;
      try (InputStream in = Files.newInputStream(base)) {
        size = in.transferTo(out);
      }
      out.write(new byte[(int) ((512 - size % 512) % 512)]);
      Cpio cpio = new Cpio(out);
      Set<String> dirs = new LinkedHashSet<>();
      for (String name : new TreeMap<>(overlay).keySet()) {
        for (int i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
          dirs.add(name.substring(0, i));
        }
      }
      for (String d : dirs) {
        cpio.directory(d);
      }
      for (Map.Entry<String, byte[]> e : new TreeMap<>(overlay).entrySet()) {
        boolean exec = e.getKey().equals("init") || e.getKey().endsWith(".test");
        cpio.file(e.getKey(), exec ? 0755 : 0644, e.getValue());
      }
      cpio.close();
    }
  }

  /** modules.dep: module path -> its dependencies' paths (space separated). */
  static Map<String, String> modulesDep(Path modulesDir) throws IOException {
    Map<String, String> dep = new TreeMap<>();
    Path f = modulesDir.resolve("modules.dep");
    if (!Files.isRegularFile(f)) {
      throw new IOException(f + " is missing: the kernel's modules have no index (depmod)");
    }
    for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        dep.put(line.substring(0, colon), line.substring(colon + 1).strip());
      }
    }
    return dep;
  }

  private static void closure(String module, Map<String, String> dep, Set<String> out) {
    for (Map.Entry<String, String> e : dep.entrySet()) {
      if (normal(nameOf(e.getKey())).equals(module)) {
        if (out.add(e.getKey())) {
          for (String d : e.getValue().split(" +")) {
            if (!d.isEmpty()) {
              closure(normal(nameOf(d)), dep, out);
            }
          }
        }
        return;
      }
    }
  }

  static String nameOf(String path) {
    String n = path.substring(path.lastIndexOf('/') + 1);
    return n.replaceAll("\\.ko(\\.xz|\\.zst|\\.gz)?$", "");
  }

  static String normal(String module) {
    return module.replace('-', '_');
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
  }

  /** gzip at the fastest level: the image is unpacked once per boot, compressed once per cache. */
  private static final class FastGzip extends GZIPOutputStream {
    FastGzip(OutputStream out) throws IOException {
      super(out, 65536);
      def.setLevel(Deflater.BEST_SPEED);
    }
  }
}
