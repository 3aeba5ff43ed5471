package org.klpcatalog.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * Kills reconcile (SIGKILL, with its children) at random points, 20 times, while it publishes
 * alternating catalog revisions. After every kill, {@code current} must be a valid, fully signed
 * repository (or absent before the first publish), the lock must not be stuck, and at the end a
 * reconcile must converge.
 */
class CrashTest {
  static final int RUNS = 20;

  @Test
  void killedAtRandomPointsTheRepositoryStaysValidAndTheNextReconcileConverges(@TempDir Path tmp)
      throws Exception {
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
    int switched = 0;
    for (int i = 0; i < RUNS; i++) {
      write(i % 2 == 0 ? b : a, dir);
      String before = current(repo);
      Process p = run(dir, repo, cache);
      Thread.sleep(random.nextInt((int) (full * 1.2)));
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor();
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      String after = current(repo);
      if (!after.equals(before)) {
        switched++;
      }
      // current is always a complete, checked, signed version.
      ObservedState o = RepositoryReader.read(repo);
      assertThat(o.exists()).isTrue();
      assertThat(o.packages()).hasSize(7);
      VersionCheck.check(repo.resolve("current").toRealPath(), true, Duration.ofMinutes(2));
    }
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
    System.out.println(
        "crash test: " + RUNS + " kills, current switched during " + switched + " of them");
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
