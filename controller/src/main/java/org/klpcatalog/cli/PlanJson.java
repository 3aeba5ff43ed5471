package org.klpcatalog.cli;

import java.util.List;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ModuleFile;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.Plan;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** A plan as JSON ({@code reconcile --dry-run --output json}); format in docs/reconcile.md. */
final class PlanJson {
  private PlanJson() {}

  static void write(ObjectNode root, Plan plan) {
    root.put("changes", plan.hasChanges());
    ObjectNode published = root.putObject("published");
    published.put("exists", plan.observed().exists());
    published.put("version", plan.observed().version());
    published.put("revision", plan.observed().revision().orElse(null));
    ArrayNode actions = root.putArray("actions");
    for (Action a : plan.actions()) {
      ObjectNode o = actions.addObject();
      o.put("action", a.verb());
      if (a instanceof Action.Add add) {
        pkg(o, add.pkg());
      } else if (a instanceof Action.Rebuild r) {
        pkg(o, r.pkg());
        o.put("from", r.from().nevra());
      } else if (a instanceof Action.Unchanged u) {
        pkg(o, u.pkg());
      } else if (a instanceof Action.Obsolete ob) {
        observed(o, ob.pkg());
        o.put("successor", ob.successor());
      } else if (a instanceof Action.Retire rt) {
        observed(o, rt.pkg());
      } else if (a instanceof Action.HostTool h) {
        o.put("hostTool", true);
        o.put("package", h.pkg().name());
        o.put("nevra", h.pkg().nevra());
        o.put("version", h.pkg().evr().version());
        o.put("release", h.pkg().evr().release());
        o.put("contentHash", h.pkg().contentHash());
        h.from().ifPresent(f -> o.put("from", f.nevra()));
      } else if (a instanceof Action.RegenerateMetadata m) {
        o.put("group", m.group().id());
        ArrayNode ps = o.putArray("packages");
        m.group().packages().forEach(ps::add);
      }
      ArrayNode reasons = o.putArray("reasons");
      a.reasons().forEach(reasons::add);
    }
    ObjectNode s = root.putObject("summary");
    s.put("add", plan.count(Action.Add.class));
    s.put("rebuild", plan.count(Action.Rebuild.class));
    s.put("obsolete", plan.count(Action.Obsolete.class));
    s.put("retire", plan.count(Action.Retire.class));
    s.put("unchanged", plan.count(Action.Unchanged.class));
    plan.actions().stream()
        .filter(a -> a instanceof Action.HostTool)
        .findFirst()
        .ifPresent(a -> s.put("hostTool", a.verb()));
  }

  private static void pkg(ObjectNode o, DesiredPackage p) {
    o.put("package", p.name());
    o.put("patch", p.patch());
    o.put("nevra", p.nevra());
    o.put("version", p.evr().version());
    o.put("release", p.evr().release());
    o.put("contentHash", p.contentHash());
    ArrayNode ms = o.putArray("modules");
    for (ModuleFile m : p.modules()) {
      ObjectNode mo = ms.addObject();
      mo.put("kernel", m.kernelRelease());
      mo.put("variant", m.variant());
      mo.put("path", m.installPath());
      mo.put("fixSha256", m.fixSha256());
      mo.put("moduleSha256", m.moduleSha256().orElse(null));
    }
    caps(o.putArray("provides"), p.provides());
    caps(o.putArray("conflicts"), p.conflicts());
    caps(o.putArray("obsoletes"), p.obsoletes());
  }

  private static void observed(ObjectNode o, ObservedPackage p) {
    o.put("package", p.name());
    o.put("nevra", p.nevra());
    o.put("file", p.location());
  }

  private static void caps(ArrayNode a, List<Capability> caps) {
    caps.forEach(c -> a.add(c.toString()));
  }
}
