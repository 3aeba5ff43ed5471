package org.klpcatalog.catalog.model;

import java.util.OptionalInt;

/**
 * A kernel symbol that a patch's livepatch.c uses although the kernel does not export it to modules
 * ({@code spec.symbols} or a variant's {@code symbols}): its name in the kernel's symbol table, the
 * object that holds it ({@code vmlinux} or a module the patch patches), and, where the name is not
 * unique in that object, its 1-based position among the symbols of that name in kallsyms order (the
 * livepatch core's {@code sympos}). {@code yamlPath} locates the entry in the manifest. The build
 * turns every relocation against it into a livepatch relocation ({@code
 * .klp.rela.<object>.<section>}, symbol {@code .klp.sym.<object>.<name>,<sympos>}).
 */
public record SymbolSpec(String name, String object, OptionalInt sympos, String yamlPath) {
  public static final String VMLINUX = "vmlinux";

  /** The position the livepatch core is given: 0 for "the only one". */
  public int position() {
    return sympos.orElse(0);
  }

  /** {@code object:name} or {@code object:name,sympos}, for messages and cache keys. */
  public String label() {
    return object + ":" + name + (sympos.isPresent() ? "," + sympos.getAsInt() : "");
  }
}
