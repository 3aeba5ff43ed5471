package org.klpcatalog.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelTree;

/**
 * Source-based livepatches (the SUSE way): compiles the patch's livepatch.c against the kernel's
 * kbuild tree as an out-of-tree module, in a scratch directory, with a Kbuild file written here
 * (never one from the catalog). The source is copied under the module's name, so the module name is
 * unique per patch, version and release.
 *
 * <p>modpost is told to warn, not fail, about symbols the kernel does not export ({@code
 * KBUILD_MODPOST_WARN=1}): the post-link step ({@link KlpLink}) decides about each of them, turning
 * the patch's declared symbols into livepatch relocations and failing the module, with a message
 * that says how to declare it, on any other.
 *
 * <p>The build runs in the {@link Sandbox}: it sees the toolchain and this kernel's tree read-only
 * and the scratch directory (as {@code /build}) writable, nothing else of the host, so an {@code
 * .incbin} or {@code #include} of a host file finds nothing to read.
 */
public final class KbuildBuilder implements ModuleBuilder {
  public static final String ID = "kbuild-3";

  /** Where the scratch directory is inside the sandbox. */
  static final String BUILD_DIR = "/build";

  private final Sandbox sandbox;

  public KbuildBuilder(Sandbox sandbox) {
    this.sandbox = sandbox;
  }

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Path build(BuildTask task, KernelTree kernel, Path scratch, Path log, Duration timeout)
      throws BuildException, IOException, InterruptedException {
    if (task.moduleSource().isEmpty()) {
      throw new BuildException(
          task.label() + ": the kbuild builder needs a module source (spec.module)");
    }
    String name = task.module().moduleName();
    Files.createDirectories(scratch);
    Files.write(scratch.resolve(name + ".c"), task.moduleSource().get());
    Files.writeString(scratch.resolve("Kbuild"), "obj-m := " + name + ".o\n");
    Path headersRoot = kernel.root();
    Sandbox.Run run =
        sandbox
            .withLimits(sandbox.limits().withCpu(timeout))
            .run()
            .readOnly(headersRoot)
            .writable(scratch, BUILD_DIR)
            .chdir(BUILD_DIR)
            .env("KBUILD_BUILD_TIMESTAMP", "");
    // Paths of this machine (scratch and cache directories) would end up in the module's debug
    // information; map them to fixed ones so the same inputs give the same module bytes.
    String prefixMaps =
        "-ffile-prefix-map="
            + run.inside(scratch)
            + "=/usr/src/klp-catalog/"
            + name
            + " -ffile-prefix-map="
            + run.inside(headersRoot)
            + "=";
    Command.Result r =
        run.command(
                "make",
                "-C",
                run.inside(kernel.headers()),
                "M=" + run.inside(scratch),
                "KCFLAGS=" + prefixMaps,
                "KBUILD_MODPOST_WARN=1",
                "modules")
            .timeout(timeout)
            .log(log)
            .run();
    if (r.timedOut()) {
      throw new BuildException(
          task.label() + ": the build did not finish within " + timeout.toSeconds() + " s");
    }
    Path ko = scratch.resolve(name + ".ko");
    // The sandbox wrote this directory: take only a regular file, never a link it made.
    if (r.exitCode() != 0 || !Files.isRegularFile(ko, LinkOption.NOFOLLOW_LINKS)) {
      throw new BuildException(
          task.label()
              + ": "
              + task.module().moduleSource().orElse("the module")
              + " does not compile:\n"
              + compilerMessages(r.output()));
    }
    return ko;
  }

  /** The compiler's errors, or the end of the log when there are none to pick out. */
  static String compilerMessages(String output) {
    StringBuilder sb = new StringBuilder();
    output
        .lines()
        .filter(l -> l.contains("error:") || l.contains("Error ") || l.contains("undefined"))
        .limit(20)
        .forEach(l -> sb.append(l).append('\n'));
    return sb.length() > 0 ? sb.toString().stripTrailing() : Command.tail(output, 20);
  }
}
