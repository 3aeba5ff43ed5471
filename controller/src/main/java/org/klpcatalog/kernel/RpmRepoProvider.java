package org.klpcatalog.kernel;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.Repodata;

/**
 * Enterprise Linux kernels from the yum repository an operator configured: {@code kernel-devel}
 * (the kbuild tree under /usr/src/kernels/RELEASE) and, for QA, {@code kernel-core} (vmlinuz and
 * the modules) whose version-release.arch is the kernel release.
 *
 * <p>Verified before anything is unpacked: repomd.xml carries a detached signature (repomd.xml.asc)
 * that gpgv accepts for one of the provider's keys; the primary metadata matches repomd.xml's
 * checksum; each package matches the primary metadata's checksum and carries an rpm signature that
 * rpmkeys accepts for one of the keys (digests alone are refused). The metadata is read once per
 * instance (one run). Each package is unpacked (rpm2archive, tar) into a tree of its own, keyed by
 * the URL, the keys and the package's checksum ({@link TreeKey}).
 */
public final class RpmRepoProvider extends OncePerRunProvider {
  private static final List<String> STRONG_CHECKSUMS = List.of("sha256", "sha512");

  private final ProviderSpec.RpmRepo spec;
  private final Path cache;
  private final OkHttpClient http;
  private Metadata metadata;

  /** The verified metadata: the packages of the repository, and the keys' identity. */
  private record Metadata(List<Repodata.RpmEntry> entries, String keys) {}

  /** {@code cache} is the kernels directory shared by every provider. */
  public RpmRepoProvider(ProviderSpec.RpmRepo spec, Path cache) {
    this.spec = spec;
    this.cache = cache;
    this.http =
        new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(30))
            .readTimeout(Duration.ofMinutes(5))
            .followRedirects(true)
            // An https:// repository is never followed to http://.
            .followSslRedirects(false)
            .build();
  }

  @Override
  public String name() {
    return spec.name();
  }

  private KernelException unusableKey(String release, OpenPgpKeys.NotAKeyException e) {
    return new KernelException(
        where(release)
            + ": a key of kernels.providers."
            + spec.name()
            + ".gpgKeys is not usable: "
            + e.getMessage());
  }

  @Override
  String where(String release) {
    return "kernel " + release + " (provider " + spec.name() + ", " + spec.base() + ")";
  }

  @Override
  KernelTree fetch(String release, boolean withImage)
      throws IOException, KernelException, InterruptedException {
    checkScheme(release);
    Metadata md = metadata(release);
    Repodata.RpmEntry devel = entry(md, release, "kernel-devel");
    TreeKey develKey = key(md, release, "headers", devel);
    Path develDir = tree(release, develKey, devel);
    Path headers = develDir.resolve("root/usr/src/kernels/" + release);
    if (!Files.isRegularFile(headers.resolve("Makefile"))
        || !Files.isRegularFile(headers.resolve(".config"))) {
      throw new KernelException(
          where(release) + ": kernel-devel has no kbuild tree at usr/src/kernels/" + release);
    }
    Optional<Path> image = Optional.empty();
    Optional<Path> modules = Optional.empty();
    String identity = develKey.hash();
    if (withImage) {
      Repodata.RpmEntry core = entry(md, release, "kernel-core");
      TreeKey coreKey = key(md, release, "image", core);
      Path mods = tree(release, coreKey, core).resolve("root/lib/modules/" + release);
      if (!Files.isRegularFile(mods.resolve("vmlinuz"))) {
        throw new KernelException(
            where(release) + ": kernel-core has no lib/modules/" + release + "/vmlinuz");
      }
      image = Optional.of(mods.resolve("vmlinuz"));
      modules = Optional.of(mods);
      identity = Digests.sha256(develKey.hash() + "\n" + coreKey.hash() + "\n");
    }
    String toolchain = Files.readString(develDir.resolve("STAMP"), StandardCharsets.UTF_8).strip();
    KernelTree tree = new KernelTree(release, name(), headers, image, modules, toolchain, identity);
    return tree;
  }

  private void checkScheme(String release) throws KernelException {
    String scheme = String.valueOf(spec.url().getScheme());
    if (!scheme.equals("https")
        && !scheme.equals("file")
        && !(scheme.equals("http") && spec.allowHttp())) {
      throw new KernelException(
          where(release)
              + ": only https:// and file:// repositories are used (http:// only"
              + " with kernels.providers."
              + spec.name()
              + ".allowHttp: true)");
    }
  }

  /** The origin is the repository's URL and the keys its packages were verified with. */
  private TreeKey key(Metadata md, String release, String part, Repodata.RpmEntry e) {
    return new TreeKey(
        "rpm-repo",
        part,
        release,
        spec.base() + " keys " + md.keys(),
        List.of(
            e.name()
                + "-"
                + e.versionReleaseArch()
                + " "
                + e.location()
                + " "
                + e.checksumType()
                + ":"
                + e.checksum().toLowerCase(Locale.ROOT)));
  }

  private Repodata.RpmEntry entry(Metadata md, String release, String name) throws KernelException {
    return md.entries().stream()
        .filter(x -> x.name().equals(name) && x.versionReleaseArch().equals(release))
        .findFirst()
        .orElseThrow(
            () ->
                new KernelException(
                    where(release)
                        + ": the repository has no "
                        + name
                        + " for "
                        + release
                        + "; check the release name and the provider's url"));
  }

  /** repomd.xml, its signature and the primary metadata, verified once for this instance. */
  private synchronized Metadata metadata(String release)
      throws IOException, KernelException, InterruptedException {
    if (metadata != null) {
      return metadata;
    }
    String base = spec.base();
    String keysId;
    try {
      keysId = RepositoryTrust.identity(spec.gpgKeys());
    } catch (OpenPgpKeys.NotAKeyException e) {
      throw unusableKey(release, e);
    }
    byte[] repomd =
        get(release, base + "repodata/repomd.xml")
            .orElseThrow(
                () ->
                    new KernelException(
                        where(release)
                            + ": there is no repodata/repomd.xml; check the provider's url (the"
                            + " directory holding repodata/)"));
    Optional<byte[]> signature = get(release, base + "repodata/repomd.xml.asc");
    if (signature.isEmpty()) {
      throw new KernelException(
          where(release)
              + ": repodata/repomd.xml is not signed (there is no repodata/repomd.xml.asc); only"
              + " repositories whose metadata is signed with a key of kernels.providers."
              + spec.name()
              + ".gpgKeys are used: sign it (gpg --detach-sign --armor repodata/repomd.xml), or"
              + " correct the url");
    }
    try (RepositoryTrust trust = trust(release)) {
      Optional<String> bad = trust.verifyDetached(repomd, signature.get());
      if (bad.isPresent()) {
        throw new KernelException(
            where(release)
                + ": the signature of repodata/repomd.xml is not valid for a key of"
                + " kernels.providers."
                + spec.name()
                + ".gpgKeys ("
                + bad.get()
                + "): the repository is signed by"
                + " another key or was changed; correct the url or the keys");
      }
    }
    try {
      Repodata.MetadataFile primary =
          Repodata.parseRepomd(repomd, base + "repodata/repomd.xml").stream()
              .filter(m -> m.type().equals("primary"))
              .findFirst()
              .orElseThrow(
                  () ->
                      new KernelException(
                          where(release) + ": repodata/repomd.xml lists no primary metadata"));
      String href = confined(release, primary.href());
      byte[] bytes =
          get(release, base + href)
              .orElseThrow(
                  () ->
                      new KernelException(
                          where(release)
                              + ": "
                              + href
                              + ", which repodata/repomd.xml lists, is missing"));
      verify(release, href, primary.checksumType(), primary.checksum(), bytes);
      List<Repodata.RpmEntry> entries =
          Repodata.parsePrimary(Repodata.uncompress(bytes, href), base + href);
      metadata = new Metadata(entries, keysId);
      return metadata;
    } catch (CorruptRepositoryException e) {
      throw new KernelException(where(release) + ": " + e.getMessage(), e);
    }
  }

  private RepositoryTrust trust(String release)
      throws IOException, InterruptedException, KernelException {
    for (String tool : List.of("gpgv", "rpmkeys")) {
      if (Command.which(tool).isEmpty()) {
        throw new KernelException(
            where(release)
                + ": "
                + tool
                + " is needed to verify the repository's signatures"
                + " (Debian: apt-get install gpgv rpm; Fedora: dnf install gnupg2 rpm)");
      }
    }
    try {
      return RepositoryTrust.of(spec.gpgKeys());
    } catch (OpenPgpKeys.NotAKeyException e) {
      throw unusableKey(release, e);
    }
  }

  /** The tree of one package: made once (downloaded, verified, unpacked), then found by its key. */
  private Path tree(String release, TreeKey key, Repodata.RpmEntry e)
      throws IOException, InterruptedException, KernelException {
    Path dir = key.directory(cache);
    if (Files.isRegularFile(dir.resolve("STAMP"))) {
      return dir;
    }
    String file = e.name() + "-" + e.versionReleaseArch() + ".rpm";
    String location = confined(release, e.location());
    byte[] rpm =
        get(release, spec.base() + location)
            .orElseThrow(
                () ->
                    new KernelException(
                        where(release)
                            + ": "
                            + location
                            + ", which the primary metadata lists, is missing"));
    verify(release, file, e.checksumType(), e.checksum(), rpm);
    Path work = FileTrees.fresh(dir);
    Path pkg = work.resolve(file);
    Files.write(pkg, rpm);
    try (RepositoryTrust trust = trust(release)) {
      Optional<String> bad = trust.verifyRpm(pkg);
      if (bad.isPresent()) {
        FileTrees.deleteRecursively(work);
        throw new KernelException(
            where(release)
                + ": "
                + file
                + " is not signed by a key of kernels.providers."
                + spec.name()
                + ".gpgKeys ("
                + bad.get()
                + "); only packages signed with those keys are used: correct"
                + " the url or the keys");
      }
    }
    unpack(release, pkg, work.resolve("root"));
    Files.delete(pkg);
    String gcc =
        Command.which("gcc").isPresent()
            ? Command.of("gcc", "--version").check().lines().findFirst().orElse("gcc")
            : "gcc (not installed)";
    Files.writeString(
        work.resolve("STAMP"),
        "rpm-repo "
            + spec.base()
            + " "
            + e.name()
            + "-"
            + e.versionReleaseArch()
            + " "
            + e.checksumType()
            + ":"
            + e.checksum()
            + "; "
            + gcc
            + "\n",
        StandardCharsets.UTF_8);
    FileTrees.commit(work, dir);
    return dir;
  }

  /**
   * A location from the signed metadata, relative to the repository and inside it: no scheme, no
   * absolute path, no {@code ..}.
   */
  private String confined(String release, String href) throws KernelException {
    boolean ok =
        !href.isEmpty()
            && !href.startsWith("/")
            && !href.contains("\\")
            && !href.contains(":")
            && !href.contains("?")
            && !href.contains("#")
            && !href.contains("%")
            && Arrays.stream(href.split("/"))
                .noneMatch(s -> s.equals("..") || s.equals(".") || s.isEmpty());
    if (!ok) {
      throw new KernelException(
          where(release)
              + ": the repository's metadata names '"
              + href.replaceAll("\\p{Cntrl}", "?")
              + "', which is not a path inside the repository");
    }
    return href;
  }

  /** The bytes at a URL; empty when the server (or file system) says there is nothing there. */
  private Optional<byte[]> get(String release, String url) throws IOException, KernelException {
    if (url.startsWith("file:")) {
      try {
        return Optional.of(Files.readAllBytes(Path.of(URI.create(url))));
      } catch (NoSuchFileException e) {
        return Optional.empty();
      }
    }
    HttpUrl parsed = HttpUrl.parse(url);
    if (parsed == null) {
      throw new KernelException(where(release) + ": not a URL: " + url);
    }
    try (Response r = http.newCall(new Request.Builder().url(parsed).build()).execute()) {
      if (r.code() == 404 || r.code() == 410) {
        return Optional.empty();
      }
      if (!r.isSuccessful() || r.body() == null) {
        throw new KernelException(where(release) + ": GET " + url + " answered " + r.code());
      }
      return Optional.of(r.body().bytes());
    }
  }

  private void verify(String release, String what, String type, String expected, byte[] bytes)
      throws KernelException {
    if (!STRONG_CHECKSUMS.contains(type)) {
      throw new KernelException(
          where(release)
              + ": "
              + what
              + " has a "
              + type
              + " checksum; only sha256 and sha512"
              + " are accepted (createrepo_c writes sha256)");
    }
    try {
      String actual = Repodata.digest(type, bytes, what);
      if (!actual.equalsIgnoreCase(expected)) {
        throw new KernelException(
            where(release)
                + ": "
                + what
                + " does not match the repository's checksum ("
                + type
                + " "
                + expected
                + ", got "
                + actual
                + ")");
      }
    } catch (CorruptRepositoryException e) {
      throw new KernelException(where(release) + ": " + e.getMessage(), e);
    }
  }

  /** rpm2archive, then tar into {@code root}: the package's files, owned by whoever runs this. */
  private void unpack(String release, Path rpm, Path root)
      throws IOException, InterruptedException, KernelException {
    for (String tool : List.of("rpm2archive", "tar")) {
      if (Command.which(tool).isEmpty()) {
        throw new KernelException(
            where(release)
                + ": "
                + tool
                + " is needed to unpack "
                + rpm.getFileName()
                + " (Debian: apt-get install rpm2cpio tar)");
      }
    }
    Files.createDirectories(root);
    Command.Result a =
        Command.of("rpm2archive", "-n", rpm.toString()).timeout(Duration.ofMinutes(10)).run();
    Path tar = rpm.resolveSibling(rpm.getFileName() + ".tar");
    if (!a.ok() || !Files.isRegularFile(tar)) {
      throw new KernelException(
          where(release)
              + ": cannot unpack "
              + rpm.getFileName()
              + ": "
              + Command.tail(a.output().strip(), 5));
    }
    Command.Result x =
        Command.of(
                "tar",
                "-x",
                "--no-same-owner",
                "--no-overwrite-dir",
                "-f",
                tar.toString(),
                "-C",
                root.toString())
            .timeout(Duration.ofMinutes(10))
            .run();
    Files.deleteIfExists(tar);
    if (!x.ok()) {
      throw new KernelException(
          where(release)
              + ": cannot unpack "
              + rpm.getFileName()
              + ": "
              + Command.tail(x.output().strip(), 5));
    }
  }
}
