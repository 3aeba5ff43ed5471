package org.klpcatalog.service;

import java.time.Instant;

/**
 * One condition of the service's status, as in Kubernetes and Flux: {@code Ready}, {@code
 * Reconciling} or {@code Stalled}, true or false, with a reason from a closed vocabulary (see
 * {@link Reason}) and a message for humans.
 */
public record Condition(
    String type, boolean status, String reason, String message, Instant lastTransitionTime) {
  public static final String READY = "Ready";
  public static final String RECONCILING = "Reconciling";
  public static final String STALLED = "Stalled";

  /**
   * The same condition with a new status, reason and message; the transition time moves only when
   * the status does.
   */
  public Condition update(boolean status, String reason, String message, Instant now) {
    return new Condition(
        type, status, reason, message, status == this.status ? lastTransitionTime : now);
  }
}
