package org.klpcatalog.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;

/**
 * Checks a built module before it is packaged: {@code modinfo} says {@code livepatch: Y}, its name
 * is the planned one, its vermagic is the kernel release's, and every function the patch replaces
 * is named in it (the {@code klp_func.old_name} strings). modinfo reads the module in the {@link
 * Sandbox}, since the module's bytes are the contributor's.
 */
public final class ModuleCheck {
  private ModuleCheck() {}

  public static void check(BuildTask task, Path ko, Sandbox sandbox)
      throws BuildException, IOException, InterruptedException {
    String release = task.kernel().release();
    Map<String, String> info = modinfo(ko, sandbox);
    String vermagic = info.getOrDefault("vermagic", "");
    if (!vermagic.startsWith(release + " ")) {
      throw new BuildException(
          task.label()
              + ": the module's vermagic is '"
              + vermagic
              + "', not "
              + release
              + ": it was built against other headers");
    }
    if (!info.getOrDefault("livepatch", "").equals("Y")) {
      throw new BuildException(
          task.label()
              + ": modinfo does not say livepatch: Y; the module needs"
              + " MODULE_INFO(livepatch, \"Y\")");
    }
    String name = info.getOrDefault("name", "");
    if (!name.equals(task.module().moduleName())) {
      throw new BuildException(
          task.label() + ": the module is named " + name + ", not " + task.module().moduleName());
    }
    List<String> missing = new ArrayList<>();
    byte[] bytes = Files.readAllBytes(ko);
    for (String f : task.replacedFunctions()) {
      if (!containsCString(bytes, f)) {
        missing.add(f);
      }
    }
    if (!missing.isEmpty()) {
      throw new BuildException(
          task.label()
              + ": the module does not name the functions the fix changes: "
              + String.join(", ", missing));
    }
  }

  /**
   * The module's .modinfo fields (the first value of each), from one sandboxed {@code modinfo -0}
   * whose NUL-separated output no value can forge a field into.
   */
  static Map<String, String> modinfo(Path ko, Sandbox sandbox)
      throws IOException, InterruptedException {
    Path dir = ko.toAbsolutePath().getParent();
    Sandbox.Run run =
        sandbox
            .withLimits(sandbox.limits().withCpu(Duration.ofSeconds(60)))
            .run()
            .readOnly(dir, "/module")
            .chdir("/module");
    Command.Result r =
        run.command("modinfo", "-0", run.inside(ko)).timeout(Duration.ofSeconds(60)).run();
    if (!r.ok()) {
      throw new IOException(
          "modinfo cannot read " + ko.getFileName() + ": " + Command.tail(r.output(), 5));
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String entry : r.output().split("\u0000")) {
      int eq = entry.indexOf('=');
      if (eq > 0 && !entry.startsWith("filename:")) {
        fields.putIfAbsent(entry.substring(0, eq).strip(), entry.substring(eq + 1).strip());
      }
    }
    return fields;
  }

  /** Whether {@code s} appears in the file as a NUL-delimited string. */
  static boolean containsCString(byte[] data, String s) {
    byte[] needle = s.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 1; i + needle.length < data.length; i++) {
      if (data[i - 1] != 0 || data[i + needle.length] != 0) {
        continue;
      }
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
