package org.klpcatalog.klp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.klpcatalog.klp.ElfFile.Rela;
import org.klpcatalog.klp.ElfFile.Section;
import org.klpcatalog.klp.ElfFile.Symbol;

/**
 * The post-link step: turns a linked livepatch module's references to kernel symbols that are not
 * exported into livepatch relocations, as the kernel's
 * Documentation/livepatch/module-elf-format.rst specifies. Every undefined symbol named in the
 * targets becomes {@code .klp.sym.<object>.<name>,<sympos>} with section index {@code
 * SHN_LIVEPATCH}; every relocation against it leaves its ordinary {@code .rela} section for a new
 * {@code .klp.rela.<object>.<section>} section (flags {@code SHF_ALLOC | SHF_INFO_LINK |
 * SHF_RELA_LIVEPATCH}), one per target section and object, which the livepatch core applies once
 * the object is loaded.
 *
 * <p>Pure code over the module's bytes, deterministic: the same module and targets give the same
 * bytes. Symbol indices are kept (the core resolves relocations by index); the file keeps every
 * byte it had, with the emptied tail of each shrunk relocation section zeroed, and gains at its end
 * the grown string tables, the new sections and a new section header table.
 */
public final class KlpRelocator {
  /** Where a declared symbol lives: its object and its sympos (0: the only one of its name). */
  public record Target(String object, int sympos) {}

  /** The rewritten module and what was done, for logs. */
  public record Result(byte[] bytes, List<String> symbols, List<String> sections) {
    public boolean changed() {
      return !symbols.isEmpty();
    }
  }

  /** Relocation types the x86-64 module loader applies ({@code apply_relocate_add}). */
  private static final Set<Integer> X86_64_TYPES = Set.of(1, 2, 4, 10, 11, 24);

  private static final int EM_X86_64 = 62;

  private KlpRelocator() {}

  /**
   * Rewrites {@code module}. {@code targets} maps symbol names to where they live; undefined
   * symbols of other names are left alone (the caller checks they are exported).
   */
  public static Result rewrite(ElfFile module, Map<String, Target> targets) throws ElfException {
    byte[] in = module.bytes();
    ByteBuffer inBuf = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
    int machine = inBuf.getShort(18) & 0xffff;
    Map<Integer, Target> converted = new TreeMap<>();
    for (Symbol s : module.symbols()) {
      if (s.index() > 0 && s.undefined() && targets.containsKey(s.name())) {
        converted.put(s.index(), targets.get(s.name()));
      }
    }
    if (converted.isEmpty()) {
      return new Result(in, List.of(), List.of());
    }
    if (machine != EM_X86_64) {
      throw new ElfException(
          "livepatch relocations are written for x86-64 modules only (this one is for machine "
              + machine
              + ")");
    }
    for (Target t : converted.values()) {
      if (!t.object().matches("[A-Za-z0-9_]{1,55}") || t.sympos() < 0) {
        throw new ElfException(
            "object name '" + t.object() + "' or position " + t.sympos() + " cannot be encoded");
      }
    }
    List<Section> sections = module.sections();
    Section symtab = sections.get(module.symtabIndex());
    Section strtab = sections.get(symtab.link());
    Section shstrtab = sections.get(module.sectionNamesIndex());
    if (strtab.index() == shstrtab.index()) {
      throw new ElfException("symbol and section names share one string table; not supported");
    }
    byte[] out = Arrays.copyOf(in, in.length);
    ByteBuffer outBuf = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);

    // 1. Move every relocation against a converted symbol out of its section.
    record NewSection(String name, int target, List<Rela> entries) {}
    Map<String, NewSection> added = new LinkedHashMap<>();
    Set<String> existing = new HashSet<>();
    sections.forEach(s -> existing.add(s.name()));
    long[] newSize = new long[sections.size()];
    for (Section s : sections) {
      newSize[s.index()] = s.size();
      if (s.type() != ElfFile.SHT_RELA
          || s.is(ElfFile.SHF_RELA_LIVEPATCH)
          || s.link() != symtab.index()) {
        continue;
      }
      List<Rela> keep = new ArrayList<>();
      Map<String, List<Rela>> moved = new TreeMap<>();
      for (Rela r : module.relocations(s)) {
        Target t = converted.get(r.symbol());
        if (t == null) {
          keep.add(r);
          continue;
        }
        if (!X86_64_TYPES.contains(r.type())) {
          throw new ElfException(
              "relocation type "
                  + r.type()
                  + " against "
                  + module.symbols().get(r.symbol()).name()
                  + " in "
                  + s.name()
                  + " is not one the kernel's module loader applies");
        }
        moved.computeIfAbsent(t.object(), o -> new ArrayList<>()).add(r);
      }
      if (moved.isEmpty()) {
        continue;
      }
      Section target = sections.get(s.info());
      if (!patchable(target)) {
        String sym = module.symbols().get(moved.values().iterator().next().get(0).symbol()).name();
        throw new ElfException(
            sym
                + " is used in section "
                + target.name()
                + "; a declared symbol may be used only by functions and data of the patch (.text,"
                + " .data, .rodata), since the kernel processes "
                + target.name()
                + " before it applies livepatch relocations");
      }
      for (Map.Entry<String, List<Rela>> e : moved.entrySet()) {
        String name = ".klp.rela." + e.getKey() + "." + target.name();
        if (added.containsKey(name) || existing.contains(name)) {
          throw new ElfException("two relocation sections for " + name);
        }
        added.put(name, new NewSection(name, target.index(), e.getValue()));
      }
      int at = (int) s.offset();
      for (Rela r : keep) {
        writeRela(outBuf, at, r);
        at += ElfFile.RELA_SIZE;
      }
      Arrays.fill(out, at, (int) (s.offset() + s.size()), (byte) 0);
      newSize[s.index()] = (long) keep.size() * ElfFile.RELA_SIZE;
    }

    // 2. Rename the converted symbols; their names go at the end of a grown copy of .strtab.
    StringBuilder newNames = new StringBuilder();
    List<String> symbolNames = new ArrayList<>();
    int strBase = (int) strtab.size();
    for (Map.Entry<Integer, Target> e : converted.entrySet()) {
      Symbol s = module.symbols().get(e.getKey());
      String klpName =
          ".klp.sym." + e.getValue().object() + "." + s.name() + "," + e.getValue().sympos();
      int o = (int) symtab.offset() + s.index() * ElfFile.SYM_SIZE;
      outBuf.putInt(o, strBase + newNames.length());
      out[o + 4] = (byte) ((ElfFile.STB_GLOBAL << 4) | ElfFile.STT_NOTYPE);
      out[o + 5] = 0;
      outBuf.putShort(o + 6, (short) ElfFile.SHN_LIVEPATCH);
      outBuf.putLong(o + 8, 0);
      outBuf.putLong(o + 16, 0);
      newNames.append(klpName).append('\0');
      symbolNames.add(klpName);
    }
    StringBuilder newSectionNames = new StringBuilder();
    int shstrBase = (int) shstrtab.size();
    Map<String, Integer> sectionNameOffsets = new LinkedHashMap<>();
    for (String n : added.keySet()) {
      sectionNameOffsets.put(n, shstrBase + newSectionNames.length());
      newSectionNames.append(n).append('\0');
    }

    // 3. Append the grown string tables, the new relocation sections and the header table.
    Appender tail = new Appender(out);
    long strOff = tail.append(concat(in, strtab, newNames), 1);
    long strSize = strtab.size() + newNames.length();
    long shstrOff = tail.append(concat(in, shstrtab, newSectionNames), 1);
    long shstrSize = shstrtab.size() + newSectionNames.length();
    List<long[]> addedHeaders = new ArrayList<>();
    for (NewSection ns : added.values()) {
      ByteBuffer data =
          ByteBuffer.allocate(ns.entries().size() * ElfFile.RELA_SIZE)
              .order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < ns.entries().size(); i++) {
        writeRela(data, i * ElfFile.RELA_SIZE, ns.entries().get(i));
      }
      long off = tail.append(data.array(), 8);
      addedHeaders.add(
          new long[] {
            sectionNameOffsets.get(ns.name()),
            ElfFile.SHT_RELA,
            ElfFile.SHF_ALLOC | ElfFile.SHF_INFO_LINK | ElfFile.SHF_RELA_LIVEPATCH,
            0,
            off,
            data.capacity(),
            symtab.index(),
            ns.target(),
            8,
            ElfFile.RELA_SIZE
          });
    }
    int shnum = sections.size() + addedHeaders.size();
    if (shnum >= ElfFile.SHN_LORESERVE) {
      throw new ElfException(
          "the module would have " + shnum + " sections, more than ELF's section index holds");
    }
    ByteBuffer table =
        ByteBuffer.allocate(shnum * ElfFile.SHDR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (Section s : sections) {
      long off = s.offset();
      long size = newSize[s.index()];
      if (s.index() == strtab.index()) {
        off = strOff;
        size = strSize;
      } else if (s.index() == shstrtab.index()) {
        off = shstrOff;
        size = shstrSize;
      }
      writeHeader(
          table,
          s.index(),
          new long[] {
            s.nameOffset(),
            s.type(),
            s.flags(),
            s.addr(),
            off,
            size,
            s.link(),
            s.info(),
            s.addralign(),
            s.entsize()
          });
    }
    for (int i = 0; i < addedHeaders.size(); i++) {
      writeHeader(table, sections.size() + i, addedHeaders.get(i));
    }
    long shoff = tail.append(table.array(), 8);
    byte[] result = tail.bytes();
    ByteBuffer res = ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN);
    res.putLong(0x28, shoff);
    res.putShort(0x3c, (short) shnum);
    return new Result(result, List.copyOf(symbolNames), List.copyOf(added.keySet()));
  }

  /**
   * Sections whose relocations the livepatch core may apply late: code and data of the patch.
   * Special sections (jump tables, static calls, alternatives, exception tables, init code) are
   * processed by the module loader before, or without, livepatch relocations.
   */
  static boolean patchable(Section target) {
    String n = target.name();
    if (!target.is(ElfFile.SHF_ALLOC)) {
      return false;
    }
    if (n.equals(".data..percpu") || n.startsWith(".data..percpu.")) {
      // Per-CPU data is copied to each CPU's area at load; the section itself does not stay.
      return false;
    }
    for (String prefix : List.of(".text", ".data", ".rodata")) {
      if (n.equals(prefix) || n.startsWith(prefix + ".")) {
        return true;
      }
    }
    return false;
  }

  private static byte[] concat(byte[] in, Section table, CharSequence extra) {
    byte[] add = extra.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] b =
        Arrays.copyOfRange(
            in, (int) table.offset(), (int) (table.offset() + table.size() + add.length));
    System.arraycopy(add, 0, b, (int) table.size(), add.length);
    return b;
  }

  private static void writeRela(ByteBuffer b, int at, Rela r) {
    b.putLong(at, r.offset());
    b.putLong(at + 8, r.info());
    b.putLong(at + 16, r.addend());
  }

  private static void writeHeader(ByteBuffer b, int index, long[] h) {
    int o = index * ElfFile.SHDR_SIZE;
    b.putInt(o, (int) h[0]);
    b.putInt(o + 4, (int) h[1]);
    b.putLong(o + 8, h[2]);
    b.putLong(o + 16, h[3]);
    b.putLong(o + 24, h[4]);
    b.putLong(o + 32, h[5]);
    b.putInt(o + 40, (int) h[6]);
    b.putInt(o + 44, (int) h[7]);
    b.putLong(o + 48, h[8]);
    b.putLong(o + 56, h[9]);
  }

  /** Appends aligned blocks to a byte array. */
  private static final class Appender {
    private byte[] data;
    private int length;

    Appender(byte[] start) {
      data = start;
      length = start.length;
    }

    long append(byte[] block, int align) {
      int at = (length + align - 1) / align * align;
      int need = at + block.length;
      if (need > data.length) {
        data = Arrays.copyOf(data, Math.max(need, data.length * 2));
      }
      System.arraycopy(block, 0, data, at, block.length);
      length = need;
      return at;
    }

    byte[] bytes() {
      return Arrays.copyOf(data, length);
    }
  }
}
