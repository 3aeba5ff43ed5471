package org.klpcatalog.plan;

import java.util.List;

/**
 * What a reconcile will do, in order: adds, rebuilds, obsoletes, retires, unchanged packages, then
 * metadata. {@link #hasChanges()} is false when the repository already matches.
 */
public record Plan(DesiredState desired, ObservedState observed, List<Action> actions) {

  public boolean hasChanges() {
    return actions.stream()
        .anyMatch(
            a ->
                !(a instanceof Action.Unchanged || a instanceof Action.HostTool h && !h.changed()));
  }

  public long count(Class<? extends Action> kind) {
    return actions.stream().filter(kind::isInstance).count();
  }
}
