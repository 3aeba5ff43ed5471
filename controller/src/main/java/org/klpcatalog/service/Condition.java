package org.klpcatalog.service;

import java.time.Instant;
import java.util.Optional;

/**
 * One condition of the service's status, as in Kubernetes and Flux: {@code Ready}, {@code
 * Reconciling} or {@code Stalled}, true or false, with a reason from a closed vocabulary (see
 * {@link Reason}; none on a {@code Stalled} that is false) and a message for humans.
 */
public record Condition(
    Type type,
    boolean status,
    Optional<Reason> reason,
    String message,
    Instant lastTransitionTime) {

  /** The three conditions; the constant's name is the type's name in the status. */
  public enum Type {
    Ready,
    Reconciling,
    Stalled
  }

  /** The reason's name as the status shows it; empty when there is none. */
  public String reasonName() {
    return reason.map(Reason::name).orElse("");
  }

  /**
   * The same condition with a new status, reason and message; the transition time moves only when
   * the status does.
   */
  public Condition update(boolean status, Optional<Reason> reason, String message, Instant now) {
    return new Condition(
        type, status, reason, message, status == this.status ? lastTransitionTime : now);
  }
}
