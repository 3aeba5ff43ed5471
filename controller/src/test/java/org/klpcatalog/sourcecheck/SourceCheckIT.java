package org.klpcatalog.sourcecheck;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The source checks against real Debian kernel sources, through the command line: every fix of the
 * example catalog applies to every kernel it serves; compiled with 6.1.0-50-amd64's configuration
 * (every patch serves it), the compiler's view of each fix (the real proc-dir-nlink fix changes two
 * static helpers that Debian's vmlinux inlines into their callers) agrees with each module; a fix
 * served to a kernel that already has it is refused, by source-check and by the build before it
 * builds.
 */
class SourceCheckIT {
  static final Path EXAMPLE = Path.of("../example-catalog");
  static final String K50 = "6.1.0-50-amd64";
  static final String K53 = "6.1.0-53-amd64";

  @BeforeAll
  static void tools() {
    ExampleCatalogs.requireBuildTools();
    for (String tool : List.of("bwrap", "apt-config", "dpkg-source", "bison", "flex", "bc", "xz")) {
      Tools.require(tool);
    }
  }

  static JsonNode json(CliRunner.Run run) {
    return JsonMapper.builder().build().readTree(run.out());
  }

  static List<JsonNode> results(JsonNode root, String patch, String kernel) {
    List<JsonNode> out = new ArrayList<>();
    root.get("results")
        .forEach(
            r -> {
              if (r.get("patch").asString().equals(patch)
                  && r.get("kernel").asString().equals(kernel)) {
                out.add(r);
              }
            });
    return out;
  }

  static JsonNode function(JsonNode result, String key) {
    for (JsonNode f : result.get("functions")) {
      if (f.get("key").asString().equals(key)) {
        return f;
      }
    }
    throw new AssertionError("no function " + key + " in " + result);
  }

  @Test
  void everyExampleFixAppliesToEveryKernelItServes(@TempDir Path tmp) throws Exception {
    CliRunner.Run run =
        CliRunner.run(
            "source-check",
            EXAMPLE.toString(),
            "--no-compile",
            "-o",
            "json",
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode root = json(run);
    // Every (active variant, kernel) pair: 4 kernels, 12 patches, ranges as in the manifests (24).
    assertThat(root.get("checks").asInt()).isGreaterThanOrEqualTo(20);
    assertThat(root.get("failed").asInt()).isZero();
    root.get("results")
        .forEach(
            r -> {
              assertThat(r.get("status").asString()).as(r.toString()).isEqualTo("ok");
              assertThat(r.get("applies").asBoolean()).isTrue();
            });
    // The 6.1.0-56 kernels' source is 6.1.192-2, shared by both flavours.
    List<JsonNode> k56 = new ArrayList<>();
    root.get("results")
        .forEach(
            r -> {
              if (r.get("kernel").asString().startsWith("6.1.0-56")) {
                k56.add(r);
              }
            });
    assertThat(k56)
        .isNotEmpty()
        .allSatisfy(r -> assertThat(r.get("sourceVersion").asString()).isEqualTo("6.1.192-2"));
  }

  @Test
  void compiledWithTheKernelsConfigurationEveryModuleReplacesWhatTheCompilerChanged(
      @TempDir Path tmp) throws Exception {
    CliRunner.Run run =
        CliRunner.run(
            "source-check",
            EXAMPLE.toString(),
            "--kernel",
            K50,
            "-o",
            "json",
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode root = json(run);
    assertThat(root.get("failed").asInt()).isZero();
    JsonNode nlink = results(root, "proc-dir-nlink", K50).get(0);
    // The helpers the fix changes have no symbol in Debian's vmlinux: the compiler inlined them.
    assertThat(function(nlink, "fs/proc/generic.c:pde_subdir_insert").get("code").asString())
        .isEqualTo("inlined");
    assertThat(function(nlink, "fs/proc/generic.c:pde_erase").get("code").asString())
        .isEqualTo("inlined");
    // ... into their callers, whose code changed, and which the module replaces.
    assertThat(function(nlink, "fs/proc/generic.c:proc_register").get("code").asString())
        .isEqualTo("changed");
    assertThat(function(nlink, "fs/proc/generic.c:remove_proc_subtree").get("code").asString())
        .isEqualTo("changed");
    assertThat(function(nlink, "fs/proc/generic.c:proc_register").get("object").asString())
        .isEqualTo("vmlinux");
    assertThat(nlink.get("notes").toString()).contains("pde_erase has no symbol in vmlinux");
    // A module's file is compiled as that module.
    JsonNode binfmt = results(root, "binfmt-misc-reject-flag-delimiter", K50).get(0);
    binfmt
        .get("functions")
        .forEach(f -> assertThat(f.get("object").asString()).isEqualTo("binfmt_misc"));
  }

  /** proc-dir-nlink served to 6.1.0-53 too, whose source (6.1.187) already has the fix. */
  static Path servedToAKernelThatHasTheFix(Path tmp) throws Exception {
    CatalogTree tree =
        CatalogEdits.edit(
            new DirectoryTreeReader().read(EXAMPLE),
            "patches/proc-dir-nlink/manifest.yaml",
            s ->
                s.replace(
                    "    from: 6.1.0-50\n    to: 6.1.0-50\n",
                    "    from: 6.1.0-50\n    to: 6.1.0-53\n"));
    Path dir = tmp.resolve("catalog");
    Fixtures.write(tree, dir);
    return dir;
  }

  @Test
  void aFixAKernelAlreadyHasIsRefusedForThatKernelOnly(@TempDir Path tmp) throws Exception {
    Path dir = servedToAKernelThatHasTheFix(tmp);
    CliRunner.Run run =
        CliRunner.run(
            "source-check",
            dir.toString(),
            "--patch",
            "proc-dir-nlink",
            "--no-compile",
            "-o",
            "json",
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(2);
    JsonNode root = json(run);
    assertThat(results(root, "proc-dir-nlink", K50).get(0).get("status").asString())
        .isEqualTo("ok");
    JsonNode k53 = results(root, "proc-dir-nlink", K53).get(0);
    assertThat(k53.get("status").asString()).isEqualTo("failed");
    assertThat(k53.get("errors").get(0).asString())
        .contains(K53)
        .contains("6.1.187-1")
        .contains("fs/proc/generic.c")
        .contains("hunk");
  }

  @Test
  void theBuildRefusesItBeforeBuilding(@TempDir Path tmp) throws Exception {
    Path dir = servedToAKernelThatHasTheFix(tmp);
    CliRunner.Run run =
        CliRunner.run(
            "build",
            "--catalog",
            dir.toString(),
            "--patch",
            "proc-dir-nlink",
            "--kernel",
            K53,
            "--out",
            tmp.resolve("out").toString(),
            "--unsigned",
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(4);
    assertThat(run.out() + run.err())
        .contains("proc-dir-nlink for " + K53)
        .contains("fs/proc/generic.c")
        .contains("does not apply");
    // Nothing was compiled for it: no module, and the checks' findings are in their log.
    assertThat(tmp.resolve("out/modules").resolve(K53)).doesNotExist();
    assertThat(tmp.resolve("out/logs/proc-dir-nlink").resolve(K53 + ".source-check.log")).exists();
  }

  /**
   * The real binfmt_misc fix changes create_entry(), which Debian's binfmt_misc.ko inlines into
   * bm_register_write(): the example's module replaces bm_register_write. Here its author did not
   * know: the module "replaces" create_entry, and the manifest neither lists bm_register_write nor
   * acknowledges the inlining. validate cannot tell; the source checks can.
   */
  static Path moduleMissingTheInliningCaller(Path tmp) throws Exception {
    String patch = "patches/binfmt-misc-reject-flag-delimiter/";
    CatalogTree tree = new DirectoryTreeReader().read(EXAMPLE);
    tree =
        CatalogEdits.edit(
            tree,
            patch + "manifest.yaml",
            s ->
                s.replaceAll(
                        "(?s)  extraFunctions:\\n    - fs/binfmt_misc.c:bm_register_write\\n", "")
                    .replaceAll(
                        "(?s)  acknowledge:\\n    - flag: inline-function\\n.*?\\n(  symbols:)",
                        "$1"));
    tree =
        CatalogEdits.edit(
            tree,
            patch + "livepatch.c",
            s -> s.replace(".old_name = \"bm_register_write\"", ".old_name = \"create_entry\""));
    Path dir = tmp.resolve("catalog");
    Fixtures.write(tree, dir);
    CliRunner.Run valid = CliRunner.run("validate", dir.toString());
    assertThat(valid.exitCode()).as(valid.out()).isZero();
    return dir;
  }

  @Test
  void aModuleThatMissesACallerTheFixWasInlinedIntoIsRefused(@TempDir Path tmp) throws Exception {
    Path dir = moduleMissingTheInliningCaller(tmp);
    CliRunner.Run run =
        CliRunner.run(
            "source-check",
            dir.toString(),
            "--patch",
            "binfmt-misc-reject-flag-delimiter",
            "--kernel",
            K50,
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(2);
    assertThat(run.out())
        .contains("FAILED")
        .contains(K50)
        .contains("the module does not replace bm_register_write in fs/binfmt_misc.c (binfmt_misc)")
        .contains("the compiler inlined the changed create_entry into it")
        .contains("add a klp_func for bm_register_write to the binfmt_misc klp_object");
    // The controller's build refuses it the same way, before anything is built.
    CliRunner.Run build =
        CliRunner.run(
            "build",
            "--catalog",
            dir.toString(),
            "--patch",
            "binfmt-misc-reject-flag-delimiter",
            "--kernel",
            K50,
            "--out",
            tmp.resolve("out").toString(),
            "--unsigned",
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString());
    assertThat(build.exitCode()).as(build.out() + build.err()).isEqualTo(4);
    assertThat(build.out() + build.err()).contains("bm_register_write").contains("create_entry");
    assertThat(tmp.resolve("out/modules").resolve(K50)).doesNotExist();
  }
}
