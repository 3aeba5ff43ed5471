package org.klpcatalog.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.ReleaseLedger;

/** A published repository read over HTTP, as a catalog's CI plans against it. */
class RemoteRepositoryTest {
  /** Serves the files below {@code root} as a web server does (404 for what is not there). */
  static HttpServer serve(Path root) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
    s.createContext(
        "/",
        ex -> {
          try (ex) {
            Path f = root.resolve(ex.getRequestURI().getPath().substring(1)).normalize();
            if (!f.startsWith(root) || !Files.isRegularFile(f)) {
              ex.sendResponseHeaders(404, -1);
              return;
            }
            byte[] b = Files.readAllBytes(f);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(b);
            }
          }
        });
    s.start();
    return s;
  }

  @Test
  void readsTheSameRepositoryOverHttpAsOnDisk(@TempDir Path tmp) throws Exception {
    Tools.require("rpmbuild");
    Tools.require("createrepo_c");
    var tree = new DirectoryTreeReader().read(Fixtures.base());
    var r =
        DesiredStateBuilder.build(
            new CatalogValidator().validate(tree), tree, ReleaseLedger.EMPTY, Optional.empty());
    Path repo = tmp.resolve("repo");
    FixturePublisher.publishWithHostTool(r, ReleaseLedger.EMPTY, repo, "1");
    HttpServer web = serve(tmp);
    try {
      String url = "http://127.0.0.1:" + web.getAddress().getPort() + "/repo/current/";
      ObservedState local = RepositoryReader.read(repo);
      ObservedState remote = RemoteRepository.observe(url);
      assertThat(remote.exists()).isTrue();
      assertThat(remote.packages()).isEqualTo(local.packages());
      assertThat(remote.ledger()).isEqualTo(local.ledger());
      assertThat(remote.group()).isEqualTo(local.group());
      assertThat(remote.revision()).isEqualTo(local.revision());
      assertThat(remote.version()).isEqualTo("current");
      // Only metadata comes: no package is downloaded.
      Path dl = RemoteRepository.download(url, tmp.resolve("dl"));
      try (var s = Files.walk(dl)) {
        assertThat(s.filter(p -> p.toString().endsWith(".rpm")).toList()).isEmpty();
      }
      assertThat(dl.resolve("repodata/repomd.xml")).exists();
      // What a catalog's CI runs: the plan against the published repository, over HTTP.
      var inSync =
          CliRunner.run(
              "reconcile", "--dry-run", "--catalog", Fixtures.base().toString(), "--repo", url);
      assertThat(inSync.exitCode()).as(inSync.err()).isZero();
      assertThat(inSync.out())
          .contains("Nothing would change")
          .contains("published: version current");
      var apply =
          CliRunner.run("reconcile", "--catalog", Fixtures.base().toString(), "--repo", url);
      assertThat(apply.exitCode()).isEqualTo(2);
      assertThat(apply.err()).contains("a URL is only read, with --dry-run");
      // Nothing published there yet: an empty repository.
      String none = "http://127.0.0.1:" + web.getAddress().getPort() + "/nothing/current";
      assertThat(RemoteRepository.observe(none)).isEqualTo(ObservedState.EMPTY);
    } finally {
      web.stop(0);
    }
  }

  @Test
  void aRepomdThatPointsOutsideRepodataIsRefused(@TempDir Path tmp) throws Exception {
    Path site = tmp.resolve("site/current/repodata");
    Files.createDirectories(site);
    Files.writeString(
        site.resolve("repomd.xml"),
        "<?xml version=\"1.0\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">"
            + "<data type=\"primary\"><checksum type=\"sha256\">"
            + "0".repeat(64)
            + "</checksum>"
            + "<location href=\"repodata/../../../escape.xml\"/></data></repomd>\n");
    HttpServer web = serve(tmp.resolve("site"));
    try {
      assertThatThrownBy(
              () ->
                  RemoteRepository.download(
                      "http://127.0.0.1:" + web.getAddress().getPort() + "/current",
                      tmp.resolve("dl")))
          .isInstanceOf(CorruptRepositoryException.class)
          .hasMessageContaining("not a file in repodata/");
      assertThat(tmp.resolve("escape.xml")).doesNotExist();
    } finally {
      web.stop(0);
    }
  }
}
