package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.source.GitOptions;
import org.klpcatalog.source.GitSource;

/**
 * The controller's policies without building anything: what stalls, what is retried and when,
 * suspension, and signed-commit verification with real gpg signatures.
 */
class CatalogControllerTest {
  /** A clock the test moves. */
  static final class TestClock extends Clock {
    Instant now = Instant.parse("2026-11-22T10:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final TestClock clock = new TestClock();
  private final List<Duration> retries = new ArrayList<>();

  private static ServiceConfig config(Path tmp, String url, String extra) throws Exception {
    Path f = tmp.resolve("config.yaml");
    Files.writeString(
        f,
        "source:\n  url: "
            + url
            + "\n"
            + extra
            + "repository:\n"
            + "  path: repo\n"
            + "stateDir: state\n"
            + "signing:\n"
            + "  unsigned: true\n"
            + "qa:\n"
            + "  enabled: false\n"
            + "retry:\n"
            + "  initial: 10s\n"
            + "  max: 1m\n");
    return ConfigReader.read(f);
  }

  private CatalogController controller(ServiceConfig config) throws Exception {
    CatalogController c =
        new CatalogController(
            config,
            Optional.empty(),
            config.build().newSandbox(),
            Optional.empty(),
            new ServiceMetrics(),
            clock,
            () -> 0.0);
    c.retryScheduler(retries::add);
    return c;
  }

  private static CatalogController.Status await(
      CatalogController c, Predicate<CatalogController.Status> done) throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      CatalogController.Status s = c.status();
      if (done.test(s)) {
        return s;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("timed out; status " + c.status());
  }

  private static Condition condition(CatalogController.Status s, Condition.Type type) {
    return s.conditions().stream().filter(c -> c.type() == type).findFirst().orElseThrow();
  }

  /** Runs git in {@code dir} with its own GnuPG home. */
  private static String git(Path dir, Path gnupg, String... args) throws Exception {
    List<String> argv =
        new ArrayList<>(
            List.of(
                "git",
                "-c",
                "user.name=Maintainer",
                "-c",
                "user.email=m@example.org",
                "-c",
                "gpg.program=gpg",
                "-c",
                "init.defaultBranch=main"));
    argv.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GNUPGHOME", gnupg.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("git %s: %s", String.join(" ", args), out).isZero();
    return out.strip();
  }

  private static String newKey(Path home, String who) throws Exception {
    Files.createDirectories(home);
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
    ProcessBuilder pb =
        new ProcessBuilder(
                "gpg",
                "--homedir",
                home.toString(),
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-generate-key",
                who,
                "ed25519",
                "sign",
                "never")
            .redirectErrorStream(true);
    assertThat(pb.start().waitFor()).isZero();
    Process list =
        new ProcessBuilder(
                "gpg",
                "--homedir",
                home.toString(),
                "--batch",
                "--with-colons",
                "--list-secret-keys")
            .start();
    String out = new String(list.getInputStream().readAllBytes());
    list.waitFor();
    return out.lines().filter(l -> l.startsWith("fpr:")).findFirst().orElseThrow().split(":")[9];
  }

  private static void export(Path home, String fpr, Path to, boolean armor) throws Exception {
    List<String> argv = new ArrayList<>(List.of("gpg", "--homedir", home.toString(), "--batch"));
    if (armor) {
      argv.add("--armor");
    }
    argv.addAll(List.of("--output", to.toString(), "--export", fpr));
    assertThat(new ProcessBuilder(argv).redirectErrorStream(true).start().waitFor()).isZero();
  }

  @Test
  void anInvalidCommitStallsAndIsNotRetried(@TempDir Path tmp) throws Exception {
    Path repo = tmp.resolve("catalog");
    Files.createDirectories(repo);
    Fixtures.write(Fixtures.tree("variants-valid"), repo);
    Files.writeString(
        repo.resolve("catalog.yaml"), "apiVersion: klp-catalog/v1alpha1\nkind: Nonsense\n");
    git(repo, tmp, "init", "-q");
    git(repo, tmp, "add", "-A");
    git(repo, tmp, "commit", "-qm", "broken");
    String head = git(repo, tmp, "rev-parse", "HEAD");
    try (CatalogController c = controller(config(tmp, repo.toString(), ""))) {
      c.trigger("test");
      CatalogController.Status s = await(c, st -> condition(st, Condition.Type.Stalled).status());
      assertThat(condition(s, Condition.Type.Stalled).reason()).contains(Reason.ValidationFailed);
      assertThat(condition(s, Condition.Type.Ready).status()).isFalse();
      assertThat(s.lastAttemptedRevision()).contains(head);
      assertThat(s.lastAppliedRevision()).isEmpty();
      assertThat(retries).isEmpty();
      assertThat(s.nextRetryAt()).isEmpty();
    }
  }

  @Test
  void aKernelOfAProviderTheConfigurationLacksStallsBeforeAnythingIsBuilt(@TempDir Path tmp)
      throws Exception {
    Tools.require("git");
    Path repo = tmp.resolve("catalog");
    Files.createDirectories(repo);
    Fixtures.write(Fixtures.tree("variants-valid"), repo);
    Path yaml = repo.resolve("catalog.yaml");
    Files.writeString(
        yaml,
        Files.readString(yaml)
            .replace(
                "{release: 6.1.0-53-amd64, provider: debian}",
                "{release: 6.1.0-53-amd64, provider: el9}"));
    assertThat(Files.readString(yaml)).contains("provider: el9");
    git(repo, tmp, "init", "-q");
    git(repo, tmp, "add", "-A");
    git(repo, tmp, "commit", "-qm", "el9 kernel");
    try (CatalogController c = controller(config(tmp, repo.toString(), ""))) {
      c.trigger("test");
      CatalogController.Status s = await(c, st -> condition(st, Condition.Type.Stalled).status());
      assertThat(condition(s, Condition.Type.Stalled).reason())
          .contains(Reason.KernelProviderUnknown);
      assertThat(condition(s, Condition.Type.Stalled).message())
          .startsWith(
              "catalog.yaml:12:43: error: kernel 6.1.0-53-amd64 names provider 'el9', which is not"
                  + " configured here (configured: debian)")
          .endsWith("(spec.kernels[1].provider)");
      assertThat(retries).isEmpty();
      assertThat(tmp.resolve("repo/current")).doesNotExist();
      assertThat(tmp.resolve("state/cache/kernels")).doesNotExist();
    }
  }

  @Test
  void anUnreachableSourceIsRetriedWithGrowingWaits(@TempDir Path tmp) throws Exception {
    try (CatalogController c =
        controller(config(tmp, tmp.resolve("no-such-repo").toString(), ""))) {
      c.trigger("test");
      CatalogController.Status s = await(c, st -> st.retryAttempt() == 1);
      assertThat(condition(s, Condition.Type.Ready).reason()).contains(Reason.GitOperationFailed);
      assertThat(condition(s, Condition.Type.Reconciling).status()).isTrue();
      assertThat(condition(s, Condition.Type.Reconciling).reason())
          .contains(Reason.ProgressingWithRetry);
      assertThat(condition(s, Condition.Type.Stalled).status()).isFalse();
      assertThat(s.nextRetryAt()).contains(clock.now.plusSeconds(10));
      c.trigger("retry");
      await(c, st -> st.retryAttempt() == 2);
      c.trigger("retry");
      await(c, st -> st.retryAttempt() == 3);
      c.trigger("retry");
      await(c, st -> st.retryAttempt() == 4);
      c.trigger("retry");
      await(c, st -> st.retryAttempt() == 5);
      assertThat(retries)
          .containsExactly(
              Duration.ofSeconds(10),
              Duration.ofSeconds(20),
              Duration.ofSeconds(40),
              Duration.ofMinutes(1),
              Duration.ofMinutes(1));
    }
  }

  @Test
  void aSourceThatComesBackIsReconciledAtOnceNotAtTheRetry(@TempDir Path tmp) throws Exception {
    Path repo = tmp.resolve("catalog");
    Files.createDirectories(repo);
    Files.writeString(
        repo.resolve("catalog.yaml"), "apiVersion: klp-catalog/v1alpha1\nkind: Nonsense\n");
    git(repo, tmp, "init", "-q");
    git(repo, tmp, "add", "-A");
    git(repo, tmp, "commit", "-qm", "broken");
    try (CatalogController c = controller(config(tmp, repo.toString(), ""))) {
      c.trigger("poll");
      await(c, st -> condition(st, Condition.Type.Stalled).status());
      // The server goes away: retried with backoff.
      Files.move(repo, tmp.resolve("away"));
      c.trigger("poll");
      await(c, st -> st.retryAttempt() == 1);
      assertThat(condition(c.status(), Condition.Type.Ready).reason())
          .contains(Reason.GitOperationFailed);
      // It comes back before the retry is due (the clock has not moved): the next poll looks again.
      Files.move(tmp.resolve("away"), repo);
      c.trigger("poll");
      CatalogController.Status s =
          await(
              c,
              st ->
                  condition(st, Condition.Type.Ready)
                      .reason()
                      .equals(Optional.of(Reason.ValidationFailed)));
      assertThat(condition(s, Condition.Type.Stalled).status()).isTrue();
      assertThat(s.nextRetryAt()).isEmpty();
    }
  }

  @Test
  void triggersDuringARunCoalesceIntoOneMore(@TempDir Path tmp) throws Exception {
    CountDownLatch inRun = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (CatalogController c =
        controller(config(tmp, tmp.resolve("no-such-repo").toString(), ""))) {
      // The first run blocks where it schedules its retry, so it is still running below.
      c.retryScheduler(
          d -> {
            retries.add(d);
            if (retries.size() == 1) {
              inRun.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          });
      c.trigger("first");
      inRun.await();
      for (int i = 0; i < 20; i++) {
        c.trigger("webhook " + i);
      }
      release.countDown();
      assertThat(c.awaitReconciles(2, Duration.ofSeconds(30))).isTrue();
      // The second run took every request: none is left to run a third.
      assertThat(c.reconcileRequested()).isFalse();
      assertThat(c.reconciles()).isEqualTo(2);
      assertThat(c.status().retryAttempt()).isEqualTo(2);
      assertThat(retries).hasSize(2);
    }
  }

  @Test
  void suspensionIsRememberedAcrossRestarts(@TempDir Path tmp) throws Exception {
    ServiceConfig config = config(tmp, tmp.resolve("no-such-repo").toString(), "");
    try (CatalogController c = controller(config)) {
      c.suspend();
      c.trigger("poll");
      assertThat(c.awaitReconciles(1, Duration.ofSeconds(30))).isTrue();
      CatalogController.Status s = c.status();
      assertThat(s.suspended()).isTrue();
      assertThat(condition(s, Condition.Type.Ready).reason()).contains(Reason.Suspended);
      assertThat(s.lastFetchedRevision()).isEmpty();
      assertThat(retries).isEmpty();
    }
    assertThat(Files.readString(config.stateDir().resolve("state.json")))
        .contains("\"suspended\" : true");
    try (CatalogController c = controller(config)) {
      assertThat(c.suspended()).isTrue();
      c.resume();
      await(c, st -> st.retryAttempt() == 1);
      assertThat(c.suspended()).isFalse();
    }
  }

  @Test
  void onlyCommitsSignedByATrustedKeyAreReconciled(@TempDir Path tmp) throws Exception {
    Tools.require("gpg");
    Tools.require("gpgv");
    Tools.require("git");
    Path trusted = tmp.resolve("trusted-home");
    Path stranger = tmp.resolve("stranger-home");
    String trustedKey = newKey(trusted, "Maintainer <m@example.org>");
    String strangerKey = newKey(stranger, "Stranger <s@example.org>");
    Path keyring = tmp.resolve("trusted.gpg");
    export(trusted, trustedKey, keyring, false);
    Path armored = tmp.resolve("trusted.asc");
    export(trusted, trustedKey, armored, true);

    Path repo = tmp.resolve("catalog");
    Files.createDirectories(repo);
    Fixtures.write(Fixtures.tree("variants-valid"), repo);
    git(repo, trusted, "init", "-q");
    git(repo, trusted, "add", "-A");
    git(repo, trusted, "commit", "-qm", "unsigned");
    String unsigned = git(repo, trusted, "rev-parse", "HEAD");
    Files.writeString(repo.resolve("README.md"), "signed\n");
    git(repo, trusted, "add", "-A");
    git(repo, trusted, "-c", "user.signingkey=" + trustedKey, "commit", "-S", "-qm", "signed");
    String good = git(repo, trusted, "rev-parse", "HEAD");
    Files.writeString(repo.resolve("README.md"), "stranger\n");
    git(repo, stranger, "add", "-A");
    git(
        repo,
        stranger,
        "-c",
        "user.signingkey=" + strangerKey,
        "commit",
        "-S",
        "-qm",
        "signed by a stranger");
    String bad = git(repo, stranger, "rev-parse", "HEAD");

    try (GitSource source =
        GitSource.mirror(repo.toString(), GitOptions.defaults().withCacheDir(tmp.resolve("m")))) {
      source.fetchBranch("main");
      CommitVerifier any = new CommitVerifier(new ServiceConfig.Verify(keyring, List.of()));
      assertThat(any.check(source, good)).isEmpty();
      assertThat(any.check(source, unsigned))
          .hasValueSatisfying(m -> assertThat(m).contains("is not signed"));
      assertThat(any.check(source, bad))
          .hasValueSatisfying(
              m -> assertThat(m).contains("not signed by a key of").contains("NO_PUBKEY"));
      assertThat(
              new CommitVerifier(new ServiceConfig.Verify(armored, List.of())).check(source, good))
          .isEmpty();
      assertThat(
              new CommitVerifier(new ServiceConfig.Verify(keyring, List.of(strangerKey)))
                  .check(source, good))
          .hasValueSatisfying(m -> assertThat(m).contains("does not list"));
      assertThat(
              new CommitVerifier(new ServiceConfig.Verify(keyring, List.of(trustedKey)))
                  .check(source, good))
          .isEmpty();
    }

    // The controller: the stranger's commit at the branch's head stalls before anything is planned.
    ServiceConfig config =
        config(tmp, repo.toString(), "  verify:\n    keyring: " + keyring + "\n");
    try (CatalogController c = controller(config)) {
      c.trigger("test");
      CatalogController.Status s = await(c, st -> condition(st, Condition.Type.Stalled).status());
      assertThat(condition(s, Condition.Type.Stalled).reason()).contains(Reason.VerificationFailed);
      assertThat(s.lastAttemptedRevision()).contains(bad);
      assertThat(Files.exists(config.repository().path())).isFalse();
    }
  }
}
