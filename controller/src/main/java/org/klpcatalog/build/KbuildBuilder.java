package org.klpcatalog.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.klpcatalog.exec.Command;
import org.klpcatalog.kernel.KernelTree;

/**
 * Source-based livepatches (the SUSE way): compiles the patch's livepatch.c against the kernel's
 * kbuild tree as an out-of-tree module, in a scratch directory, with a Kbuild file written here
 * (never one from the catalog). The source is copied under the module's name, so the module name
 * is unique per patch, version and release.
 */
public final class KbuildBuilder implements ModuleBuilder {
  public static final String ID = "kbuild-1";

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Path build(BuildTask task, KernelTree kernel, Path scratch, Path log, Duration timeout)
      throws BuildException, IOException, InterruptedException {
    if (task.moduleSource().isEmpty()) {
      throw new BuildException(task.label() + ": the kbuild builder needs a module source (spec.module)");
    }
    String name = task.module().moduleName();
    Files.createDirectories(scratch);
    Files.write(scratch.resolve(name + ".c"), task.moduleSource().get());
    Files.writeString(scratch.resolve("Kbuild"), "obj-m := " + name + ".o\n");
    // Paths of this machine (scratch and cache directories) would end up in the module's debug
    // information; map them to fixed ones so the same inputs give the same module bytes.
    Path headersRoot = kernel.headers().getParent().getParent().getParent();
    String prefixMaps = "-ffile-prefix-map=" + scratch.toAbsolutePath() + "=/usr/src/klp-catalog/" + name
        + " -ffile-prefix-map=" + headersRoot.toAbsolutePath() + "=";
    Command.Result r = Command.of("make", "-C", kernel.headers().toString(), "M=" + scratch, "KCFLAGS=" + prefixMaps,
            "modules")
        .in(scratch)
        .env("LC_ALL", "C")
        .env("KBUILD_BUILD_TIMESTAMP", "")
        .timeout(timeout)
        .log(log)
        .run();
    if (r.timedOut()) {
      throw new BuildException(task.label() + ": the build did not finish within " + timeout.toSeconds() + " s");
    }
    Path ko = scratch.resolve(name + ".ko");
    if (r.exitCode() != 0 || !Files.isRegularFile(ko)) {
      throw new BuildException(task.label() + ": " + task.module().moduleSource().orElse("the module")
          + " does not compile:\n" + compilerMessages(r.output()));
    }
    return ko;
  }

  /** The compiler's errors, or the end of the log when there are none to pick out. */
  static String compilerMessages(String output) {
    StringBuilder sb = new StringBuilder();
    output.lines().filter(l -> l.contains("error:") || l.contains("Error ") || l.contains("undefined"))
        .limit(20).forEach(l -> sb.append(l).append('\n'));
    return sb.length() > 0 ? sb.toString().stripTrailing() : Command.tail(output, 20);
  }
}
