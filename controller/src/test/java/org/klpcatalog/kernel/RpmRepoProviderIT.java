package org.klpcatalog.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.rpm.Signer;

/**
 * The rpm-repo provider against real yum repositories (rpmbuild packages signed with rpmsign,
 * createrepo_c metadata, repomd.xml signed with gpg) served over HTTP on loopback: what is signed
 * by the configured keys is accepted, anything else refused with a message saying what to fix, and
 * trees are cached by origin and content, never by release alone.
 */
class RpmRepoProviderIT {
  static final String RELEASE = "5.14.0-427.13.1.el9_4.x86_64";

  @TempDir static Path keys;
  static Signer keyA;
  static Signer keyB;

  @BeforeAll
  static void keys() throws Exception {
    for (String tool :
        List.of(
            "gpg",
            "gpgv",
            "rpmbuild",
            "rpmsign",
            "rpmkeys",
            "createrepo_c",
            "rpm2archive",
            "tar")) {
      Tools.require(tool);
    }
    keyA = Signer.throwaway(keys.resolve("a"));
    keyB = Signer.throwaway(keys.resolve("b"));
    keyA.exportPublicKey(keys.resolve("a"));
    keyB.exportPublicKey(keys.resolve("b"));
  }

  static Path publicKey(Signer s) {
    return keys.resolve(s == keyA ? "a" : "b").resolve(Signer.PUBLIC_KEY);
  }

  /** How to make a test repository. */
  record Repo(String content, Signer packageKey, Signer metadataKey) {
    static Repo signedBy(Signer key, String content) {
      return new Repo(content, key, key);
    }
  }

  /**
   * A yum repository with kernel-devel and kernel-core for {@link #RELEASE}, whose .config says
   * {@code content}; packages and repomd.xml signed as {@code repo} says (null: unsigned).
   */
  static Path repository(Path dir, Repo repo) throws Exception {
    Path top = dir.resolve("rpmbuild");
    Path spec = dir.resolve("kernel.spec");
    Files.createDirectories(dir);
    Files.writeString(
        spec,
        String.join(
            "\n",
            "Name: kernel",
            "Version: 5.14.0",
            "Release: 427.13.1.el9_4",
            "Summary: test kernel",
            "License: GPL-2.0-only",
            "%description",
            "test",
            "%package devel",
            "Summary: headers",
            "%description devel",
            "headers",
            "%package core",
            "Summary: image",
            "%description core",
            "image",
            "%install",
            "mkdir -p %{buildroot}/usr/src/kernels/"
                + RELEASE
                + " %{buildroot}/lib/modules/"
                + RELEASE,
            "echo 'KERNELRELEASE = "
                + RELEASE
                + "' > %{buildroot}/usr/src/kernels/"
                + RELEASE
                + "/Makefile",
            "echo 'CONFIG_LIVEPATCH=y # "
                + repo.content()
                + "' > %{buildroot}/usr/src/kernels/"
                + RELEASE
                + "/.config",
            "echo 'vmlinuz "
                + repo.content()
                + "' > %{buildroot}/lib/modules/"
                + RELEASE
                + "/vmlinuz",
            "%files devel",
            "/usr/src/kernels/" + RELEASE,
            "%files core",
            "/lib/modules/" + RELEASE,
            ""));
    Command.of(
            "rpmbuild",
            "-bb",
            "--quiet",
            "--define",
            "_topdir " + top,
            "--define",
            "_build_id_links none",
            "--target",
            "x86_64",
            spec.toString())
        .check();
    Path out = dir.resolve("repo");
    Files.createDirectories(out.resolve("Packages"));
    try (Stream<Path> s = Files.walk(top.resolve("RPMS"))) {
      for (Path rpm : s.filter(p -> p.toString().endsWith(".rpm")).toList()) {
        Files.copy(rpm, out.resolve("Packages").resolve(rpm.getFileName()));
      }
    }
    if (repo.packageKey() != null) {
      try (Stream<Path> s = Files.list(out.resolve("Packages"))) {
        repo.packageKey().signRpms(s.toList(), 1_700_000_000L);
      }
    }
    metadata(out, repo.metadataKey());
    return out;
  }

  /** (Re)writes the repository's metadata, signed with {@code key} unless null. */
  static void metadata(Path repo, Signer key) throws Exception {
    Command.of("createrepo_c", "--quiet", "--no-database", repo.toString()).check();
    Files.deleteIfExists(repo.resolve("repodata/repomd.xml.asc"));
    if (key != null) {
      key.signDetached(repo.resolve("repodata/repomd.xml"), 1_700_000_000L);
    }
  }

  static Path rpm(Path repo, String name) throws IOException {
    try (Stream<Path> s = Files.list(repo.resolve("Packages"))) {
      return s.filter(p -> p.getFileName().toString().startsWith(name + "-5"))
          .findFirst()
          .orElseThrow();
    }
  }

  /** A static file server on loopback that counts requests per path. */
  static final class Server implements AutoCloseable {
    final HttpServer http;
    final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();

    Server(Path dir) throws IOException {
      http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      http.createContext(
          "/",
          exchange -> {
            String path = exchange.getRequestURI().getPath();
            requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            Path file = dir.resolve(path.substring(1)).normalize();
            if (!file.startsWith(dir) || !Files.isRegularFile(file)) {
              exchange.sendResponseHeaders(404, -1);
              exchange.close();
              return;
            }
            byte[] body = Files.readAllBytes(file);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          });
      http.start();
    }

    URI url() {
      return URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/");
    }

    int packageDownloads() {
      return requests.entrySet().stream()
          .filter(e -> e.getKey().endsWith(".rpm"))
          .mapToInt(e -> e.getValue().get())
          .sum();
    }

    @Override
    public void close() {
      http.stop(0);
    }
  }

  static ProviderSpec.RpmRepo el9(URI url, Signer... trusted) {
    return new ProviderSpec.RpmRepo(
        "el9", url, Stream.of(trusted).map(RpmRepoProviderIT::publicKey).toList(), true);
  }

  static Kernel kernel(String release) {
    return Kernel.of(release, "", "el9");
  }

  @Test
  void aSignedRepositoryIsAcceptedAndItsTreesAreReusedByContent(@TempDir Path tmp)
      throws Exception {
    try (Server server = new Server(repository(tmp.resolve("a"), Repo.signedBy(keyA, "A")))) {
      KernelTree t =
          new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
              .provide(kernel(RELEASE), true);
      assertThat(t.provider()).isEqualTo("el9");
      assertThat(t.headers())
          .startsWith(tmp.resolve("cache/rpm-repo/" + RELEASE))
          .endsWith(Path.of("root/usr/src/kernels/" + RELEASE));
      assertThat(Files.readString(t.headers().resolve(".config")))
          .isEqualTo("CONFIG_LIVEPATCH=y # A\n");
      assertThat(t.image())
          .get()
          .satisfies(p -> assertThat(Files.readString(p)).isEqualTo("vmlinuz A\n"));
      assertThat(t.toolchain())
          .startsWith("rpm-repo " + server.url() + " kernel-devel-" + RELEASE + " sha256:");
      assertThat(t.identity()).matches("[0-9a-f]{64}");
      assertThat(server.packageDownloads()).isEqualTo(2);
      // Another run asks the repository what the release's packages are, finds the trees made of
      // exactly those, and downloads no package.
      KernelTree again =
          new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
              .provide(kernel(RELEASE), true);
      assertThat(again).isEqualTo(t);
      assertThat(server.packageDownloads()).isEqualTo(2);
      // Headers alone have an identity of their own (the build cache's), the same tree.
      KernelTree headers =
          new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
              .provide(kernel(RELEASE), false);
      assertThat(headers.headers()).isEqualTo(t.headers());
      assertThat(headers.image()).isEmpty();
      assertThat(headers.identity()).isNotEqualTo(t.identity());
      assertThat(tmp.resolve("cache/rpm-repo/" + RELEASE))
          .isDirectoryNotContaining(p -> p.toString().endsWith(".partial"));
    }
  }

  @Test
  void aFileRepositoryIsReadInPlace(@TempDir Path tmp) throws Exception {
    Path repo = repository(tmp.resolve("a"), Repo.signedBy(keyA, "A"));
    KernelTree t =
        new RpmRepoProvider(
                new ProviderSpec.RpmRepo("el9", repo.toUri(), List.of(publicKey(keyA)), false),
                tmp.resolve("cache"))
            .provide(kernel(RELEASE), false);
    assertThat(Files.readString(t.headers().resolve(".config")))
        .isEqualTo("CONFIG_LIVEPATCH=y # A\n");
  }

  @Test
  void aTreeFromAnotherOriginIsNeverReusedForTheSameRelease(@TempDir Path tmp) throws Exception {
    Path cache = tmp.resolve("cache");
    try (Server poisoned =
            new Server(repository(tmp.resolve("a"), Repo.signedBy(keyA, "poisoned")));
        Server good = new Server(repository(tmp.resolve("b"), Repo.signedBy(keyB, "good")))) {
      KernelTree fromA =
          new RpmRepoProvider(el9(poisoned.url(), keyA), cache).provide(kernel(RELEASE), false);
      assertThat(Files.readString(fromA.headers().resolve(".config"))).contains("poisoned");
      // The operator corrects the URL and the key: the same release now comes from B.
      KernelTree fromB =
          new RpmRepoProvider(el9(good.url(), keyB), cache).provide(kernel(RELEASE), false);
      assertThat(Files.readString(fromB.headers().resolve(".config"))).contains("good");
      assertThat(fromB.headers()).isNotEqualTo(fromA.headers());
      assertThat(fromB.identity()).isNotEqualTo(fromA.identity());
      assertThat(good.packageDownloads()).isEqualTo(1);
      // Trusting one more key changes the origin too: the tree is made again, not taken from the
      // cache.
      KernelTree moreKeys =
          new RpmRepoProvider(el9(good.url(), keyB, keyA), cache).provide(kernel(RELEASE), false);
      assertThat(moreKeys.identity()).isNotEqualTo(fromB.identity());
      assertThat(good.packageDownloads()).isEqualTo(2);
    }
  }

  @Test
  void aPackageTheRepositoryChangedGivesANewTree(@TempDir Path tmp) throws Exception {
    Path cache = tmp.resolve("cache");
    Path dir = tmp.resolve("a");
    Path repo = repository(dir, Repo.signedBy(keyA, "first"));
    try (Server server = new Server(repo)) {
      KernelTree first =
          new RpmRepoProvider(el9(server.url(), keyA), cache).provide(kernel(RELEASE), false);
      // Same URL, same key, same release, other signed content.
      Path again = repository(tmp.resolve("rebuilt"), Repo.signedBy(keyA, "second"));
      FileTrees.deleteRecursively(repo);
      Files.move(again, repo);
      KernelTree second =
          new RpmRepoProvider(el9(server.url(), keyA), cache).provide(kernel(RELEASE), false);
      assertThat(Files.readString(second.headers().resolve(".config"))).contains("second");
      assertThat(second.identity()).isNotEqualTo(first.identity());
    }
  }

  @Test
  void unsignedMetadataIsRefused(@TempDir Path tmp) throws Exception {
    try (Server server = new Server(repository(tmp.resolve("a"), new Repo("A", keyA, null)))) {
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
                      .provide(kernel(RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessage(
              "kernel "
                  + RELEASE
                  + " (provider el9, "
                  + server.url()
                  + "): repodata/repomd.xml is not signed (there is no repodata/repomd.xml.asc);"
                  + " only repositories whose metadata is signed with a key of"
                  + " kernels.providers.el9.gpgKeys are used: sign it (gpg --detach-sign --armor"
                  + " repodata/repomd.xml), or correct the url");
      assertThat(server.packageDownloads()).isZero();
    }
  }

  @Test
  void metadataSignedByAnotherKeyIsRefused(@TempDir Path tmp) throws Exception {
    try (Server server = new Server(repository(tmp.resolve("a"), new Repo("A", keyA, keyB)))) {
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
                      .provide(kernel(RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessageStartingWith(
              "kernel "
                  + RELEASE
                  + " (provider el9, "
                  + server.url()
                  + "): the signature of repodata/repomd.xml is not valid for a key of"
                  + " kernels.providers.el9.gpgKeys (NO_PUBKEY ")
          .hasMessageEndingWith(
              "): the repository is signed by another key or was changed; correct the url or the"
                  + " keys");
    }
  }

  @Test
  void metadataChangedAfterSigningIsRefused(@TempDir Path tmp) throws Exception {
    Path repo = repository(tmp.resolve("a"), Repo.signedBy(keyA, "A"));
    Path repomd = repo.resolve("repodata/repomd.xml");
    Files.writeString(repomd, Files.readString(repomd).replace("<revision>", "<revision>1"));
    try (Server server = new Server(repo)) {
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
                      .provide(kernel(RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessageContaining(
              "the signature of repodata/repomd.xml is not valid for a key of"
                  + " kernels.providers.el9.gpgKeys (BADSIG ");
    }
  }

  @Test
  void anUnsignedPackageIsRefused(@TempDir Path tmp) throws Exception {
    Path cache = tmp.resolve("cache");
    try (Server server = new Server(repository(tmp.resolve("a"), new Repo("A", null, keyA)))) {
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), cache)
                      .provide(kernel(RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessage(
              "kernel "
                  + RELEASE
                  + " (provider el9, "
                  + server.url()
                  + "): kernel-devel-"
                  + RELEASE
                  + ".rpm is not signed by a key of kernels.providers.el9.gpgKeys (it carries no"
                  + " signature); only packages signed with those keys are used: correct the url or"
                  + " the keys");
      // Nothing was left in the cache to be found later.
      try (Stream<Path> s = Files.walk(cache)) {
        assertThat(s.filter(Files::isRegularFile)).isEmpty();
      }
    }
  }

  @Test
  void aPackageSignedByAnotherKeyIsRefused(@TempDir Path tmp) throws Exception {
    try (Server server = new Server(repository(tmp.resolve("a"), new Repo("A", keyB, keyA)))) {
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
                      .provide(kernel(RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessageContaining(
              "kernel-devel-"
                  + RELEASE
                  + ".rpm is not signed by a key of kernels.providers.el9.gpgKeys (")
          .hasMessageContaining("Signature, key ID ")
          .hasMessageContaining("NOKEY");
    }
  }

  @Test
  void aPackageWhoseBytesChangedIsRefused(@TempDir Path tmp) throws Exception {
    Path repo = repository(tmp.resolve("a"), Repo.signedBy(keyA, "A"));
    Files.write(rpm(repo, "kernel-devel"), new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
    try (Server server = new Server(repo)) {
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
                      .provide(kernel(RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessageStartingWith(
              "kernel "
                  + RELEASE
                  + " (provider el9, "
                  + server.url()
                  + "): kernel-devel-"
                  + RELEASE
                  + ".rpm does not match the repository's checksum (sha256 ");
      // Metadata made again over the changed package and signed with the repository's key: the
      // package's own signature still refuses it.
      metadata(repo, keyA);
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
                      .provide(kernel(RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessageContaining(
              "kernel-devel-"
                  + RELEASE
                  + ".rpm is not signed by a key of kernels.providers.el9.gpgKeys (");
    }
  }

  @Test
  void aReleaseTheRepositoryLacksIsNamed(@TempDir Path tmp) throws Exception {
    try (Server server = new Server(repository(tmp.resolve("a"), Repo.signedBy(keyA, "A")))) {
      assertThatThrownBy(
              () ->
                  new RpmRepoProvider(el9(server.url(), keyA), tmp.resolve("cache"))
                      .provide(kernel("5.14.0-1.el9.x86_64"), false))
          .isInstanceOf(KernelException.class)
          .hasMessage(
              "kernel 5.14.0-1.el9.x86_64 (provider el9, "
                  + server.url()
                  + "): the repository has no kernel-devel"
                  + " for 5.14.0-1.el9.x86_64; check the release name and the provider's url");
    }
  }

  @Test
  void plainHttpNeedsToBeAllowed(@TempDir Path tmp) throws Exception {
    ProviderSpec.RpmRepo spec =
        new ProviderSpec.RpmRepo(
            "el9", URI.create("http://127.0.0.1:9/"), List.of(publicKey(keyA)), false);
    assertThatThrownBy(
            () -> new RpmRepoProvider(spec, tmp.resolve("cache")).provide(kernel(RELEASE), false))
        .isInstanceOf(KernelException.class)
        .hasMessageEndingWith(
            ": only https:// and file:// repositories are used (http:// only with"
                + " kernels.providers.el9.allowHttp: true)");
  }
}
