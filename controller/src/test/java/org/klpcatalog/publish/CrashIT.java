package org.klpcatalog.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * Kills reconcile (SIGKILL, with its children) while it publishes alternating catalog revisions: at
 * random points, and right after it switched {@code current}, until kills have landed both before
 * and after the switch. After every kill, {@code current} must be a valid, fully signed repository
 * (or absent before the first publish), the lock must not be stuck, and at the end a reconcile must
 * converge.
 */
class CrashIT {
  static final int RUNS = 20;

  /** Runs beyond RUNS allowed for a kind of kill that has not landed yet. */
  static final int EXTRA_RUNS = 10;

  /** Where a kill landed, seen from {@code current} and whether reconcile was still running. */
  enum Landed {
    BEFORE_SWITCH,
    AFTER_SWITCH,
    AFTER_EXIT
  }

  @Test
  void killedBeforeAndAfterTheSwitchTheRepositoryStaysValidAndTheNextReconcileConverges(
      @TempDir Path tmp) throws Exception {
    ExampleCatalogs.requireBuildTools();
    CatalogTree a = ExampleCatalogs.twoKernels();
    CatalogTree b =
        CatalogEdits.edit(
            a,
            "patches/ns-last-pid-range/manifest.yaml",
            s -> s.replace("version: 1", "version: 2"));
    Path dir = tmp.resolve("catalog");
    Path repo = tmp.resolve("repo");
    Path cache = ExampleCatalogs.cache(tmp.resolve("cache"));
    // Prime the module and package caches for both revisions, and measure a full reconcile.
    write(b, dir);
    assertThat(run(dir, repo, cache).waitFor()).isZero();
    write(a, dir);
    long t0 = System.nanoTime();
    assertThat(run(dir, repo, cache).waitFor()).isZero();
    long full = Math.max(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), 1000);

    Random random = new Random(20261122);
    Map<Landed, Integer> landed = new EnumMap<>(Landed.class);
    // Each run asks to publish the revision current does not hold, so every run has work to do.
    CatalogTree published = a;
    for (int i = 0; i < RUNS + EXTRA_RUNS; i++) {
      int before = landed.getOrDefault(Landed.BEFORE_SWITCH, 0);
      int after = landed.getOrDefault(Landed.AFTER_SWITCH, 0);
      if (i >= RUNS && before > 0 && after > 0) {
        break;
      }
      // Every fourth run (and every extra run while it is missing) kills right after the switch;
      // the others at a random point of a full reconcile, most of them before the switch.
      boolean atSwitch = i >= RUNS ? after == 0 : i % 4 == 3;
      CatalogTree next = published == a ? b : a;
      write(next, dir);
      String was = current(repo);
      landed.merge(
          killOnce(dir, repo, cache, atSwitch ? -1 : random.nextInt((int) full)), 1, Integer::sum);
      if (!current(repo).equals(was)) {
        published = next;
      }
      // current is always a complete, checked, signed version.
      ObservedState o = RepositoryReader.read(repo);
      assertThat(o.exists()).isTrue();
      assertThat(o.packages()).hasSize(8); // seven patches and the host tool
      VersionCheck.check(repo.resolve("current").toRealPath(), true, Duration.ofMinutes(2));
    }
    System.out.println("crash test: kills landed " + landed);
    assertThat(landed.getOrDefault(Landed.BEFORE_SWITCH, 0))
        .as("kills that landed before current switched, in %s", landed)
        .isPositive();
    assertThat(landed.getOrDefault(Landed.AFTER_SWITCH, 0))
        .as("kills that landed after current switched, in %s", landed)
        .isPositive();
    // The lock is free and the next reconcile converges.
    Process last = run(dir, repo, cache);
    assertThat(last.waitFor()).isZero();
    Process dry =
        new ProcessBuilder(command(dir, repo, cache, "--dry-run"))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(dry.waitFor()).as("a dry run after converging plans nothing").isZero();
    VersionCheck.check(repo.resolve("current").toRealPath(), true, Duration.ofMinutes(2));
  }

  /**
   * Starts a reconcile and kills it after {@code delayMillis}, or, when that is negative, as soon
   * as {@code current} switches; tells where the kill landed.
   */
  static Landed killOnce(Path dir, Path repo, Path cache, long delayMillis) throws Exception {
    String before = current(repo);
    Process p = run(dir, repo, cache);
    if (delayMillis >= 0) {
      p.waitFor(delayMillis, TimeUnit.MILLISECONDS);
    } else {
      while (p.isAlive() && current(repo).equals(before)) {
        Thread.sleep(1);
      }
    }
    boolean running = p.isAlive();
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    p.waitFor();
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    if (!running) {
      return Landed.AFTER_EXIT;
    }
    return current(repo).equals(before) ? Landed.BEFORE_SWITCH : Landed.AFTER_SWITCH;
  }

  static void write(CatalogTree tree, Path dir) throws Exception {
    if (Files.exists(dir)) {
      FileTrees.deleteRecursively(dir);
    }
    Fixtures.write(tree, dir);
  }

  static String current(Path repo) throws Exception {
    Path c = repo.resolve("current");
    return Files.exists(c) ? c.toRealPath().getFileName().toString() : "";
  }

  static List<String> command(Path dir, Path repo, Path cache, String... more) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "org.klpcatalog.cli.Main",
                "reconcile",
                "--catalog",
                dir.toString(),
                "--repo",
                repo.toString(),
                "--cache",
                cache.toString(),
                "--lock-wait",
                "5",
                "--no-qa",
                "--no-source-checks"));
    cmd.addAll(List.of(more));
    return cmd;
  }

  static Process run(Path dir, Path repo, Path cache) throws Exception {
    return new ProcessBuilder(command(dir, repo, cache))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }
}
