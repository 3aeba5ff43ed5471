package org.klpcatalog.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.exec.Command;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.Repodata;

/**
 * Enterprise Linux kernels from a yum repository: {@code kernel-devel} (the kbuild tree under
 * /usr/src/kernels/RELEASE) and, for QA, {@code kernel-core} (vmlinuz and the modules) whose
 * version-release.arch is the kernel release. Metadata and packages are downloaded with OkHttp;
 * every file is checked against the checksum the repository's metadata gives before it is
 * unpacked (rpm2cpio | cpio) into the cache.
 */
public final class RpmRepoProvider implements KernelProvider {
  private final Path cache;
  private final OkHttpClient http;
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  public RpmRepoProvider(Path cache) {
    this.cache = cache.resolve("rpm-repo");
    this.http = new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(30))
        .readTimeout(Duration.ofMinutes(5))
        .followRedirects(true)
        .build();
  }

  @Override
  public String name() {
    return "rpm-repo";
  }

  @Override
  public KernelTree provide(Kernel kernel, boolean withImage) throws KernelException, InterruptedException {
    String release = kernel.release();
    if (kernel.repository().isEmpty()) {
      throw new KernelException("kernel " + release + " (provider rpm-repo): no repository URL in catalog.yaml");
    }
    synchronized (locks.computeIfAbsent(release, r -> new Object())) {
      try {
        Path dir = cache.resolve(release);
        List<String> wanted = withImage ? List.of("kernel-devel", "kernel-core") : List.of("kernel-devel");
        Path stamp = dir.resolve("STAMP-" + String.join("+", wanted));
        if (!Files.isRegularFile(stamp)) {
          provision(kernel, dir, wanted, stamp);
        }
        Path headers = dir.resolve("root/usr/src/kernels/" + release);
        if (!Files.isRegularFile(headers.resolve("Makefile")) || !Files.isRegularFile(headers.resolve(".config"))) {
          throw new KernelException("kernel " + release + " (provider rpm-repo): kernel-devel has no kbuild tree at"
              + " usr/src/kernels/" + release);
        }
        Optional<Path> image = Optional.empty();
        Optional<Path> modules = Optional.empty();
        if (withImage) {
          Path mods = dir.resolve("root/lib/modules/" + release);
          if (!Files.isRegularFile(mods.resolve("vmlinuz"))) {
            throw new KernelException("kernel " + release + " (provider rpm-repo): kernel-core has no lib/modules/"
                + release + "/vmlinuz");
          }
          image = Optional.of(mods.resolve("vmlinuz"));
          modules = Optional.of(mods);
        }
        String toolchain = Files.readString(stamp, StandardCharsets.UTF_8).strip();
        return new KernelTree(release, name(), headers, image, modules, toolchain);
      } catch (IOException e) {
        throw new KernelException("kernel " + release + " (provider rpm-repo): " + e.getMessage(), e);
      }
    }
  }

  private void provision(Kernel kernel, Path dir, List<String> names, Path stamp)
      throws IOException, InterruptedException, KernelException {
    String release = kernel.release();
    String base = kernel.repository().endsWith("/") ? kernel.repository() : kernel.repository() + "/";
    byte[] repomdBytes = get(release, base + "repodata/repomd.xml");
    Repodata.MetadataFile primaryFile;
    List<Repodata.RpmEntry> entries;
    try {
      primaryFile = Repodata.parseRepomd(repomdBytes, base + "repodata/repomd.xml").stream()
          .filter(m -> m.type().equals("primary")).findFirst()
          .orElseThrow(() -> new KernelException("kernel " + release + " (provider rpm-repo): " + base
              + "repodata/repomd.xml lists no primary metadata"));
      byte[] primary = get(release, base + primaryFile.href());
      verify(release, primaryFile.href(), primaryFile.checksumType(), primaryFile.checksum(), primary);
      entries = Repodata.parsePrimary(Repodata.uncompress(primary, primaryFile.href()), base + primaryFile.href());
    } catch (CorruptRepositoryException e) {
      throw new KernelException("kernel " + release + " (provider rpm-repo): " + e.getMessage(), e);
    }
    Path root = dir.resolve("root");
    Files.createDirectories(root);
    List<String> versions = new ArrayList<>();
    for (String name : names) {
      Repodata.RpmEntry e = entries.stream()
          .filter(x -> x.name().equals(name) && x.versionReleaseArch().equals(release)).findFirst()
          .orElseThrow(() -> new KernelException("kernel " + release + " (provider rpm-repo): " + base
              + " has no " + name + " for " + release));
      byte[] rpm = get(release, base + e.location());
      verify(release, e.location(), e.checksumType(), e.checksum(), rpm);
      Path file = dir.resolve(name + ".rpm");
      Files.write(file, rpm);
      unpack(release, file, root);
      Files.delete(file);
      versions.add(name + "-" + e.versionReleaseArch());
    }
    String gcc = Command.which("gcc").isPresent()
        ? Command.of("gcc", "--version").check().lines().findFirst().orElse("gcc") : "gcc (not installed)";
    Path tmp = stamp.resolveSibling(stamp.getFileName() + ".tmp");
    Files.writeString(tmp, "rpm-repo " + String.join(" ", versions) + "; " + gcc + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, stamp, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private byte[] get(String release, String url) throws IOException, KernelException {
    HttpUrl parsed = HttpUrl.parse(url);
    if (parsed == null) {
      if (url.startsWith("file://")) {
        return Files.readAllBytes(Path.of(java.net.URI.create(url)));
      }
      throw new KernelException("kernel " + release + " (provider rpm-repo): not a URL: " + url);
    }
    try (Response r = http.newCall(new Request.Builder().url(parsed).build()).execute()) {
      if (!r.isSuccessful() || r.body() == null) {
        throw new KernelException("kernel " + release + " (provider rpm-repo): GET " + url + " answered " + r.code());
      }
      return r.body().bytes();
    }
  }

  private static void verify(String release, String what, String type, String expected, byte[] bytes)
      throws KernelException {
    try {
      String actual = Repodata.digest(type, bytes, what);
      if (!actual.equalsIgnoreCase(expected)) {
        throw new KernelException("kernel " + release + " (provider rpm-repo): " + what + " does not match the"
            + " repository's checksum (" + type + " " + expected + ", got " + actual + ")");
      }
    } catch (CorruptRepositoryException e) {
      throw new KernelException("kernel " + release + " (provider rpm-repo): " + e.getMessage(), e);
    }
  }

  /** rpm2cpio FILE | cpio -idm, inside {@code root}, without a shell. */
  private static void unpack(String release, Path rpm, Path root) throws IOException, InterruptedException, KernelException {
    if (Command.which("rpm2cpio").isEmpty() || Command.which("cpio").isEmpty()) {
      throw new KernelException("kernel " + release + " (provider rpm-repo): rpm2cpio and cpio are needed to unpack "
          + rpm.getFileName());
    }
    org.klpcatalog.exec.ToolRegistry.checkDeclared("rpm2cpio");
    org.klpcatalog.exec.ToolRegistry.checkDeclared("cpio");
    List<Process> pipeline = ProcessBuilder.startPipeline(List.of(
        new ProcessBuilder("rpm2cpio", rpm.toString()).redirectError(ProcessBuilder.Redirect.DISCARD),
        new ProcessBuilder("cpio", "-idm", "--quiet", "--no-absolute-filenames").directory(root.toFile())
            .redirectErrorStream(true)));
    Process last = pipeline.get(pipeline.size() - 1);
    String out;
    try (InputStream in = last.getInputStream(); OutputStream ignored = OutputStream.nullOutputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    for (Process p : pipeline) {
      if (p.waitFor() != 0) {
        throw new KernelException("kernel " + release + " (provider rpm-repo): cannot unpack " + rpm.getFileName()
            + ": " + out.strip());
      }
    }
  }
}
