package org.klpcatalog.plan;

import java.util.List;
import java.util.Optional;

/**
 * One step of a plan, from a closed vocabulary. Every action says why. The publisher executes
 * exactly these; {@code reconcile --dry-run} prints them.
 */
public sealed interface Action
    permits Action.Add,
        Action.Rebuild,
        Action.Obsolete,
        Action.Retire,
        Action.Unchanged,
        Action.HostTool,
        Action.RegenerateMetadata {

  /** The package the action is about ("" for metadata). */
  String packageName();

  /** Why, in words: the commit, files or kernels behind the action. */
  List<String> reasons();

  /** The action's name in reports: add, rebuild, obsolete, retire, unchanged, metadata. */
  String verb();

  /** A new package: its patch is new to the repository. */
  record Add(DesiredPackage pkg, List<String> reasons) implements Action {
    public String packageName() {
      return pkg.name();
    }

    public String verb() {
      return "add";
    }
  }

  /** A package whose content changed: built again under a new EVR, replacing {@code from}. */
  record Rebuild(DesiredPackage pkg, ObservedPackage from, List<String> reasons) implements Action {
    public String packageName() {
      return pkg.name();
    }

    public String verb() {
      return "rebuild";
    }
  }

  /** A superseded package: dropped from the repository, replaced on hosts by {@code successor}. */
  record Obsolete(ObservedPackage pkg, String successor, List<String> reasons) implements Action {
    public String packageName() {
      return pkg.name();
    }

    public String verb() {
      return "obsolete";
    }
  }

  /** A package whose patch left the catalog: dropped from the repository; hosts keep it. */
  record Retire(ObservedPackage pkg, List<String> reasons) implements Action {
    public String packageName() {
      return pkg.name();
    }

    public String verb() {
      return "retire";
    }
  }

  /** A package already published with exactly the desired content: carried over. */
  record Unchanged(DesiredPackage pkg, List<String> reasons) implements Action {
    public String packageName() {
      return pkg.name();
    }

    public String verb() {
      return "unchanged";
    }
  }

  /**
   * The host tool package: added or rebuilt when {@code from} (what the repository has) is missing
   * or has other content, carried over otherwise. It is in no group and goes through no QA (it
   * holds no kernel code).
   */
  record HostTool(HostPackage pkg, Optional<ObservedPackage> from, List<String> reasons)
      implements Action {
    public String packageName() {
      return pkg.name();
    }

    /** Whether the package must be built. */
    public boolean changed() {
      return from.isEmpty()
          || !from.get().evr().equals(pkg.evr())
          || !from.get().contentHash().equals(pkg.contentHash());
    }

    public String verb() {
      return changed() ? (from.isEmpty() ? "add" : "rebuild") : "unchanged";
    }
  }

  /** Repodata and the group file must be written again. */
  record RegenerateMetadata(DesiredGroup group, List<String> reasons) implements Action {
    public String packageName() {
      return "";
    }

    public String verb() {
      return "metadata";
    }
  }
}
