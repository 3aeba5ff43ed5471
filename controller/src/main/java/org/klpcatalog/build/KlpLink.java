package org.klpcatalog.build;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.klp.ElfException;
import org.klpcatalog.klp.ElfFile;
import org.klpcatalog.klp.KernelSymbols;
import org.klpcatalog.klp.KlpRelocator;
import org.klpcatalog.klp.KlpVerifier;
import org.klpcatalog.klp.ModuleSymvers;
import org.klpcatalog.klp.SymbolResolver;
import org.klpcatalog.klp.SymbolSource;

/**
 * The post-link step and the check of a module's symbols, for one kernel. After kbuild links a
 * source-based module, its references to the patch's declared symbols that the kernel does not
 * export become livepatch relocations ({@link KlpRelocator}); any other symbol the kernel does not
 * export fails the module with a message saying how to declare it. Every module, whoever built it,
 * is then checked ({@link KlpVerifier}). The kernel's symbol tables are fetched only when a module
 * needs them (it uses a declared symbol that the kernel does not export), once per kernel.
 */
public final class KlpLink {
  /** Gives a kernel's tree with its image (for the symbol tables). */
  public interface ImageTrees {
    KernelTree withImage(BuildTask task) throws KernelException, InterruptedException;
  }

  private final SymbolSource source;
  private final ImageTrees images;
  private final Map<Path, Map<String, String>> exports = new ConcurrentHashMap<>();

  /**
   * The tables of this run's kernels, by release and objects: the link and the check share them.
   */
  private final Map<String, KernelSymbols> tables = new ConcurrentHashMap<>();

  public KlpLink(SymbolSource source, ImageTrees images) {
    this.source = source;
    this.images = images;
  }

  /** What kernel's exports are: its headers' Module.symvers, read once per tree. */
  Map<String, String> exports(KernelTree kernel) throws BuildException {
    Path symvers = kernel.headers().resolve("Module.symvers");
    try {
      return exports.computeIfAbsent(
          symvers,
          p -> {
            try {
              return ModuleSymvers.parse(
                  Files.readString(p, StandardCharsets.UTF_8), p.getFileName().toString());
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    } catch (UncheckedIOException | IllegalArgumentException e) {
      throw new BuildException(
          "kernel " + kernel.release() + ": cannot read its Module.symvers: " + e.getMessage());
    }
  }

  /**
   * Rewrites a freshly linked source-based module in place (when it uses declared symbols) and
   * appends what was done to {@code log}.
   */
  public void link(BuildTask task, KernelTree kernel, Path ko, Path log)
      throws BuildException, IOException, InterruptedException {
    String source = task.module().moduleSource().orElse("livepatch.c");
    ElfFile elf = parse(task, ko);
    Set<String> undefined = undefined(elf);
    Map<String, String> exp = exports(kernel);
    List<SymbolSpec> declared = task.symbols();
    KernelSymbols tables = null;
    if (!SymbolResolver.needed(undefined, exp, declared).isEmpty()) {
      tables = tables(task);
    }
    SymbolResolver.Resolution res =
        SymbolResolver.resolve(source, task.kernel().release(), undefined, exp, declared, tables);
    if (!res.ok()) {
      throw new BuildException(task.label() + ": " + String.join("\n", res.problems()));
    }
    List<String> logLines = new ArrayList<>();
    logLines.addAll(res.notes());
    if (!res.targets().isEmpty()) {
      KlpRelocator.Result r;
      try {
        r = KlpRelocator.rewrite(elf, res.targets());
      } catch (ElfException | RuntimeException e) {
        throw new BuildException(task.label() + ": " + e.getMessage());
      }
      // The sandbox wrote this directory: a name it left there may be a link to a host file, so
      // remove it and create the file afresh (O_EXCL never follows a link); the rename then
      // replaces the module's directory entry, not what it might point to.
      Path tmp = ko.resolveSibling(ko.getFileName() + ".klp");
      Files.deleteIfExists(tmp);
      Files.write(
          tmp,
          r.bytes(),
          StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE,
          LinkOption.NOFOLLOW_LINKS);
      Files.move(tmp, ko, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      r.symbols().forEach(s -> logLines.add("livepatch symbol: " + s));
      r.sections().forEach(s -> logLines.add("livepatch relocation section: " + s));
    }
    if (!logLines.isEmpty()) {
      Files.writeString(
          log,
          "post-link ("
              + (tables == null ? "no symbol tables needed" : tables.source())
              + "):\n"
              + String.join("\n", logLines)
              + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
  }

  /** Checks a module's symbols and relocations against the kernel (any builder's module). */
  public void verify(BuildTask task, KernelTree kernel, Path ko)
      throws BuildException, IOException, InterruptedException {
    ElfFile elf = parse(task, ko);
    // The objects its livepatch symbols name (kpatch-build writes them for the patched module's
    // own static symbols, which the patch does not declare).
    Set<String> named = new TreeSet<>();
    for (ElfFile.Symbol s : elf.symbols()) {
      Matcher k = KlpVerifier.KLP_SYM.matcher(s.name());
      if (s.shndx() == ElfFile.SHN_LIVEPATCH && k.matches()) {
        named.add(k.group(1));
      }
    }
    boolean hasKlp = elf.symbols().stream().anyMatch(s -> s.shndx() == ElfFile.SHN_LIVEPATCH);
    List<String> problems;
    try {
      problems =
          KlpVerifier.verify(
              elf, task.kernel().release(), exports(kernel), hasKlp ? tables(task, named) : null);
    } catch (ElfException | RuntimeException e) {
      throw new BuildException(
          task.label() + ": the module is not a well-formed ELF file: " + e.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new BuildException(
          task.label()
              + ": the module's symbols do not fit the kernel:\n  "
              + String.join("\n  ", problems));
    }
  }

  private KernelSymbols tables(BuildTask task) throws BuildException, InterruptedException {
    return tables(task, Set.of());
  }

  /** The tables of vmlinux, the task's declared objects and {@code more} objects. */
  private KernelSymbols tables(BuildTask task, Set<String> more)
      throws BuildException, InterruptedException {
    Set<String> objects = new TreeSet<>(more);
    objects.add(SymbolSpec.VMLINUX);
    task.symbols().forEach(s -> objects.add(s.object()));
    String key = task.kernel().release() + " " + objects;
    KernelSymbols known = tables.get(key);
    if (known != null) {
      return known;
    }
    try {
      KernelSymbols t = source.symbols(images.withImage(task), objects);
      tables.put(key, t);
      return t;
    } catch (KernelException e) {
      throw new BuildException(
          task.label() + ": cannot read the kernel's symbol tables: " + e.getMessage());
    }
  }

  private static ElfFile parse(BuildTask task, Path ko) throws BuildException, IOException {
    try {
      return ElfFile.parse(Files.readAllBytes(ko));
    } catch (ElfException | RuntimeException e) {
      throw new BuildException(
          task.label() + ": the module is not a well-formed ELF file: " + e.getMessage());
    }
  }

  static Set<String> undefined(ElfFile elf) {
    Set<String> out = new TreeSet<>();
    for (ElfFile.Symbol s : elf.symbols()) {
      if (s.index() > 0 && s.undefined() && !s.name().isEmpty()) {
        out.add(s.name());
      }
    }
    return out;
  }
}
