package org.klpcatalog.sourcecheck;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.analysis.FlagKind;
import org.klpcatalog.catalog.analysis.LivepatchSource;
import org.klpcatalog.catalog.model.Acknowledgement;
import org.klpcatalog.catalog.model.ModuleSpec;
import org.klpcatalog.sourcecheck.FixReport.CodeChange;
import org.klpcatalog.sourcecheck.FixReport.UnitReport;

/**
 * Judges one fix's {@link FixReport} for one kernel against the module that carries it: the fix
 * must apply, and the module must replace every function whose code the fix changes in the object
 * it patches (a caller into which a changed function was inlined included), unless the manifest
 * acknowledges it with {@code code-change}. Pure.
 *
 * <p>The compiler's copies of a function ({@code foo.isra.0}, {@code foo.constprop.0}, {@code
 * foo.part.0}, {@code foo.cold}) count as {@code foo}: the module replaces the function, and the
 * validate-time rules already cover how its copies are reached.
 */
public final class FixVerdict {
  private static final Pattern COPY =
      Pattern.compile("(\\.(isra|constprop|part|cold|lto_priv|localalias)(\\.\\d+)?)+$");

  /** What the checks mean for one module: errors fail it, notes are shown. */
  public record Verdict(List<String> errors, List<String> notes, Set<String> usedAcknowledgements) {
    public boolean ok() {
      return errors.isEmpty();
    }
  }

  private FixVerdict() {}

  /** {@code foo} for {@code foo.isra.0}, {@code foo.cold}, ... */
  public static String baseName(String symbol) {
    return COPY.matcher(symbol).replaceFirst("");
  }

  /**
   * {@code module} is the parsed livepatch.c, empty for a variant built by kpatch-build (which
   * finds the changed functions itself: only whether the fix applies is judged then).
   */
  public static Verdict judge(
      FixReport report, Optional<LivepatchSource> module, List<Acknowledgement> acks) {
    List<String> errors = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    Set<String> used = new TreeSet<>();
    String kernel = "kernel " + report.release() + " (source " + report.sourceVersion() + ")";
    for (FixReport.ApplyFailure f : report.failures()) {
      errors.add(kernel + ": " + f.file() + ": " + f.message());
    }
    if (!report.applies() || module.isEmpty()) {
      return new Verdict(List.copyOf(errors), List.copyOf(notes), used);
    }
    Set<String> codeChangeAcks = new TreeSet<>();
    Set<String> inlineAcks = new TreeSet<>();
    for (Acknowledgement a : acks) {
      if (a.flag().equals(FlagKind.CODE_CHANGE.id())) {
        codeChangeAcks.add(a.key());
      } else if (a.flag().equals(FlagKind.INLINE_FUNCTION.id())) {
        inlineAcks.add(a.key());
      }
    }
    for (String f : report.unbuilt()) {
      notes.add(
          kernel
              + ": "
              + f
              + ", which the fix changes, is not part of this kernel (kbuild cannot compile it"
              + " with its configuration), so nothing of it was compared");
    }
    for (UnitReport u : report.units()) {
      Set<String> replaced = replacedIn(module.get(), u.object());
      Set<String> reported = new TreeSet<>();
      // One error per function: its copy that says most (the inlined functions it carries) first.
      List<CodeChange> changes = new ArrayList<>(u.changed());
      changes.sort(Comparator.comparing((CodeChange c) -> c.carries().isEmpty()));
      for (CodeChange c : changes) {
        String name = baseName(c.symbol());
        String key = u.path() + ":" + name;
        if (replaced.contains(name) || !reported.add(key)) {
          continue;
        }
        if (codeChangeAcks.contains(key)) {
          used.add(FlagKind.CODE_CHANGE.id() + " " + key);
          notes.add(
              kernel
                  + ": the compiler changes "
                  + key
                  + " ("
                  + u.object()
                  + "), which the module does not"
                  + " replace: acknowledged (code-change)");
          continue;
        }
        StringBuilder why = new StringBuilder();
        if (c.sourceChanged()) {
          why.append("the fix changes it");
          if (inlineAcks.contains(key)) {
            why.append(
                    " and it is acknowledged as inlined (inline-function), but this kernel has a"
                        + " symbol ")
                .append(c.symbol())
                .append(" whose code changes");
          }
        } else if (!c.carries().isEmpty()) {
          why.append("the compiler inlined the changed ")
              .append(String.join(", ", c.carries()))
              .append(" into it");
        } else {
          why.append("its code changes with the fix (").append(c.reason()).append(")");
        }
        errors.add(
            kernel
                + ": the module does not replace "
                + c.symbol()
                + " in "
                + u.path()
                + " ("
                + u.object()
                + "): "
                + why
                + "; add a klp_func for "
                + name
                + " to the "
                + u.object()
                + " klp_object"
                + (c.sourceChanged() ? "" : " and list " + key + " in spec.extraFunctions")
                + ", or, if the old code is safe to keep running, acknowledge it in"
                + " spec.acknowledge with flag: "
                + FlagKind.CODE_CHANGE.id()
                + ", key: "
                + key
                + " and a reason");
      }
      for (String f : u.inlinedAway()) {
        notes.add(
            kernel
                + ": "
                + u.path()
                + ":"
                + f
                + " has no symbol in "
                + u.object()
                + " (the compiler inlined it into its callers, which the module replaces)");
      }
      for (String f : u.codeUnchanged()) {
        notes.add(
            kernel + ": the fix changes the source of " + u.path() + ":" + f + " but not its code");
      }
    }
    return new Verdict(List.copyOf(errors), List.copyOf(notes), used);
  }

  /** Base names of the functions the module replaces in {@code object} (vmlinux or a module). */
  private static Set<String> replacedIn(LivepatchSource module, String object) {
    Set<String> out = new TreeSet<>();
    String want = ModuleSpec.canonicalName(object);
    for (LivepatchSource.KlpObject o : module.objects()) {
      if (ModuleSpec.canonicalName(o.name()).equals(want)) {
        o.funcs().forEach(f -> out.add(baseName(f.oldName())));
      }
    }
    return out;
  }
}
