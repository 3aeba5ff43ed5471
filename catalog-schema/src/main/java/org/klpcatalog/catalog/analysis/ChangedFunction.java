package org.klpcatalog.catalog.analysis;

/**
 * A function a fix touches. The {@link #key()} {@code path/file.c:name} keeps static functions of
 * the same name in different files apart; it is the name of the package's {@code
 * kpatch-function(...)} capability. {@code patchLine} is the first diff line that changes it.
 */
public record ChangedFunction(String file, String name, ChangeKind change, int patchLine) {
  public String key() {
    return file + ":" + name;
  }
}
