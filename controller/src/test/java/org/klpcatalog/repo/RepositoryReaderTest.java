package org.klpcatalog.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.ReleaseLedger;

/** Reads repositories written by createrepo_c; refuses corrupt ones with the reason. */
class RepositoryReaderTest {
  static DesiredState desired;
  static ReleaseLedger ledger;

  @BeforeAll
  static void desiredStateOfTheBaseFixture() throws IOException {
    var tree = new DirectoryTreeReader().read(Fixtures.base());
    ValidationReport report = new CatalogValidator().validate(tree);
    DesiredStateBuilder.Result r =
        DesiredStateBuilder.build(report, tree, ReleaseLedger.EMPTY, Optional.empty());
    desired = r.state();
    ledger = r.ledger();
  }

  private static Path published(Path dir) throws Exception {
    Tools.require("rpmbuild");
    Tools.require("createrepo_c");
    Path repo = dir.resolve("repo");
    FixturePublisher.publish(desired, ledger, repo, "1");
    return repo;
  }

  @Test
  void aMissingOrEmptyDirectoryIsAnEmptyRepository(@TempDir Path dir) throws Exception {
    assertThat(RepositoryReader.read(dir.resolve("nope"))).isEqualTo(ObservedState.EMPTY);
    assertThat(RepositoryReader.read(dir)).isEqualTo(ObservedState.EMPTY);
  }

  @Test
  void readsWhatCreaterepoWroteJoinedWithTheInventory(@TempDir Path dir) throws Exception {
    ObservedState o = RepositoryReader.read(published(dir));
    assertThat(o.exists()).isTrue();
    assertThat(o.version()).isEqualTo("1");
    assertThat(o.packages())
        .extracting(ObservedPackage::nevra)
        .containsExactly("kpatch-cmdline-marker-1-1.x86_64", "kpatch-uptime-fix-1-1.x86_64");
    assertThat(o.packages().get(0).contentHash())
        .isEqualTo(desired.packages().get(0).contentHash());
    assertThat(o.packages().get(0).kernels())
        .containsExactly(
            "6.1.0-50-amd64", "6.1.0-53-amd64", "6.1.0-56-amd64", "6.1.0-56-cloud-amd64");
    assertThat(o.group()).contains(desired.group());
    assertThat(o.ledger()).isEqualTo(ledger);
  }

  @Test
  void afterARollbackTheLedgerStillHoldsWhatNewerVersionsPublished(@TempDir Path dir)
      throws Exception {
    Path repo = published(dir);
    ReleaseLedger newer =
        ledger.toBuilder()
            .record("python3-dnf-plugin-livepatch", new ReleaseLedger.Entry("1.0", "b", 2, ""))
            .build();
    FixturePublisher.publish(desired, newer, repo, "2");
    assertThat(RepositoryReader.read(repo).ledger()).isEqualTo(newer);
    // Rolled back to version 1, whose own ledger does not know 1.0-2.
    Path link = repo.resolve("current.new");
    Files.createSymbolicLink(link, Path.of("versions/1"));
    Files.move(link, repo.resolve("current"), StandardCopyOption.ATOMIC_MOVE);
    ObservedState o = RepositoryReader.read(repo);
    assertThat(o.version()).isEqualTo("1");
    assertThat(o.ledger().contentOf("python3-dnf-plugin-livepatch", "1.0", 2)).contains("b");
    assertThat(o.ledger().toBuilder().assign("python3-dnf-plugin-livepatch", "1.0", "c", ""))
        .extracting(ReleaseLedger.Entry::release)
        .isEqualTo(3);
    // A newer version whose inventory this program cannot read stops the reconcile, saying why.
    Files.createDirectories(repo.resolve("versions/10"));
    Files.writeString(repo.resolve("versions/10").resolve(Inventory.FILE), "{\"format\": 9}");
    assertThatThrownBy(() -> RepositoryReader.read(repo))
        .isInstanceOf(CorruptRepositoryException.class)
        .hasMessageContaining("version 10 (newer than current, after a rollback)")
        .hasMessageContaining("upgrade klp-catalog");
  }

  @Test
  void aChecksumMismatchIsCorruptNotEmpty(@TempDir Path dir) throws Exception {
    Path repo = published(dir);
    Path primary = primary(repo);
    byte[] b = Files.readAllBytes(primary);
    b[b.length / 2] ^= 0x55;
    Files.write(primary, b);
    assertThatThrownBy(() -> RepositoryReader.read(repo))
        .isInstanceOf(CorruptRepositoryException.class)
        .hasMessageContaining("checksum mismatch: repomd.xml lists sha256");
  }

  @Test
  void truncatedPrimaryMetadataIsCorrupt(@TempDir Path dir) throws Exception {
    Path repo = published(dir);
    Path primary = primary(repo);
    byte[] xml = Repodata.uncompress(Files.readAllBytes(primary), primary.toString());
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
      gz.write(xml, 0, xml.length / 2);
    }
    byte[] truncated = bos.toByteArray();
    String oldSum = sha256(Files.readAllBytes(primary));
    Files.write(primary, truncated);
    Path repomd = repo.resolve("current/repodata/repomd.xml");
    Files.writeString(
        repomd,
        Files.readString(repomd).replace(">" + oldSum + "<", ">" + sha256(truncated) + "<"));
    assertThatThrownBy(() -> RepositoryReader.read(repo))
        .isInstanceOf(CorruptRepositoryException.class)
        .hasMessageContaining("malformed or truncated XML");
  }

  @Test
  void aRepositoryWithoutInventoryIsNotTakenForOneOfOurs(@TempDir Path dir) throws Exception {
    Path repo = published(dir);
    Files.delete(repo.resolve("current/" + Inventory.FILE));
    assertThatThrownBy(() -> RepositoryReader.read(repo))
        .isInstanceOf(CorruptRepositoryException.class)
        .hasMessageContaining("was not published by klp-catalog");
  }

  @Test
  void aNonEmptyDirectoryWithoutCurrentIsRefused(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("something"), "x");
    assertThatThrownBy(() -> RepositoryReader.read(dir))
        .isInstanceOf(CorruptRepositoryException.class)
        .hasMessageContaining("has no 'current' version");
  }

  @Test
  void theInventoryRoundTrips() throws Exception {
    Inventory inv =
        Inventory.of(
            desired,
            Map.of("kpatch-cmdline-marker", "a.rpm", "kpatch-uptime-fix", "b.rpm"),
            Map.of(),
            "2026-11-22T00:00:00Z",
            false,
            ledger);
    Inventory back = Inventory.parse(inv.toJson(), "inventory");
    assertThat(back.toJson()).isEqualTo(inv.toJson());
    assertThat(back.ledger()).isEqualTo(ledger);
    assertThatThrownBy(() -> Inventory.parse("{\"format\": 9}", "x"))
        .hasMessage("x: unknown inventory format 9 (this klp-catalog reads format 1)");
    // A ledger written before entries recorded their content format is of format 1.
    String old = inv.toJson().replaceAll(",\\s*\"format\"\\s*:\\s*2", "");
    assertThat(old).doesNotContain("\"format\" : 2").doesNotContain("\"format\":2");
    Inventory before = Inventory.parse(old, "inventory");
    assertThat(before.ledger().entries().values())
        .allSatisfy(l -> assertThat(l).allSatisfy(e -> assertThat(e.format()).isEqualTo(1)));
  }

  private static Path primary(Path repo) throws IOException {
    try (Stream<Path> s = Files.list(repo.resolve("current/repodata"))) {
      return s.filter(p -> p.getFileName().toString().endsWith("primary.xml.gz"))
          .findFirst()
          .orElseThrow();
    }
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
