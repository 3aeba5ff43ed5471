package org.klpcatalog.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.publish.Publisher;

/**
 * One patch's package in the status: its patch (empty for a package that left the catalog), name,
 * version, what happened to it, and why when that needs saying.
 */
public record PatchState(String patch, String pkg, String evr, State state, String detail) {

  /** The states docs/serve.md documents; {@link #wireName()} is what the status shows. */
  public enum State {
    /** In the current version. */
    PUBLISHED,
    /** Planned, not yet published (nothing was published: the repository already matched). */
    PENDING,
    /** A new package whose build or QA failed: left out. */
    FAILED,
    /** A failed rebuild, or a package whose successor failed: the published package stays. */
    DEGRADED,
    /** Replaced by its successor. */
    OBSOLETED,
    /** Its patch left the catalog. */
    RETIRED;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Where each of a plan's packages stands after a reconcile that published (or not). */
  public static List<PatchState> of(Plan plan, Optional<Publisher.Result> published) {
    Set<String> leftOut =
        published.stream()
            .flatMap(p -> p.leftOut().stream())
            .map(Publisher.LeftOut::nevra)
            .collect(Collectors.toSet());
    Set<String> degraded =
        published.stream()
            .flatMap(p -> p.degraded().stream())
            .map(Publisher.Degraded::nevra)
            .collect(Collectors.toSet());
    State done = published.isPresent() ? State.PUBLISHED : State.PENDING;
    List<PatchState> out = new ArrayList<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add) {
        boolean failed = leftOut.contains(add.pkg().nevra());
        out.add(
            new PatchState(
                add.pkg().patch(),
                add.pkg().name(),
                add.pkg().evr().toString(),
                failed ? State.FAILED : done,
                failed ? "its build failed; not published" : ""));
      } else if (a instanceof Action.Rebuild r) {
        boolean failed = degraded.contains(r.from().nevra());
        out.add(
            new PatchState(
                r.pkg().patch(),
                r.pkg().name(),
                failed ? r.from().evr().toString() : r.pkg().evr().toString(),
                failed ? State.DEGRADED : done,
                failed
                    ? "its rebuild as " + r.pkg().evr() + " failed; the previous package stays"
                    : ""));
      } else if (a instanceof Action.Unchanged u) {
        out.add(
            new PatchState(
                u.pkg().patch(), u.pkg().name(), u.pkg().evr().toString(), State.PUBLISHED, ""));
      } else if (a instanceof Action.Obsolete o) {
        // Kept when its successor failed (the publisher lists it as degraded).
        boolean kept = degraded.contains(o.pkg().nevra());
        out.add(
            new PatchState(
                "",
                o.pkg().name(),
                o.pkg().evr().toString(),
                kept ? State.DEGRADED : State.OBSOLETED,
                kept
                    ? "its successor " + o.successor() + " failed; it stays published"
                    : "replaced by " + o.successor()));
      } else if (a instanceof Action.Retire r) {
        out.add(
            new PatchState(
                "",
                r.pkg().name(),
                r.pkg().evr().toString(),
                State.RETIRED,
                "its patch left the catalog"));
      }
    }
    return List.copyOf(out);
  }
}
