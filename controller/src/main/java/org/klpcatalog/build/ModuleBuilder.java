package org.klpcatalog.build;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.klpcatalog.kernel.KernelTree;

/**
 * Builds one livepatch module for one kernel. The result is {@code <module name>.ko} in {@code
 * scratch}; everything the build prints goes to {@code log}.
 */
public interface ModuleBuilder {
  /** The builder's name and version, part of every cache key. */
  String id();

  Path build(BuildTask task, KernelTree kernel, Path scratch, Path log, Duration timeout)
      throws BuildException, IOException, InterruptedException;
}
