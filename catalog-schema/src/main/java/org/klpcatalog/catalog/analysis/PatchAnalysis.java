package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a fix changes: its functions (sorted by key), the flagged changes, and the problems that
 * kept parts of it from being analysed (each with its diff line).
 */
public record PatchAnalysis(
    List<ChangedFunction> functions, List<Flag> flags, List<Problem> problems, List<String> files) {

  /** A part of the diff that could not be analysed. */
  public record Problem(int patchLine, String message) {}

  /** Functions a livepatch module must replace: the modified ones. */
  public List<ChangedFunction> replaced() {
    List<ChangedFunction> out = new ArrayList<>();
    for (ChangedFunction f : functions) {
      if (f.change() == ChangeKind.MODIFIED) {
        out.add(f);
      }
    }
    return out;
  }

  /**
   * Keys of the functions that another patch must not change at the same time: modified and deleted
   * ones. Added functions live in the patch's own module and cannot clash.
   */
  public Set<String> ownedKeys() {
    Set<String> keys = new TreeSet<>();
    for (ChangedFunction f : functions) {
      if (f.change() != ChangeKind.ADDED) {
        keys.add(f.key());
      }
    }
    return keys;
  }
}
