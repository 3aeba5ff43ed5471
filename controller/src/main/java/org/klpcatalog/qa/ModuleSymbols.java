package org.klpcatalog.qa;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.klp.ElfException;
import org.klpcatalog.klp.ElfFile;
import org.klpcatalog.klp.KernelSymbol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The symbols of a kernel's modules as the module loader's kallsyms keeps them: from each module's
 * {@code .symtab}, in its order (the order the livepatch core counts {@code sympos} in for a
 * module), only the symbols that are defined in a section the module loads and keeps (not
 * undefined, not absolute or special, named, in an {@code SHF_ALLOC} section, not in an {@code
 * .init} section); a local symbol with the file of the nearest {@code STT_FILE} symbol before it
 * (modules stripped of their debug information, like Debian's, have none: then, and for global
 * symbols, the file is {@code ""}).
 */
public final class ModuleSymbols {
  private static final Logger LOG = LoggerFactory.getLogger(ModuleSymbols.class);

  private ModuleSymbols() {}

  /**
   * Every module under {@code modulesDir/kernel}, by module name (the file name without {@code
   * .ko}, dashes as underscores).
   */
  public static Map<String, List<KernelSymbol>> all(String release, Path modulesDir)
      throws KernelException {
    return read(release, modulesDir, index(release, modulesDir), null);
  }

  /** The modules among {@code names} that the kernel has (the others are left out). */
  public static Map<String, List<KernelSymbol>> named(
      String release, Path modulesDir, Set<String> names) throws KernelException {
    return read(release, modulesDir, index(release, modulesDir), names);
  }

  /**
   * Module name -> file, from the file names alone. Compressed modules ({@code .ko.xz}, ...) are
   * not read: they are reported and left out.
   */
  static Map<String, Path> index(String release, Path modulesDir) throws KernelException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(modulesDir.resolve("kernel"))) {
      files = s.filter(p -> p.getFileName().toString().contains(".ko")).sorted().toList();
    } catch (IOException e) {
      throw new KernelException(
          "kernel "
              + release
              + ": cannot list its modules under "
              + modulesDir
              + ": "
              + e.getMessage(),
          e);
    }
    Map<String, Path> out = new TreeMap<>();
    List<String> compressed = new ArrayList<>();
    for (Path f : files) {
      String file = f.getFileName().toString();
      if (!file.endsWith(".ko")) {
        if (file.matches(".*\\.ko\\.(xz|zst|gz)")) {
          compressed.add(file);
        }
        continue;
      }
      Path first = out.putIfAbsent(SymbolTables.moduleName(file), f);
      if (first != null) {
        LOG.warn(
            "kernel {}: two modules named {}; using {}, not {}",
            release,
            SymbolTables.moduleName(file),
            first,
            f);
      }
    }
    if (!compressed.isEmpty()) {
      LOG.warn(
          "kernel {}: {} compressed module(s) (e.g. {}) are not read; their symbols cannot be"
              + " declared",
          release,
          compressed.size(),
          compressed.get(0));
    }
    return out;
  }

  /** The modules of {@code index} among {@code names} (all when null). */
  static Map<String, List<KernelSymbol>> read(
      String release, Path modulesDir, Map<String, Path> index, Set<String> names)
      throws KernelException {
    return read(release, modulesDir, index, names, new TreeMap<>());
  }

  /**
   * {@link #read}, also putting in {@code loadingOnly} each module's names of symbols that its
   * kallsyms holds only while it loads ({@link #loadingOnly(ElfFile)}).
   */
  static Map<String, List<KernelSymbol>> read(
      String release,
      Path modulesDir,
      Map<String, Path> index,
      Set<String> names,
      Map<String, Set<String>> loadingOnly)
      throws KernelException {
    Map<String, List<KernelSymbol>> out = new TreeMap<>();
    for (Map.Entry<String, Path> e : index.entrySet()) {
      if (names != null && !names.contains(e.getKey())) {
        continue;
      }
      try {
        ElfFile elf = ElfFile.parse(Files.readAllBytes(e.getValue()));
        out.put(e.getKey(), of(elf));
        loadingOnly.put(e.getKey(), loadingOnly(elf));
      } catch (IOException | ElfException x) {
        throw new KernelException(
            "kernel "
                + release
                + ": module "
                + modulesDir.relativize(e.getValue())
                + ": "
                + x.getMessage(),
            x);
      }
    }
    return out;
  }

  /** A module's kept symbols, in {@code .symtab} order. */
  public static List<KernelSymbol> of(ElfFile elf) {
    List<ElfFile.Section> sections = elf.sections();
    int shnum = sections.size();
    int percpu = elf.section(".data..percpu").map(ElfFile.Section::index).orElse(-1);
    List<KernelSymbol> out = new ArrayList<>();
    String file = "";
    for (ElfFile.Symbol s : elf.symbols()) {
      if (s.type() == ElfFile.STT_FILE) {
        file = s.name();
        continue;
      }
      if (s.undefined() || s.shndx() >= shnum || s.nameOffset() == 0) {
        continue;
      }
      ElfFile.Section sec = sections.get(s.shndx());
      if (!sec.is(ElfFile.SHF_ALLOC) || sec.name().startsWith(".init")) {
        continue;
      }
      // ELF puts every local symbol before the first global one: only a local one follows its file.
      out.add(
          new KernelSymbol(
              s.name(),
              s.value(),
              type(s, sec, percpu),
              s.bind() == ElfFile.STB_LOCAL ? file : ""));
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Names of the module's symbols that its kallsyms holds only while it loads: until its init
   * function has run the loader resolves names against the whole {@code .symtab}, so a symbol in an
   * {@code .init} or unloaded section counts then (when the module loads after a patch) and not
   * later (when the patch loads after the module). A declared name among these would have two
   * positions.
   */
  static Set<String> loadingOnly(ElfFile elf) {
    List<ElfFile.Section> sections = elf.sections();
    Set<String> out = new TreeSet<>();
    for (ElfFile.Symbol s : elf.symbols()) {
      if (s.undefined()
          || s.shndx() >= sections.size()
          || s.nameOffset() == 0
          || s.type() == ElfFile.STT_FILE
          || s.type() == ElfFile.STT_SECTION) {
        continue;
      }
      ElfFile.Section sec = sections.get(s.shndx());
      if (!sec.is(ElfFile.SHF_ALLOC) || sec.name().startsWith(".init")) {
        out.add(s.name());
      }
    }
    return out;
  }

  /** kallsyms' letter for a module's symbol, as the module loader assigns it. */
  static char type(ElfFile.Symbol s, ElfFile.Section sec, int percpu) {
    if (s.bind() == ElfFile.STB_WEAK) {
      return s.type() == 1 /* STT_OBJECT */ ? 'v' : 'w';
    }
    char c;
    if (s.shndx() == percpu) {
      c = 'a';
    } else if (sec.is(ElfFile.SHF_EXECINSTR)) {
      c = 't';
    } else if (sec.type() != ElfFile.SHT_NOBITS) {
      c = sec.is(ElfFile.SHF_WRITE) ? 'd' : 'r';
    } else {
      c = 'b';
    }
    return s.bind() == ElfFile.STB_LOCAL ? c : Character.toUpperCase(c);
  }
}
