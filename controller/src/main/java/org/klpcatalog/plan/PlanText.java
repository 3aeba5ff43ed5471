package org.klpcatalog.plan;

import java.util.List;
import java.util.function.UnaryOperator;
import org.klpcatalog.catalog.model.Variant;

/**
 * Renders a plan for people, as a diff of the repository: {@code +} add, {@code ~} rebuild, {@code
 * -} obsolete or retire (removals always listed), {@code =} unchanged, {@code *} metadata. Colours
 * are applied by the caller's painter, so this stays pure and testable.
 */
public final class PlanText {
  /** How to colour parts of the output; identity for plain text. */
  public record Painter(
      UnaryOperator<String> added,
      UnaryOperator<String> changed,
      UnaryOperator<String> removed,
      UnaryOperator<String> dim) {
    public static final Painter PLAIN = new Painter(s -> s, s -> s, s -> s, s -> s);
  }

  private PlanText() {}

  public static String render(Plan plan, String repository, boolean verbose, Painter paint) {
    StringBuilder sb = new StringBuilder();
    DesiredState d = plan.desired();
    sb.append("Plan for ")
        .append(repository)
        .append(" from catalog ")
        .append(d.catalog())
        .append(d.revision().map(r -> " @ " + Planner.shortRev(r)).orElse(""));
    ObservedState o = plan.observed();
    sb.append(
        o.exists()
            ? " (published: version "
                + o.version()
                + o.revision().map(r -> " from " + Planner.shortRev(r)).orElse("")
                + ")"
            : " (not published yet)");
    sb.append("\n\n");
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add) {
        sb.append(paint.added().apply("+ add       " + add.pkg().nevra())).append('\n');
        reasons(sb, a.reasons(), paint);
        packageDetails(sb, add.pkg());
      } else if (a instanceof Action.Rebuild r) {
        sb.append(paint.changed().apply("~ rebuild   " + r.pkg().nevra())).append('\n');
        reasons(sb, a.reasons(), paint);
        if (verbose) {
          packageDetails(sb, r.pkg());
        }
      } else if (a instanceof Action.Obsolete ob) {
        sb.append(paint.removed().apply("- obsolete  " + ob.pkg().nevra())).append('\n');
        reasons(sb, a.reasons(), paint);
      } else if (a instanceof Action.Retire rt) {
        sb.append(paint.removed().apply("- retire    " + rt.pkg().nevra())).append('\n');
        reasons(sb, a.reasons(), paint);
      } else if (a instanceof Action.Unchanged u) {
        if (verbose) {
          sb.append(paint.dim().apply("= unchanged " + u.pkg().nevra())).append('\n');
        }
      } else if (a instanceof Action.HostTool h) {
        if (h.changed()) {
          String verb = h.from().isEmpty() ? "+ add       " : "~ rebuild   ";
          sb.append(
                  (h.from().isEmpty() ? paint.added() : paint.changed())
                      .apply(verb + h.pkg().nevra() + " (host tool)"))
              .append('\n');
          reasons(sb, a.reasons(), paint);
        } else if (verbose) {
          sb.append(paint.dim().apply("= unchanged " + h.pkg().nevra() + " (host tool)"))
              .append('\n');
        }
      } else if (a instanceof Action.RegenerateMetadata m) {
        sb.append(
                paint
                    .changed()
                    .apply(
                        "* metadata  repodata and group "
                            + m.group().id()
                            + " ("
                            + m.group().packages().size()
                            + " packages)"))
            .append('\n');
        reasons(sb, a.reasons(), paint);
      }
    }
    if (plan.hasChanges()) {
      sb.append('\n');
    }
    sb.append(summary(plan)).append('\n');
    return sb.toString();
  }

  public static String summary(Plan plan) {
    if (!plan.hasChanges()) {
      return "Nothing would change: the repository matches the catalog ("
          + plan.count(Action.Unchanged.class)
          + " packages).";
    }
    return plan.count(Action.Add.class)
        + " to add, "
        + plan.count(Action.Rebuild.class)
        + " to rebuild, "
        + plan.count(Action.Obsolete.class)
        + " to obsolete, "
        + plan.count(Action.Retire.class)
        + " to retire, "
        + plan.count(Action.Unchanged.class)
        + " unchanged"
        + plan.actions().stream()
            .filter(a -> a instanceof Action.HostTool h && h.changed())
            .findFirst()
            .map(a -> "; host tool " + ((Action.HostTool) a).pkg().nevra())
            .orElse("")
        + ".";
  }

  private static void reasons(StringBuilder sb, List<String> reasons, Painter paint) {
    for (String r : reasons) {
      sb.append("    ").append(paint.dim().apply(r)).append('\n');
    }
  }

  private static void packageDetails(StringBuilder sb, DesiredPackage p) {
    sb.append("    summary:   ").append(p.summary()).append('\n');
    for (ModuleFile m : p.modules()) {
      sb.append("    module:    ")
          .append(m.installPath())
          .append(m.variant().equals(Variant.DEFAULT) ? "" : " (variant " + m.variant() + ")")
          .append('\n');
    }
    for (Capability c : p.provides()) {
      sb.append("    provides:  ").append(c).append('\n');
    }
    for (Capability c : p.conflicts()) {
      sb.append("    conflicts: ").append(c).append('\n');
    }
    for (Capability c : p.obsoletes()) {
      sb.append("    obsoletes: ").append(c).append('\n');
    }
  }
}
