package org.klpcatalog.klp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.klpcatalog.klp.ElfFile.Symbol;
import org.klpcatalog.klp.ObjectIndex.Code;
import org.klpcatalog.klp.ObjectIndex.Kind;
import org.klpcatalog.klp.ObjectIndex.Ref;

/**
 * What the compiler changed: compares two relocatable x86-64 objects compiled from one translation
 * unit before and after a fix (with {@code -ffunction-sections -fdata-sections}), function by
 * function, by code rather than by source. This is how a changed static function that was inlined
 * shows up in its callers, and how a changed function that is no symbol any more is found.
 *
 * <p>Functions are the {@code STT_FUNC} symbols, matched by exact name as kallsyms shows them
 * ({@code foo}, {@code foo.isra.0}, {@code foo.cold}). Two functions are the same when:
 *
 * <ul>
 *   <li>their bytes are equal once every relocated field is zeroed (the field's size follows the
 *       relocation type), so addresses and layout never count;
 *   <li>their relocations are equal in order by offset, type and target, where a target is: the
 *       symbol's exact name for code and for symbols the object does not define; the name without
 *       the compiler's counter for local data ({@code __key.12} is {@code __key}); for a section
 *       symbol, the named symbol covering the place it points to, else the section's name (counter
 *       dropped for data); the string's content for mergeable string sections (at the addend plus
 *       the field size for PC-relative types, where the instruction ends); the entry's bytes for
 *       mergeable constant sections;
 *   <li>every data object of the file they refer to (a {@code .rodata.X} table, a static {@code
 *       .data.Y}) has equal content, compared the same way one level deep (its relocations by
 *       target, not by what those targets hold).
 * </ul>
 *
 * A {@code foo.cold} part is compared on its own and reported under its own name; when it differs
 * (or appears or goes), its parent {@code foo} is reported changed too, since replacing the parent
 * is the only way to replace its cold part. Debugging, unwinding and note sections and the tables
 * that point into functions ({@code __bug_table}, {@code __jump_table}, {@code .altinstructions},
 * {@code __mcount_loc}, {@code .orc_unwind*}, {@code .discard.*}, ...) are not compared, so a
 * changed line number in a bug table never counts; line numbers compiled into code ({@code
 * __LINE__} as an operand) do count, which is why the caller aligns the original file's lines with
 * {@code #line} before compiling it.
 *
 * <p>Pure, and linear in the objects' sizes (apart from sorting relocations): a malformed object
 * gives an {@link ElfException} naming the object and what is wrong, never another exception.
 */
public final class ObjectComparison {
  /** What happened to a function symbol. */
  public enum Change {
    /** In both objects, with different code, relocations or referenced data. */
    CHANGED,
    /** In the object before only: removed, renamed (an IPA clone) or now inlined everywhere. */
    REMOVED,
    /** In the object after only. */
    ADDED,
    /** In both objects, the same. */
    UNCHANGED
  }

  /**
   * One function symbol, by name as kallsyms shows it. {@code global}: the symbol is global or weak
   * (in the object after, or before for a removed one). {@code reason}: for a changed function, a
   * short account of the first difference; empty otherwise.
   */
  public record FunctionDiff(String name, Change change, boolean global, String reason) {}

  /** Every function symbol of either object, sorted by name. */
  public record Result(List<FunctionDiff> functions) {
    public Result {
      functions = List.copyOf(functions);
    }

    public List<FunctionDiff> changed() {
      return with(Change.CHANGED);
    }

    public List<FunctionDiff> removed() {
      return with(Change.REMOVED);
    }

    public List<FunctionDiff> added() {
      return with(Change.ADDED);
    }

    /** The names of the functions with this change. */
    public List<String> names(Change change) {
      return with(change).stream().map(FunctionDiff::name).toList();
    }

    private List<FunctionDiff> with(Change change) {
      return functions.stream().filter(f -> f.change() == change).toList();
    }
  }

  private ObjectComparison() {}

  /** Compares {@code before} and {@code after}, objects of one translation unit. */
  public static Result compare(ElfFile before, ElfFile after) throws ElfException {
    ObjectIndex.Interner names = new ObjectIndex.Interner();
    ObjectIndex.Budget budget = budget(before, after);
    ObjectIndex b = new ObjectIndex(before, "the object before the fix", names, budget);
    ObjectIndex a = new ObjectIndex(after, "the object after the fix", names, budget);
    Set<String> all = new TreeSet<>(b.functions().keySet());
    all.addAll(a.functions().keySet());
    Map<String, FunctionDiff> out = new TreeMap<>();
    // Aliases share their bytes: each pair of ranges is compared once.
    Map<List<Long>, Optional<String>> compared = new HashMap<>();
    for (String name : all) {
      Symbol fb = b.functions().get(name);
      Symbol fa = a.functions().get(name);
      if (fb == null) {
        out.put(name, new FunctionDiff(name, Change.ADDED, a.global(fa), ""));
      } else if (fa == null) {
        out.put(name, new FunctionDiff(name, Change.REMOVED, b.global(fb), ""));
      } else {
        List<Long> pair =
            List.of(
                (long) fb.shndx(), fb.value(), fb.size(), (long) fa.shndx(), fa.value(), fa.size());
        Optional<String> code = compared.get(pair);
        if (code == null) {
          code = Optional.ofNullable(difference(b, fb, a, fa));
          compared.put(pair, code);
        }
        String reason =
            code.orElse(
                b.global(fb) == a.global(fa)
                    ? null
                    : a.global(fa) ? "becomes global" : "becomes local");
        out.put(
            name,
            new FunctionDiff(
                name,
                reason == null ? Change.UNCHANGED : Change.CHANGED,
                a.global(fa),
                reason == null ? "" : reason));
      }
    }
    for (FunctionDiff part : List.copyOf(out.values())) {
      String parent = coldParent(part.name());
      FunctionDiff p = parent == null ? null : out.get(parent);
      if (p != null && p.change() == Change.UNCHANGED && part.change() != Change.UNCHANGED) {
        String what =
            switch (part.change()) {
              case ADDED -> "gains a cold part, ";
              case REMOVED -> "loses its cold part, ";
              default -> "its cold part ";
            };
        out.put(
            parent,
            new FunctionDiff(
                parent,
                Change.CHANGED,
                p.global(),
                what
                    + ObjectIndex.show(part.name())
                    + (part.change() == Change.CHANGED ? ", differs" : "")));
      }
    }
    return new Result(new ArrayList<>(out.values()));
  }

  /**
   * Per function of {@code obj}, the functions its relocations reference: the object's own code
   * symbols (a section-relative reference counts for the function it points into) and the undefined
   * symbols it calls through {@code R_X86_64_PLT32} (how GCC calls external functions). A
   * function's {@code .cold} part has its own entry.
   */
  public static Map<String, Set<String>> callees(ElfFile obj) throws ElfException {
    ObjectIndex.Interner names = new ObjectIndex.Interner();
    ObjectIndex o = new ObjectIndex(obj, "the object", names, budget(obj, obj));
    Map<String, Set<String>> out = new TreeMap<>();
    for (Map.Entry<String, Symbol> e : o.functions().entrySet()) {
      Symbol f = e.getValue();
      Set<String> called = new TreeSet<>();
      for (Ref r : o.code(f.shndx(), f.value(), f.size()).refs()) {
        Kind k = r.target().kind();
        if (k == Kind.CODE || (k == Kind.EXTERNAL && r.type() == ObjectIndex.R_X86_64_PLT32)) {
          called.add(names.value(r.target().id()));
        }
      }
      called.remove(e.getKey());
      out.put(e.getKey(), Collections.unmodifiableSet(called));
    }
    return Collections.unmodifiableMap(out);
  }

  private static ObjectIndex.Budget budget(ElfFile before, ElfFile after) {
    return new ObjectIndex.Budget(
        16L * ((long) before.bytes().length + after.bytes().length) + (1L << 20));
  }

  /** The first difference between two functions of one name, or null when they are the same. */
  private static String difference(ObjectIndex b, Symbol fb, ObjectIndex a, Symbol fa)
      throws ElfException {
    Code cb = b.code(fb.shndx(), fb.value(), fb.size());
    Code ca = a.code(fa.shndx(), fa.value(), fa.size());
    int at = Arrays.mismatch(cb.bytes(), ca.bytes());
    List<Ref> rb = cb.refs();
    List<Ref> ra = ca.refs();
    int i = 0;
    while (i < rb.size() && i < ra.size() && sameRef(rb.get(i), ra.get(i))) {
      i++;
    }
    boolean refsDiffer = i < rb.size() || i < ra.size();
    long refAt =
        !refsDiffer
            ? Long.MAX_VALUE
            : Math.min(
                i < rb.size() ? rb.get(i).offset() : Long.MAX_VALUE,
                i < ra.size() ? ra.get(i).offset() : Long.MAX_VALUE);
    if (at >= 0 && at <= refAt) {
      String sizes =
          cb.bytes().length == ca.bytes().length
              ? ""
              : " (size 0x"
                  + Integer.toHexString(cb.bytes().length)
                  + " -> 0x"
                  + Integer.toHexString(ca.bytes().length)
                  + ")";
      return "code differs at +0x" + Integer.toHexString(at) + sizes;
    }
    if (refsDiffer) {
      return refDifference(
          b, cb, i < rb.size() ? rb.get(i) : null, a, ca, i < ra.size() ? ra.get(i) : null);
    }
    for (int j = 0; j < rb.size(); j++) {
      Ref x = rb.get(j);
      Ref y = ra.get(j);
      if (x.data() == null && y.data() == null) {
        continue;
      }
      if (x.data() == null
          || y.data() == null
          || b.fingerprint(x.data()) != a.fingerprint(y.data())) {
        return "uses " + a.describe(y.target(), y.bias()) + ", whose content differs";
      }
    }
    return null;
  }

  private static boolean sameRef(Ref x, Ref y) {
    return x.offset() == y.offset() && x.type() == y.type() && x.target().equals(y.target());
  }

  private static String refDifference(
      ObjectIndex b, Code cb, Ref x, ObjectIndex a, Code ca, Ref y) {
    if (x == null) {
      return "also refers to "
          + a.describe(y.target(), y.bias())
          + " at +0x"
          + Long.toHexString(y.offset());
    }
    if (y == null) {
      return "no longer refers to "
          + b.describe(x.target(), x.bias())
          + " at +0x"
          + Long.toHexString(x.offset());
    }
    if (x.offset() != y.offset()) {
      return "relocations differ at +0x" + Long.toHexString(Math.min(x.offset(), y.offset()));
    }
    if (x.type() != y.type()) {
      return "relocation type differs at +0x"
          + Long.toHexString(x.offset())
          + " ("
          + x.type()
          + " -> "
          + y.type()
          + ")";
    }
    String now = a.describe(y.target(), y.bias());
    String was = b.describe(x.target(), x.bias());
    if (now.equals(was)) {
      // Same name and place, different kind (data became code, or a local became external).
      now = now + " (" + y.target().kind().name().toLowerCase() + ")";
      was = was + " (" + x.target().kind().name().toLowerCase() + ")";
    }
    String verb =
        switch (a.opcodeBefore(ca, y)) {
          case 0xe8 -> "calls ";
          case 0xe9 -> "jumps to ";
          default ->
              x.target().kind() == Kind.STRING && y.target().kind() == Kind.STRING
                  ? "uses string "
                  : "refers to ";
        };
    return verb + now + " instead of " + was;
  }

  /** {@code foo} for {@code foo.cold} (and GCC's older {@code foo.cold.N}), else null. */
  static String coldParent(String name) {
    int dot = name.lastIndexOf('.');
    if (dot > 0
        && name.substring(dot + 1).chars().allMatch(Character::isDigit)
        && dot < name.length() - 1) {
      name = name.substring(0, dot);
    }
    return name.endsWith(".cold") && name.length() > 5
        ? name.substring(0, name.length() - 5)
        : null;
  }
}
