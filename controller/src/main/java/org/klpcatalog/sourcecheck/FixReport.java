package org.klpcatalog.sourcecheck;

import java.util.List;
import org.klpcatalog.catalog.analysis.ChangedFunction;

/**
 * What the source checks found for one fix against one kernel's source: whether it applies (the
 * failed hunks otherwise), the functions it changes as the whole original and patched files show
 * them, per compiled translation unit what the compiler changed, and the changed {@code .c} files
 * the kernel's configuration does not build ({@code unbuilt}). Depends only on the fix's bytes and
 * the prepared source tree (source version and configuration), so it is cached by them ({@link
 * SourceChecker}); what a module must replace is judged from it by {@link FixVerdict}.
 */
public record FixReport(
    String release,
    String sourceVersion,
    List<ApplyFailure> failures,
    List<ChangedFunction> functions,
    List<UnitReport> units,
    List<String> unbuilt) {

  public FixReport {
    failures = List.copyOf(failures);
    functions = List.copyOf(functions);
    units = List.copyOf(units);
    unbuilt = List.copyOf(unbuilt);
  }

  /** Every hunk applied. */
  public boolean applies() {
    return failures.isEmpty();
  }

  /**
   * Why the fix cannot serve this kernel, for one file: a hunk that does not apply ({@code hunk}
   * and {@code patchLine} name it), a change the kernel already has, a patched file that does not
   * compile, a fix too big to check. {@code message} says which, whole.
   */
  public record ApplyFailure(String file, int hunk, int patchLine, String message) {}

  /**
   * One translation unit compiled before and after the fix. {@code object} is where its code lives
   * in the running kernel: {@code vmlinux} or a module's name. {@code changed} are the function
   * symbols whose code differs; {@code inlinedAway} the functions the fix's source changes that
   * exist as a symbol in neither object (the compiler inlined them everywhere); {@code
   * codeUnchanged} those whose source changed but whose code did not; {@code removed} and {@code
   * added} the function symbols only the original or only the patched object has.
   */
  public record UnitReport(
      String path,
      String object,
      List<CodeChange> changed,
      List<String> inlinedAway,
      List<String> codeUnchanged,
      List<String> removed,
      List<String> added) {
    public UnitReport {
      changed = List.copyOf(changed);
      inlinedAway = List.copyOf(inlinedAway);
      codeUnchanged = List.copyOf(codeUnchanged);
      removed = List.copyOf(removed);
      added = List.copyOf(added);
    }
  }

  /**
   * A function symbol whose code the fix changes. {@code sourceChanged} when the fix's source
   * changes the function itself; otherwise {@code carries} names the changed functions the compiler
   * inlined into it (found through the calls of its source), and {@code reason} says what differs
   * in its code.
   */
  public record CodeChange(
      String symbol, boolean sourceChanged, List<String> carries, String reason) {
    public CodeChange {
      carries = List.copyOf(carries);
    }
  }
}
