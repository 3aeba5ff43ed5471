package org.klpcatalog.klp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.klpcatalog.klp.ElfFile.Rela;
import org.klpcatalog.klp.ElfFile.Section;
import org.klpcatalog.klp.ElfFile.Symbol;

/**
 * Checks a linked livepatch module against the kernel it is for, whoever wrote its relocations (the
 * post-link step or kpatch-build): every undefined symbol is exported by the kernel; every
 * livepatch symbol is well-formed and names exactly one symbol of the kernel's tables; every
 * livepatch relocation section is flagged and named as the kernel expects and refers only to
 * livepatch symbols of its own object; and no ordinary relocation refers to a livepatch symbol or
 * to a symbol the kernel does not export. Pure; returns the problems found.
 */
public final class KlpVerifier {
  public static final Pattern KLP_SYM =
      Pattern.compile("\\.klp\\.sym\\.([A-Za-z0-9_]{1,55})\\.([^,]{1,511}),([0-9]{1,9})");
  static final Pattern KLP_RELA = Pattern.compile("\\.klp\\.rela\\.([A-Za-z0-9_]{1,55})\\..+");

  private KlpVerifier() {}

  /** {@code tables} may be null when the module has no livepatch symbols. */
  public static List<String> verify(
      ElfFile m, String release, Map<String, String> exports, KernelSymbols tables)
      throws ElfException {
    List<String> problems = new ArrayList<>();
    List<Symbol> syms = m.symbols();
    for (Symbol s : syms) {
      if (s.index() == 0) {
        continue;
      }
      if (s.undefined() && !s.name().isEmpty() && !exports.containsKey(s.name())) {
        problems.add("undefined symbol " + s.name() + " is not exported by " + release);
      }
      if (s.shndx() == ElfFile.SHN_LIVEPATCH) {
        Matcher k = KLP_SYM.matcher(s.name());
        if (!k.matches()) {
          problems.add(
              "livepatch symbol '"
                  + s.name()
                  + "' does not have the form .klp.sym.OBJECT.NAME,POS");
          continue;
        }
        if (tables == null) {
          problems.add(
              "livepatch symbol " + s.name() + " cannot be checked: no symbol table of " + release);
          continue;
        }
        int pos = Integer.parseInt(k.group(3));
        int n = tables.named(k.group(1), k.group(2)).size();
        if (n == 0 || (pos == 0 && n != 1) || pos > n) {
          problems.add(
              "livepatch symbol "
                  + s.name()
                  + " does not resolve in "
                  + release
                  + ": "
                  + n
                  + " symbols of that name in "
                  + k.group(1));
        }
      }
    }
    for (Section sec : m.sections()) {
      if (sec.type() != ElfFile.SHT_RELA) {
        continue;
      }
      boolean klp = sec.is(ElfFile.SHF_RELA_LIVEPATCH);
      Matcher named = KLP_RELA.matcher(sec.name());
      if (klp != named.matches()) {
        problems.add(
            "section "
                + sec.name()
                + (klp
                    ? " is flagged SHF_RELA_LIVEPATCH but not named .klp.rela.OBJECT.SECTION"
                    : " is named like a livepatch relocation section but not flagged"
                        + " SHF_RELA_LIVEPATCH"));
        continue;
      }
      if (klp && (!sec.is(ElfFile.SHF_ALLOC) || sec.link() != m.symtabIndex())) {
        problems.add(
            "livepatch relocation section "
                + sec.name()
                + " is not SHF_ALLOC or not linked to the symbol table");
      }
      for (Rela r : m.relocations(sec)) {
        Symbol s = syms.get(r.symbol());
        boolean isKlp = s.shndx() == ElfFile.SHN_LIVEPATCH;
        if (klp) {
          Matcher k = KLP_SYM.matcher(s.name());
          if (!isKlp || !k.matches()) {
            problems.add(
                sec.name() + " refers to " + s.name() + ", which is not a livepatch symbol");
          } else if (!k.group(1).equals(named.group(1))) {
            problems.add(sec.name() + " refers to " + s.name() + " of another object");
          }
        } else if (isKlp) {
          problems.add(
              "ordinary relocation section "
                  + sec.name()
                  + " refers to livepatch symbol "
                  + s.name());
        }
      }
    }
    return problems;
  }
}
