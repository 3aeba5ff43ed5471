package org.klpcatalog.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A kernel source configured with one {@code .config} and made ready for single translation units
 * ({@code make O=out olddefconfig modules_prepare}): {@code out} is kbuild's output directory,
 * which compile commands (run in the sandbox with the source at {@link KernelSources#SOURCE_INSIDE}
 * and the output at {@link KernelSources#OUT_INSIDE}) name by those fixed inside paths. {@code
 * configSha256} is the SHA-256 of the {@code .config} given; {@code identity} a SHA-256 over the
 * source's identity, that configuration, the compiler and the layout's format: what is compiled
 * from the tree is cached by it.
 */
public record PreparedTree(SourceTree source, Path out, String configSha256, String identity) {
  /**
   * The file in {@code out} that lists the options olddefconfig changed (see {@link
   * #configChanges}).
   */
  static final String CONFIG_CHANGES = "klp-config-changes.txt";

  public PreparedTree {
    Objects.requireNonNull(source);
    Objects.requireNonNull(out);
    Objects.requireNonNull(configSha256);
    Objects.requireNonNull(identity);
  }

  /**
   * The options whose values kbuild's olddefconfig changed from the {@code .config} given, as
   * {@code CONFIG_X: old -> new} (new options are not listed): on this machine's toolchain a
   * distribution's configuration can lose options that depend on the compiler or on tools (gcc
   * plugins, pahole), and code compiled here then differs from the distribution's build.
   */
  public List<String> configChanges() throws IOException {
    Path f = out.resolve(CONFIG_CHANGES);
    return Files.isRegularFile(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
  }
}
