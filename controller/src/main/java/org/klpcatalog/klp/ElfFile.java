package org.klpcatalog.klp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A read-only view of a 64-bit little-endian ELF relocatable file (a kernel module): its section
 * headers, its symbol table and its RELA relocations. Every offset and size is checked against the
 * file before it is used, so a truncated or hostile file gives an {@link ElfException}, never an
 * out-of-bounds read; parsing is linear in the file's size.
 */
public final class ElfFile {
  public static final int SHT_SYMTAB = 2;
  public static final int SHT_STRTAB = 3;
  public static final int SHT_RELA = 4;
  public static final int SHT_NOBITS = 8;
  public static final int SHT_REL = 9;
  public static final int EM_X86_64 = 62;
  public static final long SHF_WRITE = 0x1;
  public static final long SHF_ALLOC = 0x2;
  public static final long SHF_EXECINSTR = 0x4;
  public static final long SHF_MERGE = 0x10;
  public static final long SHF_STRINGS = 0x20;
  public static final long SHF_INFO_LINK = 0x40;

  /** The kernel's flag for livepatch relocation sections (include/uapi/linux/elf.h). */
  public static final long SHF_RELA_LIVEPATCH = 0x00100000;

  public static final int SHN_UNDEF = 0;
  public static final int SHN_LORESERVE = 0xff00;

  /** The kernel's section index of livepatch symbols. */
  public static final int SHN_LIVEPATCH = 0xff20;

  public static final int STB_LOCAL = 0;
  public static final int STB_GLOBAL = 1;
  public static final int STB_WEAK = 2;
  public static final int STT_NOTYPE = 0;
  public static final int STT_OBJECT = 1;
  public static final int STT_FUNC = 2;
  public static final int STT_SECTION = 3;
  public static final int STT_FILE = 4;
  static final int EHDR_SIZE = 64;
  static final int SHDR_SIZE = 64;
  static final int SYM_SIZE = 24;
  static final int RELA_SIZE = 24;

  /** A section header, with its name. */
  public record Section(
      int index,
      String name,
      int nameOffset,
      int type,
      long flags,
      long addr,
      long offset,
      long size,
      int link,
      int info,
      long addralign,
      long entsize) {
    public boolean is(long flag) {
      return (flags & flag) != 0;
    }
  }

  /** A symbol table entry, with its name. */
  public record Symbol(
      int index,
      String name,
      int nameOffset,
      int info,
      int other,
      int shndx,
      long value,
      long size) {
    public int bind() {
      return info >>> 4;
    }

    public int type() {
      return info & 0xf;
    }

    public boolean undefined() {
      return shndx == SHN_UNDEF;
    }
  }

  /** A RELA entry: where, which symbol, which type, which addend. */
  public record Rela(long offset, int symbol, int type, long addend) {
    long info() {
      return ((long) symbol << 32) | (type & 0xffffffffL);
    }
  }

  private final byte[] bytes;
  private final ByteBuffer buf;
  private final long shoff;
  private final int shstrndx;
  private final List<Section> sections;
  private final int symtabIndex;
  private final List<Symbol> symbols;
  private final Map<String, int[]> nulIndex = new HashMap<>();

  private ElfFile(byte[] bytes) throws ElfException {
    this.bytes = bytes;
    this.buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < EHDR_SIZE
        || bytes[0] != 0x7f
        || bytes[1] != 'E'
        || bytes[2] != 'L'
        || bytes[3] != 'F') {
      throw new ElfException("not an ELF file");
    }
    if (bytes[4] != 2 || bytes[5] != 1) {
      throw new ElfException("not a 64-bit little-endian ELF file");
    }
    if (u16(16) != 1) {
      throw new ElfException("not a relocatable ELF file (a module is ET_REL)");
    }
    shoff = buf.getLong(0x28);
    int shentsize = u16(0x3a);
    int shnum = u16(0x3c);
    shstrndx = u16(0x3e);
    if (shentsize != SHDR_SIZE || shnum == 0 || shstrndx >= shnum || shnum >= SHN_LORESERVE) {
      throw new ElfException(
          "unsupported section header table (entry size "
              + shentsize
              + ", "
              + shnum
              + " sections, names in "
              + shstrndx
              + ")");
    }
    check(shoff, (long) shnum * SHDR_SIZE, "the section header table");
    List<long[]> raw = new ArrayList<>(shnum);
    for (int i = 0; i < shnum; i++) {
      int o = (int) shoff + i * SHDR_SIZE;
      raw.add(
          new long[] {
            u32(o),
            u32(o + 4),
            buf.getLong(o + 8),
            buf.getLong(o + 16),
            buf.getLong(o + 24),
            buf.getLong(o + 32),
            u32(o + 40),
            u32(o + 44),
            buf.getLong(o + 48),
            buf.getLong(o + 56)
          });
    }
    long[] names = raw.get(shstrndx);
    if (names[1] != SHT_STRTAB) {
      throw new ElfException("section " + shstrndx + " (section names) is not a string table");
    }
    check(names[4], names[5], "the section name table");
    List<Section> secs = new ArrayList<>(shnum);
    for (int i = 0; i < shnum; i++) {
      long[] r = raw.get(i);
      int type = (int) r[1];
      if (type != SHT_NOBITS) {
        check(r[4], r[5], "section " + i);
      }
      if (r[6] >= shnum || (type == SHT_RELA && r[7] >= shnum)) {
        throw new ElfException("section " + i + " links to a section that does not exist");
      }
      String name = string(names[4], names[5], r[0], "section " + i + "'s name");
      secs.add(
          new Section(
              i,
              name,
              (int) r[0],
              type,
              r[2],
              r[3],
              r[4],
              r[5],
              (int) r[6],
              (int) r[7],
              r[8],
              r[9]));
    }
    sections = Collections.unmodifiableList(secs);
    int symtab = -1;
    for (Section s : sections) {
      if (s.type() == SHT_SYMTAB) {
        if (symtab >= 0) {
          throw new ElfException("more than one symbol table");
        }
        symtab = s.index();
      }
    }
    symtabIndex = symtab;
    if (symtab < 0) {
      symbols = List.of();
      return;
    }
    Section st = sections.get(symtab);
    Section strtab = sections.get(st.link());
    if (st.entsize() != SYM_SIZE || st.size() % SYM_SIZE != 0 || strtab.type() != SHT_STRTAB) {
      throw new ElfException("malformed symbol table");
    }
    int count = (int) (st.size() / SYM_SIZE);
    List<Symbol> syms = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int o = (int) st.offset() + i * SYM_SIZE;
      long nameOff = u32(o);
      String name = string(strtab.offset(), strtab.size(), nameOff, "symbol " + i + "'s name");
      syms.add(
          new Symbol(
              i,
              name,
              (int) nameOff,
              bytes[o + 4] & 0xff,
              bytes[o + 5] & 0xff,
              u16(o + 6),
              buf.getLong(o + 8),
              buf.getLong(o + 16)));
    }
    symbols = Collections.unmodifiableList(syms);
  }

  public static ElfFile parse(byte[] bytes) throws ElfException {
    return new ElfFile(bytes);
  }

  public byte[] bytes() {
    return bytes;
  }

  /** The ELF header's machine ({@link #EM_X86_64} for x86-64). */
  public int machine() {
    return u16(18);
  }

  public long sectionHeaderOffset() {
    return shoff;
  }

  public int sectionNamesIndex() {
    return shstrndx;
  }

  public List<Section> sections() {
    return sections;
  }

  public Optional<Section> section(String name) {
    return sections.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** The symbol table's section index, or -1 when the file has none. */
  public int symtabIndex() {
    return symtabIndex;
  }

  /** The symbol table, index 0 (the null symbol) included. */
  public List<Symbol> symbols() {
    return symbols;
  }

  /** The entries of a RELA section, checked against the symbol table. */
  public List<Rela> relocations(Section rela) throws ElfException {
    if (rela.type() != SHT_RELA || rela.entsize() != RELA_SIZE || rela.size() % RELA_SIZE != 0) {
      throw new ElfException("section " + rela.name() + " is not a well-formed RELA section");
    }
    int n = (int) (rela.size() / RELA_SIZE);
    List<Rela> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int o = (int) rela.offset() + i * RELA_SIZE;
      long info = buf.getLong(o + 8);
      long sym = info >>> 32;
      if (sym >= symbols.size() || rela.link() != symtabIndex) {
        throw new ElfException(
            "relocation "
                + i
                + " of "
                + rela.name()
                + " names symbol "
                + sym
                + ", which the symbol table does not have");
      }
      out.add(new Rela(buf.getLong(o), (int) sym, (int) info, buf.getLong(o + 16)));
    }
    return out;
  }

  private int u16(int at) {
    return buf.getShort(at) & 0xffff;
  }

  private long u32(int at) {
    return buf.getInt(at) & 0xffffffffL;
  }

  private void check(long offset, long size, String what) throws ElfException {
    if (offset < 0 || size < 0 || offset > bytes.length || size > bytes.length - offset) {
      throw new ElfException(
          what
              + " lies outside the file (offset "
              + offset
              + ", size "
              + size
              + ", file "
              + bytes.length
              + " bytes)");
    }
  }

  /**
   * The NUL-terminated string at {@code at} of the table at {@code tableOffset}. The position of
   * the next NUL of every byte of a table is computed once, so names that share a long tail cost no
   * rescan and parsing stays linear however the names overlap.
   */
  private String string(long tableOffset, long tableSize, long at, String what)
      throws ElfException {
    if (at >= tableSize) {
      throw new ElfException(what + " lies outside its string table");
    }
    int[] nul =
        nulIndex.computeIfAbsent(
            tableOffset + ":" + tableSize,
            key -> {
              long o = tableOffset;
              int[] next = new int[(int) tableSize];
              int n = -1;
              for (int i = (int) tableSize - 1; i >= 0; i--) {
                if (bytes[(int) (o + i)] == 0) {
                  n = i;
                }
                next[i] = n;
              }
              return next;
            });
    int end = nul[(int) at];
    if (end < 0) {
      throw new ElfException(what + " is not NUL-terminated");
    }
    return new String(
        bytes, (int) (tableOffset + at), (int) (end - at), StandardCharsets.ISO_8859_1);
  }
}
