package org.klpcatalog.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.klpcatalog.exec.Command;

/**
 * Checks a built module before it is packaged: {@code modinfo} says {@code livepatch: Y}, its
 * name is the planned one, its vermagic is the kernel release's, and every function the patch
 * replaces is named in it (the {@code klp_func.old_name} strings).
 */
public final class ModuleCheck {
  private ModuleCheck() {}

  public static void check(BuildTask task, Path ko) throws BuildException, IOException, InterruptedException {
    String release = task.kernel().release();
    String vermagic = modinfo(ko, "vermagic");
    if (!vermagic.startsWith(release + " ")) {
      throw new BuildException(task.label() + ": the module's vermagic is '" + vermagic + "', not " + release
          + ": it was built against other headers");
    }
    if (!modinfo(ko, "livepatch").equals("Y")) {
      throw new BuildException(task.label() + ": modinfo does not say livepatch: Y; the module needs"
          + " MODULE_INFO(livepatch, \"Y\")");
    }
    String name = modinfo(ko, "name");
    if (!name.equals(task.module().moduleName())) {
      throw new BuildException(task.label() + ": the module is named " + name + ", not " + task.module().moduleName());
    }
    List<String> missing = new ArrayList<>();
    byte[] bytes = Files.readAllBytes(ko);
    for (String f : task.replacedFunctions()) {
      if (!containsCString(bytes, f)) {
        missing.add(f);
      }
    }
    if (!missing.isEmpty()) {
      throw new BuildException(task.label() + ": the module does not name the functions the fix changes: "
          + String.join(", ", missing));
    }
  }

  static String modinfo(Path ko, String field) throws IOException, InterruptedException {
    return Command.of("modinfo", "-F", field, ko.toString()).check().strip();
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
