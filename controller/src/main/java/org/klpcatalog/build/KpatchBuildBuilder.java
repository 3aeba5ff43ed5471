package org.klpcatalog.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelTree;

/**
 * Object-level livepatches (the kpatch way): runs {@code kpatch-build} with the patch's fix against
 * the release's full source tree, configured per release. Independent patches are built non-replace
 * ({@code -R}); only a cumulative patch may replace. Needs kpatch-build and, per release, the exact
 * kernel source with its .config and vmlinux.
 */
public final class KpatchBuildBuilder implements ModuleBuilder {
  public static final String ID = "kpatch-build-2";
  private final Map<String, Path> sourceTrees;
  private final Sandbox sandbox;

  /**
   * {@code sourceTrees}: kernel release to the directory holding its source, .config and vmlinux.
   * kpatch-build applies the fix inside that tree and reverts it afterwards (that is how it works),
   * so the sandbox mounts the tree writable: give each release a tree of its own that nothing else
   * uses (docs/security.md).
   */
  public KpatchBuildBuilder(Map<String, Path> sourceTrees, Sandbox sandbox) {
    this.sourceTrees = Map.copyOf(sourceTrees);
    this.sandbox = sandbox;
  }

  @Override
  public String id() {
    return ID;
  }

  /** The command line for a task, for tests and for messages. */
  public List<String> commandLine(BuildTask task, String source, String patchFile) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "kpatch-build",
                "--sourcedir",
                source,
                "--config",
                source + "/.config",
                "--vmlinux",
                source + "/vmlinux",
                "--name",
                task.module().moduleName()));
    if (!task.replace()) {
      cmd.add("--non-replace");
    }
    cmd.add(patchFile);
    return cmd;
  }

  @Override
  public Path build(BuildTask task, KernelTree kernel, Path scratch, Path log, Duration timeout)
      throws BuildException, IOException, InterruptedException {
    Optional<Path> tool = Command.which("kpatch-build");
    if (tool.isPresent() && tool.get().startsWith("/usr/local")) {
      throw new BuildException(
          task.label()
              + ": kpatch-build is installed under /usr/local, which the build sandbox does not"
              + " show; install it under /usr (make install PREFIX=/usr, or the distribution's"
              + " package)");
    }
    if (tool.isEmpty()) {
      throw new BuildException(
          task.label()
              + ": kpatch-build is not installed; install kpatch-build, or give the"
              + " patch a source-based module (spec.module) so the kbuild builder can build it");
    }
    Path source = sourceTrees.get(kernel.release());
    if (source == null
        || !Files.isRegularFile(source.resolve(".config"))
        || !Files.isRegularFile(source.resolve("vmlinux"))) {
      throw new BuildException(
          task.label()
              + ": kpatch-build needs the exact source tree of "
              + kernel.release()
              + " with its .config and vmlinux; configure it with --kernel-source "
              + kernel.release()
              + "=DIR");
    }
    Files.createDirectories(scratch);
    Path patch = scratch.resolve("fix.patch");
    Files.write(patch, task.fix());
    Sandbox.Run run =
        sandbox
            .withLimits(sandbox.limits().withCpu(timeout))
            .run()
            .writable(source, source.toAbsolutePath().normalize().toString())
            .writable(scratch, "/build")
            .chdir("/build")
            .withProc();
    run.env("CACHEDIR", run.inside(scratch.resolve("kpatch-cache")));
    Command.Result r =
        run.command(commandLine(task, run.inside(source), run.inside(patch)))
            .timeout(timeout)
            .log(log)
            .run();
    Path ko = scratch.resolve(task.module().moduleName() + ".ko");
    if (!r.ok() || !Files.isRegularFile(ko, LinkOption.NOFOLLOW_LINKS)) {
      throw new BuildException(
          task.label()
              + ": kpatch-build failed"
              + (r.timedOut() ? " (timed out)" : "")
              + ":\n"
              + Command.tail(r.output(), 20));
    }
    return ko;
  }
}
