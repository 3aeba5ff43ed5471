package org.klpcatalog.catalog.model;

import java.util.List;

/**
 * A loadable kernel module whose code the fix changes: its name (the {@code klp_object} name) and
 * the source files built into it. Functions of other files belong to vmlinux.
 */
public record ModuleSpec(String name, List<String> files) {}
