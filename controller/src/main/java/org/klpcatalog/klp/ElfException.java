package org.klpcatalog.klp;

/** An ELF file that is not what it claims to be, or that this code cannot rewrite. */
public final class ElfException extends Exception {
  public ElfException(String message) {
    super(message);
  }
}
