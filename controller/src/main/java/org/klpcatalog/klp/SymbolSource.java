package org.klpcatalog.klp;

import java.util.Set;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelTree;

/**
 * Where a build gets a kernel's symbol tables from. {@code kernel} was provided with its image (the
 * bootable kernel and its modules).
 */
public interface SymbolSource {
  KernelSymbols symbols(KernelTree kernel) throws KernelException, InterruptedException;

  /**
   * The tables of vmlinux and of the modules among {@code objects} (a source may give more): what a
   * build needs for the objects its declarations name, which can be much cheaper than every
   * module's table.
   */
  default KernelSymbols symbols(KernelTree kernel, Set<String> objects)
      throws KernelException, InterruptedException {
    return symbols(kernel);
  }

  /** A source for runs that cannot read symbol tables: a module that needs them fails with why. */
  static SymbolSource unavailable(String why) {
    return kernel -> {
      throw new KernelException(
          "kernel " + kernel.release() + ": no symbol tables here (" + why + ")");
    };
  }
}
