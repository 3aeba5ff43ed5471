package org.klpcatalog.catalog.analysis;

import java.util.Locale;
import java.util.Optional;

/**
 * What a livepatch cannot safely carry without a maintainer's review. Each flag is an error in
 * {@code validate} unless the manifest acknowledges it ({@code spec.acknowledge}) with a reason.
 */
public enum FlagKind {
  /** A struct, union, enum or typedef definition changes: v1 and v2 data would differ. */
  DATA_STRUCTURE("data-structure"),
  /** A global or static variable, or its initialiser, changes. */
  GLOBAL_DATA("global-data"),
  /** A macro definition changes: every user was compiled with the old one. */
  MACRO("macro"),
  /** Another change outside any function (initcalls, exports, top-level conditionals). */
  OUTSIDE_FUNCTION("outside-function"),
  /** A header changes: its inline code and types are compiled into unknown callers. */
  HEADER("header"),
  /** An __init function changes: it ran at boot and is gone. */
  INIT_FUNCTION("init-function"),
  /** An __exit function changes: built-in code never runs it; a module's runs at unload only. */
  EXIT_FUNCTION("exit-function"),
  /** A function the catalog lists as unpatchable (always on some task's stack). */
  UNPATCHABLE_FUNCTION("unpatchable-function"),
  /** A function's signature changes: its callers pass the old arguments. */
  SIGNATURE_CHANGE("signature-change"),
  /** An inline function changes: the compiler copied it into callers the diff does not show. */
  INLINE_FUNCTION("inline-function"),
  /** A file that is not C source changes (Kconfig, Makefile, assembly). */
  NON_SOURCE_FILE("non-source-file"),
  /**
   * The compiler changes a function's code for one kernel (a caller a changed function was inlined
   * into) but the module does not replace it. Found by the source checks against the kernel's
   * source, never by {@code validate}; acknowledged when the old code is safe to keep running.
   */
  CODE_CHANGE("code-change");

  private final String id;

  FlagKind(String id) {
    this.id = id;
  }

  /** The name used in manifests and reports. */
  public String id() {
    return id;
  }

  public static Optional<FlagKind> byId(String id) {
    for (FlagKind k : values()) {
      if (k.id.equals(id.toLowerCase(Locale.ROOT))) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
