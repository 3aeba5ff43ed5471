package org.klpcatalog.catalog.analysis;

import java.util.List;
import java.util.Optional;

/**
 * What a source-based livepatch module ({@code livepatch.c}, klp API) declares: the objects and
 * functions it replaces, its replace mode and its states. Lines are 1-based lines of the file.
 */
public record LivepatchSource(
    List<KlpObject> objects,
    Optional<Boolean> replace,
    int replaceLine,
    List<KlpState> states,
    boolean hasPatch,
    int patchLine,
    List<PatchAnalysis.Problem> problems) {

  /** Object name used for the kernel image itself ({@code .name = NULL}). */
  public static final String VMLINUX = "vmlinux";

  /** A {@code struct klp_object}: vmlinux or a module, and the functions it replaces there. */
  public record KlpObject(String name, List<KlpFunc> funcs, int line) {}

  /** A {@code struct klp_func} entry. */
  public record KlpFunc(String oldName, int sympos, int line) {}

  /** A {@code struct klp_state} entry. */
  public record KlpState(long id, long version, int line) {}
}
