package org.klpcatalog.service;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The service's three conditions at one moment. Immutable: each change returns new conditions, so
 * what an outcome does to them is a pure function ({@link ReconcileOutcome#change}).
 */
public record Conditions(Condition ready, Condition reconciling, Condition stalled) {

  /** Before the first reconcile: all false, {@code Starting}. */
  public static Conditions starting(Instant now) {
    return new Conditions(
        initial(Condition.Type.Ready, now),
        initial(Condition.Type.Reconciling, now),
        initial(Condition.Type.Stalled, now));
  }

  private static Condition initial(Condition.Type type, Instant now) {
    return new Condition(type, false, Optional.of(Reason.Starting), "not reconciled yet", now);
  }

  public Conditions withReady(boolean status, Reason reason, String message, Instant now) {
    return new Conditions(
        ready.update(status, Optional.of(reason), message, now), reconciling, stalled);
  }

  /** Reconciling; its message shows only while it is true. */
  public Conditions withReconciling(boolean status, Reason reason, String message, Instant now) {
    return new Conditions(
        ready,
        reconciling.update(status, Optional.of(reason), status ? message : "", now),
        stalled);
  }

  /** Stalled; it carries a reason only while it is true. */
  public Conditions withStalled(boolean status, Reason reason, String message, Instant now) {
    return new Conditions(
        ready,
        reconciling,
        stalled.update(status, status ? Optional.of(reason) : Optional.empty(), message, now));
  }

  /** Ready, Reconciling, Stalled: the order of the status. */
  public List<Condition> list() {
    return List.of(ready, reconciling, stalled);
  }
}
