package org.klpcatalog.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.klpcatalog.exec.Command;
import org.klpcatalog.kernel.KernelTree;

/**
 * Object-level livepatches (the kpatch way): runs {@code kpatch-build} with the patch's fix
 * against the release's full source tree, configured per release. Independent patches are built
 * non-replace ({@code -R}); only a cumulative patch may replace. Needs kpatch-build and, per
 * release, the exact kernel source with its .config and vmlinux.
 */
public final class KpatchBuildBuilder implements ModuleBuilder {
  public static final String ID = "kpatch-build-1";
  private final Map<String, Path> sourceTrees;

  /** {@code sourceTrees}: kernel release to the directory holding its source, .config and vmlinux. */
  public KpatchBuildBuilder(Map<String, Path> sourceTrees) {
    this.sourceTrees = Map.copyOf(sourceTrees);
  }

  @Override
  public String id() {
    return ID;
  }

  /** The command line for a task, for tests and for messages. */
  public List<String> commandLine(BuildTask task, Path source, Path patchFile) {
    List<String> cmd = new ArrayList<>(List.of("kpatch-build",
        "--sourcedir", source.toString(),
        "--config", source.resolve(".config").toString(),
        "--vmlinux", source.resolve("vmlinux").toString(),
        "--name", task.module().moduleName()));
    if (!task.replace()) {
      cmd.add("--non-replace");
    }
    cmd.add(patchFile.toString());
    return cmd;
  }

  @Override
  public Path build(BuildTask task, KernelTree kernel, Path scratch, Path log, Duration timeout)
      throws BuildException, IOException, InterruptedException {
    if (Command.which("kpatch-build").isEmpty()) {
      throw new BuildException(task.label() + ": kpatch-build is not installed; install kpatch-build, or give the"
          + " patch a source-based module (spec.module) so the kbuild builder can build it");
    }
    Path source = sourceTrees.get(kernel.release());
    if (source == null || !Files.isRegularFile(source.resolve(".config")) || !Files.isRegularFile(source.resolve("vmlinux"))) {
      throw new BuildException(task.label() + ": kpatch-build needs the exact source tree of " + kernel.release()
          + " with its .config and vmlinux; configure it with --kernel-source " + kernel.release() + "=DIR");
    }
    Files.createDirectories(scratch);
    Path patch = scratch.resolve("fix.patch");
    Files.write(patch, task.fix());
    Command.Result r = Command.of(commandLine(task, source, patch)).in(scratch).timeout(timeout).log(log)
        .env("CACHEDIR", scratch.resolve("kpatch-cache").toString()).run();
    Path ko = scratch.resolve(task.module().moduleName() + ".ko");
    if (!r.ok() || !Files.isRegularFile(ko)) {
      throw new BuildException(task.label() + ": kpatch-build failed" + (r.timedOut() ? " (timed out)" : "")
          + ":\n" + Command.tail(r.output(), 20));
    }
    return ko;
  }
}
