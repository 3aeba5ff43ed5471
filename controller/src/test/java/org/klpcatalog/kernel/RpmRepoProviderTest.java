package org.klpcatalog.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;

/**
 * The rpm-repo provider against a real yum repository (rpmbuild packages, createrepo_c
 * metadata) served over HTTP on loopback: download with OkHttp, checksums, unpacking.
 */
class RpmRepoProviderTest {
  static final String RELEASE = "5.14.0-427.13.1.el9_4.x86_64";

  /** A yum repository with kernel-devel and kernel-core for {@link #RELEASE}. */
  static Path repository(Path tmp) throws Exception {
    Path top = tmp.resolve("rpmbuild");
    Path spec = tmp.resolve("kernel.spec");
    Files.writeString(spec, String.join("\n",
        "Name: kernel", "Version: 5.14.0", "Release: 427.13.1.el9_4", "Summary: test kernel", "License: GPL-2.0-only",
        "%description", "test", "%package devel", "Summary: headers", "%description devel", "headers",
        "%package core", "Summary: image", "%description core", "image",
        "%install",
        "mkdir -p %{buildroot}/usr/src/kernels/" + RELEASE + " %{buildroot}/lib/modules/" + RELEASE,
        "echo 'KERNELRELEASE = " + RELEASE + "' > %{buildroot}/usr/src/kernels/" + RELEASE + "/Makefile",
        "echo 'CONFIG_LIVEPATCH=y' > %{buildroot}/usr/src/kernels/" + RELEASE + "/.config",
        "echo 'vmlinuz' > %{buildroot}/lib/modules/" + RELEASE + "/vmlinuz",
        "%files devel", "/usr/src/kernels/" + RELEASE, "%files core", "/lib/modules/" + RELEASE, ""));
    Command.of("rpmbuild", "-bb", "--quiet", "--define", "_topdir " + top, "--define", "_build_id_links none",
        "--target", "x86_64", spec.toString()).check();
    Path repo = tmp.resolve("repo");
    Files.createDirectories(repo);
    try (Stream<Path> s = Files.walk(top.resolve("RPMS"))) {
      for (Path rpm : s.filter(p -> p.toString().endsWith(".rpm")).toList()) {
        Files.copy(rpm, repo.resolve(rpm.getFileName()));
      }
    }
    Command.of("createrepo_c", "--quiet", repo.toString()).check();
    return repo;
  }

  static HttpServer serve(Path dir) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      Path file = dir.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
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
    server.start();
    return server;
  }

  static Kernel kernel(HttpServer server, String release) {
    return Kernel.of(release, "", "rpm-repo").withRepository("http://127.0.0.1:" + server.getAddress().getPort() + "/");
  }

  @Test
  void downloadsVerifiesAndUnpacksKernelDevelAndCore(@TempDir Path tmp) throws Exception {
    Tools.require("rpmbuild");
    Tools.require("createrepo_c");
    Tools.require("rpm2cpio");
    Tools.require("cpio");
    HttpServer server = serve(repository(tmp));
    try {
      RpmRepoProvider provider = new RpmRepoProvider(tmp.resolve("cache"));
      KernelTree t = provider.provide(kernel(server, RELEASE), true);
      assertThat(t.headers()).isEqualTo(tmp.resolve("cache/rpm-repo/" + RELEASE + "/root/usr/src/kernels/" + RELEASE));
      assertThat(Files.readString(t.headers().resolve(".config"))).isEqualTo("CONFIG_LIVEPATCH=y\n");
      assertThat(t.image()).get().satisfies(p -> assertThat(Files.readString(p)).isEqualTo("vmlinuz\n"));
      assertThat(t.toolchain()).startsWith("rpm-repo kernel-devel-" + RELEASE + " kernel-core-" + RELEASE + "; ");
      // Cached: a second call downloads nothing even when the server is gone.
      server.stop(0);
      assertThat(provider.provide(kernel(server, RELEASE), true)).isEqualTo(t);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aPackageThatDoesNotMatchTheMetadataIsRefused(@TempDir Path tmp) throws Exception {
    Tools.require("rpmbuild");
    Tools.require("createrepo_c");
    Path repo = repository(tmp);
    try (Stream<Path> s = Files.list(repo)) {
      Path devel = s.filter(p -> p.getFileName().toString().startsWith("kernel-devel")).findFirst().orElseThrow();
      Files.write(devel, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
    }
    HttpServer server = serve(repo);
    try {
      assertThatThrownBy(() -> new RpmRepoProvider(tmp.resolve("cache")).provide(kernel(server, RELEASE), false))
          .isInstanceOf(KernelException.class)
          .hasMessageStartingWith("kernel " + RELEASE + " (provider rpm-repo): kernel-devel-5.14.0-427.13.1.el9_4.x86_64.rpm"
              + " does not match the repository's checksum");
      assertThatThrownBy(() -> new RpmRepoProvider(tmp.resolve("cache2")).provide(kernel(server, "5.14.0-1.el9.x86_64"), false))
          .isInstanceOf(KernelException.class)
          .hasMessageEndingWith(" has no kernel-devel for 5.14.0-1.el9.x86_64");
    } finally {
      server.stop(0);
    }
  }
}
