package org.klpcatalog.klp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.klpcatalog.klp.ElfFile.Rela;
import org.klpcatalog.klp.ElfFile.Section;
import org.klpcatalog.klp.ElfFile.Symbol;

/**
 * One relocatable x86-64 object indexed for {@link ObjectComparison}: its functions by name, the
 * relocations of each section sorted by offset, its named symbols by address, and every relocation
 * target reduced to what does not depend on layout or on the compiler's counters. Every offset is
 * checked before it is used (a bad one is an {@link ElfException}), and all work is charged to a
 * {@link Budget} proportional to the input, so a hostile object cannot make a comparison
 * superlinear.
 */
final class ObjectIndex {
  /** What a relocation points at. */
  enum Kind {
    /** A symbol in executable code (by its exact name). */
    CODE,
    /** A data object of this file (local names without the compiler's counter). */
    DATA,
    /** A symbol this file does not define. */
    EXTERNAL,
    /** A place in a section that no symbol covers (by section name). */
    SECTION,
    /** A string of a mergeable string section (by content). */
    STRING,
    /** An entry of a mergeable constant section (by content). */
    CONSTANT
  }

  /** A relocation target without layout: {@code id} is an interned name or content. */
  record Target(Kind kind, int id, long delta) {}

  /**
   * A byte range of a section: a data object whose content a reference brings into a comparison.
   */
  record Region(int section, long start, long size) {}

  /** A relocation as compared: offset from the start of its function or object. */
  record Ref(long offset, int type, int bias, Target target, Region data) {}

  /** A function's or data object's bytes with every relocated field zeroed, and its relocations. */
  record Code(byte[] bytes, List<Ref> refs) {}

  /** Names and contents as small integers, shared by the objects of one comparison. */
  static final class Interner {
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<String> values = new ArrayList<>();

    int id(String s) {
      Integer id = ids.get(s);
      if (id == null) {
        id = values.size();
        ids.put(s, id);
        values.add(s);
      }
      return id;
    }

    String value(int id) {
      return values.get(id);
    }
  }

  /** Work allowed to one comparison; exceeding it means the objects' symbols overlap abnormally. */
  static final class Budget {
    private long left;

    Budget(long units) {
      left = units;
    }

    void spend(long units) throws ElfException {
      left -= units;
      if (left < 0) {
        throw new ElfException(
            "the objects' symbols and relocations overlap too much to be compared");
      }
    }
  }

  static final int R_X86_64_PLT32 = 4;
  private static final Comparator<Rela> BY_OFFSET = Comparator.comparingLong(Rela::offset);

  private final ElfFile elf;
  private final String which;
  private final Interner interner;
  private final Budget budget;
  private final byte[] bytes;
  private final List<Section> sections;
  private final List<Symbol> symbols;
  private final Rela[][] relocs;
  private final long[][] relocOffsets;
  private final Symbol[][] covers;
  private final long[][] coverValues;
  private final int[] nameIds;
  private final int[] sectionNameIds;
  private final Map<String, Symbol> functions = new TreeMap<>();
  private final Map<Integer, int[]> stringStarts = new HashMap<>();
  private final Map<Long, Integer> stringIds = new HashMap<>();
  private final Map<Region, Long> fingerprints = new HashMap<>();
  private final Map<Region, Code> codes = new HashMap<>();

  ObjectIndex(ElfFile elf, String which, Interner interner, Budget budget) throws ElfException {
    this.elf = elf;
    this.which = which;
    this.interner = interner;
    this.budget = budget;
    this.bytes = elf.bytes();
    this.sections = elf.sections();
    this.symbols = elf.symbols();
    if (elf.machine() != ElfFile.EM_X86_64) {
      throw new ElfException(which + " is for machine " + elf.machine() + ", not x86-64");
    }
    int n = sections.size();
    relocs = new Rela[n][];
    relocOffsets = new long[n][];
    List<List<Rela>> per = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      per.add(null);
    }
    for (Section s : sections) {
      if (s.type() != ElfFile.SHT_RELA && s.type() != ElfFile.SHT_REL) {
        continue;
      }
      if (s.info() < 0 || s.info() >= n) {
        throw new ElfException(
            which
                + ": relocation section "
                + show(s.name())
                + " applies to section "
                + s.info()
                + ", which does not exist");
      }
      Section target = sections.get(s.info());
      if (ignored(target)) {
        continue;
      }
      if (s.type() == ElfFile.SHT_REL) {
        throw new ElfException(
            which
                + ": section "
                + show(s.name())
                + " holds REL relocations; x86-64 objects use RELA");
      }
      List<Rela> list = per.get(target.index());
      if (list == null) {
        per.set(target.index(), list = new ArrayList<>());
      }
      for (Rela r : elf.relocations(s)) {
        if (target.type() == ElfFile.SHT_NOBITS || r.offset() < 0 || r.offset() >= target.size()) {
          throw new ElfException(
              which
                  + ": a relocation of "
                  + show(s.name())
                  + " at offset 0x"
                  + Long.toHexString(r.offset())
                  + " lies outside section "
                  + show(target.name()));
        }
        list.add(r);
      }
    }
    for (int i = 0; i < n; i++) {
      List<Rela> list = per.get(i);
      if (list != null) {
        list.sort(BY_OFFSET);
        relocs[i] = list.toArray(new Rela[0]);
        relocOffsets[i] = new long[relocs[i].length];
        for (int j = 0; j < relocs[i].length; j++) {
          relocOffsets[i][j] = relocs[i][j].offset();
        }
      }
    }

    List<List<Symbol>> named = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      named.add(new ArrayList<>());
    }
    for (Symbol sym : symbols) {
      int t = sym.type();
      if (sym.index() == 0
          || t == ElfFile.STT_SECTION
          || t == ElfFile.STT_FILE
          || sym.undefined()
          || sym.shndx() >= ElfFile.SHN_LORESERVE) {
        continue;
      }
      if (sym.shndx() >= n) {
        throw new ElfException(
            which
                + ": symbol "
                + show(sym.name())
                + " is in section "
                + sym.shndx()
                + ", which does not exist");
      }
      Section sec = sections.get(sym.shndx());
      if (sym.value() < 0
          || sym.size() < 0
          || sym.value() > sec.size()
          || sym.size() > sec.size() - sym.value()) {
        throw new ElfException(
            which
                + ": symbol "
                + show(sym.name())
                + " (0x"
                + Long.toHexString(sym.size())
                + " bytes at 0x"
                + Long.toHexString(sym.value())
                + ") lies outside its section "
                + show(sec.name()));
      }
      if (sym.name().isEmpty()) {
        continue;
      }
      named.get(sym.shndx()).add(sym);
      if (t == ElfFile.STT_FUNC) {
        if (sec.type() == ElfFile.SHT_NOBITS) {
          throw new ElfException(
              which
                  + ": function "
                  + show(sym.name())
                  + " lies in "
                  + show(sec.name())
                  + ", a section without content");
        }
        if (functions.put(sym.name(), sym) != null) {
          throw new ElfException(which + ": two functions are named " + show(sym.name()));
        }
      }
    }
    covers = new Symbol[n][];
    coverValues = new long[n][];
    Comparator<Symbol> order =
        Comparator.comparingLong(Symbol::value)
            .thenComparingInt(ObjectIndex::rank)
            .thenComparingInt(Symbol::index);
    for (int i = 0; i < n; i++) {
      List<Symbol> list = named.get(i);
      list.sort(order);
      List<Symbol> one = new ArrayList<>();
      for (Symbol s : list) {
        if (one.isEmpty() || one.get(one.size() - 1).value() != s.value()) {
          one.add(s);
        }
      }
      covers[i] = one.toArray(new Symbol[0]);
      coverValues[i] = new long[covers[i].length];
      for (int j = 0; j < covers[i].length; j++) {
        coverValues[i][j] = covers[i][j].value();
      }
    }
    nameIds = new int[symbols.size()];
    Arrays.fill(nameIds, -1);
    sectionNameIds = new int[n];
    Arrays.fill(sectionNameIds, -1);
  }

  /** Sized functions and objects first: the symbol an address inside them belongs to. */
  private static int rank(Symbol s) {
    boolean sized = s.size() > 0;
    boolean typed = s.type() == ElfFile.STT_FUNC || s.type() == ElfFile.STT_OBJECT;
    return sized && typed ? 0 : sized ? 1 : 2;
  }

  /**
   * Sections whose content is never compared: debugging and unwinding data, notes, and the tables
   * that point into functions (bug and exception tables, jump labels, alternatives, ftrace and
   * objtool's lists, exports). Their relocations are not even read.
   */
  static boolean ignored(Section s) {
    String n = s.name();
    for (String p :
        List.of(
            ".debug",
            ".note",
            ".discard",
            ".orc_unwind",
            ".eh_frame",
            ".comment",
            "__ksymtab",
            "___ksymtab",
            ".BTF",
            ".gnu.")) {
      if (n.startsWith(p)) {
        return true;
      }
    }
    return List.of(
                "__bug_table",
                "__jump_table",
                ".altinstructions",
                "__mcount_loc",
                "__ex_table",
                ".smp_locks",
                ".parainstructions",
                ".static_call_sites",
                ".retpoline_sites",
                ".return_sites",
                ".call_sites",
                "__patchable_function_entries",
                ".ibt_endbr_seal",
                ".initcall.init",
                ".init.data.bug")
            .contains(n)
        || n.startsWith(".initcall");
  }

  String which() {
    return which;
  }

  /** Function symbols by name. */
  Map<String, Symbol> functions() {
    return functions;
  }

  Interner interner() {
    return interner;
  }

  boolean global(Symbol s) {
    return s.bind() == ElfFile.STB_GLOBAL || s.bind() == ElfFile.STB_WEAK;
  }

  /**
   * A function's (or object's) bytes with relocated fields zeroed, and its relocations as targets.
   */
  Code code(int section, long start, long size) throws ElfException {
    Region g = new Region(section, start, size);
    Code known = codes.get(g);
    if (known == null) {
      known = read(g);
      codes.put(g, known);
    }
    return known;
  }

  private Code read(Region g) throws ElfException {
    int section = g.section();
    long start = g.start();
    long size = g.size();
    Section sec = sections.get(section);
    budget.spend(size + 1);
    Rela[] rs = relocs[section];
    List<Ref> refs = new ArrayList<>();
    byte[] b =
        sec.type() == ElfFile.SHT_NOBITS
            ? new byte[0]
            : Arrays.copyOfRange(
                bytes, (int) (sec.offset() + start), (int) (sec.offset() + start + size));
    if (rs == null) {
      return new Code(b, refs);
    }
    for (int i = lowerBound(relocOffsets[section], start);
        i < rs.length && rs[i].offset() < start + size;
        i++) {
      budget.spend(1);
      Rela r = rs[i];
      int field = fieldSize(r.type());
      if (field < 0) {
        throw new ElfException(
            which
                + ": relocation type "
                + r.type()
                + " at 0x"
                + Long.toHexString(r.offset())
                + " of "
                + show(sec.name())
                + " is not an x86-64 relocation this comparison knows");
      }
      long at = r.offset() - start;
      Arrays.fill(b, (int) Math.min(at, b.length), (int) Math.min(at + field, b.length), (byte) 0);
      refs.add(ref(r, at));
    }
    return new Code(b, refs);
  }

  /** A data object's identity for comparison: a digest of its normalised bytes and relocations. */
  long fingerprint(Region g) throws ElfException {
    Long known = fingerprints.get(g);
    if (known != null) {
      return known;
    }
    Code c = code(g.section(), g.start(), g.size());
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
    ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
    md.update(b.putLong(0, g.size()).array(), 0, 8);
    md.update(c.bytes());
    for (Ref r : c.refs()) {
      b.putLong(0, r.offset())
          .putInt(8, r.type())
          .putInt(12, r.target().kind().ordinal())
          .putInt(16, r.target().id())
          .putLong(20, r.target().delta());
      md.update(b.array(), 0, 28);
    }
    long f = ByteBuffer.wrap(md.digest()).getLong();
    fingerprints.put(g, f);
    return f;
  }

  private Ref ref(Rela r, long offset) throws ElfException {
    int bias = pcBias(r.type());
    Symbol s = symbols.get(r.symbol());
    if (s.index() == 0) {
      return new Ref(
          offset, r.type(), bias, new Target(Kind.SECTION, interner.id(""), r.addend()), null);
    }
    if (s.undefined() || s.shndx() >= ElfFile.SHN_LORESERVE) {
      long delta = s.undefined() ? r.addend() : r.addend() + s.value();
      return new Ref(
          offset, r.type(), bias, new Target(Kind.EXTERNAL, interner.id(s.name()), delta), null);
    }
    if (s.shndx() >= sections.size()) {
      throw new ElfException(
          which
              + ": symbol "
              + show(s.name())
              + " is in section "
              + s.shndx()
              + ", which does not exist");
    }
    Section sec = sections.get(s.shndx());
    boolean sectionSymbol = s.type() == ElfFile.STT_SECTION;
    long at = (sectionSymbol ? 0 : s.value()) + r.addend();
    long o = at + bias;
    boolean inside = o >= 0 && o < sec.size() && sec.type() != ElfFile.SHT_NOBITS;
    if (ignored(sec)) {
      return new Ref(
          offset, r.type(), bias, new Target(Kind.SECTION, sectionNameId(sec), at), null);
    }
    if (sec.is(ElfFile.SHF_MERGE) && inside) {
      if (sec.is(ElfFile.SHF_STRINGS)) {
        int start = stringStart(sec, (int) o);
        return new Ref(
            offset,
            r.type(),
            bias,
            new Target(Kind.STRING, stringId(sec, start), at - start),
            null);
      }
      long size = sec.entsize();
      if (size > 0 && size <= 64) {
        long chunk = o - o % size;
        if (chunk + size <= sec.size()) {
          StringBuilder hex = new StringBuilder("0x");
          for (long i = chunk + size - 1; i >= chunk; i--) {
            hex.append(String.format("%02x", bytes[(int) (sec.offset() + i)] & 0xff));
          }
          return new Ref(
              offset,
              r.type(),
              bias,
              new Target(Kind.CONSTANT, interner.id(hex.toString()), at - chunk),
              null);
        }
      }
    }
    boolean code = sec.is(ElfFile.SHF_EXECINSTR);
    Kind kind = code ? Kind.CODE : Kind.DATA;
    if (!sectionSymbol) {
      Region data = code || s.size() == 0 ? null : new Region(s.shndx(), s.value(), s.size());
      return new Ref(offset, r.type(), bias, new Target(kind, nameId(s), r.addend()), data);
    }
    Symbol cover = cover(s.shndx(), o);
    if (cover != null) {
      Region data = code ? null : new Region(cover.shndx(), cover.value(), cover.size());
      return new Ref(
          offset, r.type(), bias, new Target(kind, nameId(cover), at - cover.value()), data);
    }
    Region data = code ? null : new Region(sec.index(), 0, sec.size());
    return new Ref(offset, r.type(), bias, new Target(Kind.SECTION, sectionNameId(sec), at), data);
  }

  /**
   * A section's name as compared: without the compiler's counter for data ({@code .bss.__key.3}).
   */
  private int sectionNameId(Section sec) {
    int id = sectionNameIds[sec.index()];
    if (id < 0) {
      boolean keep = sec.is(ElfFile.SHF_EXECINSTR) || ignored(sec);
      id = interner.id(keep ? sec.name() : withoutCounter(sec.name()));
      sectionNameIds[sec.index()] = id;
    }
    return id;
  }

  /** The named symbol whose bytes hold section offset {@code o}, if any. */
  private Symbol cover(int section, long o) {
    long[] values = coverValues[section];
    int i = lowerBound(values, o + 1) - 1;
    if (i < 0) {
      return null;
    }
    Symbol s = covers[section][i];
    return o < s.value() + s.size() || o == s.value() ? s : null;
  }

  /**
   * A symbol's name as compared: local data without the compiler's numbering, everything else
   * exact.
   */
  private int nameId(Symbol s) {
    int id = nameIds[s.index()];
    if (id < 0) {
      boolean code = sections.get(s.shndx()).is(ElfFile.SHF_EXECINSTR);
      String name = s.bind() == ElfFile.STB_LOCAL && !code ? withoutCounter(s.name()) : s.name();
      id = interner.id(name);
      nameIds[s.index()] = id;
    }
    return id;
  }

  /**
   * Drops the numbering GCC gives function-local statics and compiler-made objects ({@code
   * __key.12}, {@code __func__.3}, {@code CSWTCH.123}) and the kernel's {@code __COUNTER__}-made
   * names ({@code __UNIQUE_ID_ddebug123}): both count declarations in the file, so they change when
   * an unrelated one is added above. Only names of local data get here; function names ({@code
   * foo.isra.0}, {@code foo.constprop.1}) stay exact, since which clone code uses is real.
   */
  static String withoutCounter(String name) {
    int end = name.length();
    int i = end;
    while (i > 0 && Character.isDigit(name.charAt(i - 1))) {
      i--;
    }
    if (i < end && i > 1 && name.charAt(i - 1) == '.') {
      end = i - 1;
    }
    if (name.startsWith("__UNIQUE_ID_") || name.contains(".__UNIQUE_ID_")) {
      while (end > 0 && Character.isDigit(name.charAt(end - 1))) {
        end--;
      }
    }
    return name.substring(0, end);
  }

  private int stringStart(Section sec, int o) throws ElfException {
    int[] starts = stringStarts.get(sec.index());
    if (starts == null) {
      budget.spend(sec.size());
      starts = new int[(int) sec.size()];
      int s = 0;
      for (int i = 0; i < starts.length; i++) {
        starts[i] = s;
        if (bytes[(int) sec.offset() + i] == 0) {
          s = i + 1;
        }
      }
      stringStarts.put(sec.index(), starts);
    }
    return starts[o];
  }

  /** The interned content of the string starting at {@code start}; each string is read once. */
  private int stringId(Section sec, int start) {
    long key = ((long) sec.index() << 32) | start;
    Integer id = stringIds.get(key);
    if (id == null) {
      int from = (int) sec.offset() + start;
      int end = from;
      int limit = (int) (sec.offset() + sec.size());
      while (end < limit && bytes[end] != 0) {
        end++;
      }
      id = interner.id("\"" + new String(bytes, from, end - from, StandardCharsets.ISO_8859_1));
      stringIds.put(key, id);
    }
    return id;
  }

  /** How a target reads in a reason. */
  String describe(Target t, int bias) {
    String v = interner.value(t.id());
    long delta = t.delta() + bias;
    String name =
        switch (t.kind()) {
          case STRING -> show(v, 41) + "\"";
          case CONSTANT -> "constant " + v;
          case SECTION -> v.isEmpty() ? "an absolute value" : "section " + show(v);
          default -> show(v);
        };
    return delta == 0
        ? name
        : name + (delta > 0 ? "+0x" + Long.toHexString(delta) : "-0x" + Long.toHexString(-delta));
  }

  /** The byte before a relocated field: the opcode of a direct call (0xe8) or jump (0xe9). */
  int opcodeBefore(Code c, Ref r) {
    return r.offset() >= 1 && r.offset() <= c.bytes().length
        ? c.bytes()[(int) r.offset() - 1] & 0xff
        : -1;
  }

  static String show(String s) {
    return show(s, 80);
  }

  /** A name from the object as it may be printed: control characters escaped, long ones cut. */
  static String show(String s, int max) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && b.length() < max; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f) {
        b.append(c == '\n' ? "\\n" : c == '\t' ? "\\t" : String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.length() >= max && b.length() < s.length() ? b + "..." : b.toString();
  }

  private static int lowerBound(long[] a, long key) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Bytes an x86-64 relocation type writes, or -1 for a type this code does not know. */
  static int fieldSize(int type) {
    return switch (type) {
      case 0, 35 -> 0; // NONE, TLSDESC_CALL
      case 1, 6, 7, 8, 16, 17, 18, 24, 25, 27, 28, 29, 30, 31, 33, 37, 38 -> 8;
      case 2, 3, 4, 9, 10, 11, 19, 20, 21, 22, 23, 26, 32, 34, 41, 42 -> 4;
      case 12, 13 -> 2;
      case 14, 15 -> 1;
      case 36 -> 16; // TLSDESC
      default -> -1;
    };
  }

  /**
   * For PC-relative types, the distance from the field to the end of the instruction when the field
   * ends it (the usual case): the referenced place is {@code S + A + bias}. An instruction with an
   * immediate after the field points a few bytes further; the same code gives the same error on
   * both sides, so the comparison stays exact, only the string named may be a neighbour.
   */
  static int pcBias(int type) {
    return switch (type) {
      case 2, 4, 9, 19, 20, 22, 26, 34, 41, 42 -> 4;
      case 13 -> 2;
      case 15 -> 1;
      case 24 -> 8;
      default -> 0;
    };
  }
}
