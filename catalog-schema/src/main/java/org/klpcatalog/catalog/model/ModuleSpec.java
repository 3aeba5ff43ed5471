package org.klpcatalog.catalog.model;

import java.util.List;

/**
 * A loadable kernel module whose code the fix changes: its name (the {@code klp_object} name) and
 * the source files built into it. Functions of other files belong to vmlinux.
 */
public record ModuleSpec(String name, List<String> files) {

  /**
   * A module name as the kernel compares it: '-' and '_' are the same character in module names
   * (the kernel stores the '_' form), so {@code snd-hda} and {@code snd_hda} are one module.
   */
  public static String canonicalName(String name) {
    return name.replace('-', '_');
  }

  /** This module's name in the '_' form ({@link #canonicalName}). */
  public String canonicalName() {
    return canonicalName(name);
  }
}
