package org.klpcatalog.catalog.analysis;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a fix changes in one kernel's source: the analysis (functions from the whole original and
 * patched files, flags, problems; the shape {@link PatchAnalyzer} gives) and, per file the fix
 * changes, how it applied to that kernel's file.
 */
public record SourceAnalysis(PatchAnalysis analysis, List<PatchApplier.FileResult> files) {

  /** Whether every file of the fix applied to the kernel's source without fuzz. */
  public boolean applies() {
    for (PatchApplier.FileResult f : files) {
      if (!f.applied()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The patched text by kernel path (the old path of a renamed file; the empty string for a deleted
   * one), for the files that applied.
   */
  public Map<String, String> patched() {
    Map<String, String> out = new TreeMap<>();
    for (PatchApplier.FileResult f : files) {
      if (f.applied()) {
        out.put(f.path(), f.patched().orElseThrow());
      }
    }
    return out;
  }
}
