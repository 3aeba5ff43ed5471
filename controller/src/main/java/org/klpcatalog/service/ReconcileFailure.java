package org.klpcatalog.service;

import java.io.IOException;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.service.cluster.ClusterUnavailableException;
import org.klpcatalog.source.SourceException;

/**
 * Why a step of a reconcile failed: a {@link Reason} whose policy (stall or retry) decides what
 * follows, and a message for humans. The steps throw it; the controller records it once.
 */
public final class ReconcileFailure extends Exception {
  private final Reason reason;

  public ReconcileFailure(Reason reason, String message) {
    this(reason, message, null);
  }

  private ReconcileFailure(Reason reason, String message, Throwable cause) {
    super(message, cause);
    if (reason.policy() == Reason.Policy.NONE) {
      throw new IllegalArgumentException(reason + " is not a failure");
    }
    this.reason = reason;
  }

  /**
   * The failure an exception of a step means: a release collision or an unknown kernel provider
   * stalls, as does a corrupt repository; Git and storage errors are retried, and so is anything
   * unexpected ({@code InternalError}, with the exception as its cause).
   */
  public static ReconcileFailure of(Exception e) {
    if (e instanceof ReconcileFailure f) {
      return f;
    }
    Reason reason = reasonOf(e);
    return reason == Reason.InternalError
        ? new ReconcileFailure(reason, e.toString(), e)
        : new ReconcileFailure(reason, e.getMessage(), e);
  }

  private static Reason reasonOf(Exception e) {
    if (e instanceof Planner.NevraCollision) {
      return Reason.ReleaseCollision;
    }
    if (e instanceof KernelProviders.Unknown) {
      return Reason.KernelProviderUnknown;
    }
    if (e instanceof SourceException) {
      return Reason.GitOperationFailed;
    }
    if (e instanceof CorruptRepositoryException) {
      return Reason.RepositoryCorrupt;
    }
    if (e instanceof ClusterUnavailableException) {
      return Reason.ClusterUnavailable;
    }
    return e instanceof IOException ? Reason.StorageFailed : Reason.InternalError;
  }

  public Reason reason() {
    return reason;
  }

  /** Whether this failure is unexpected: its stack trace belongs in the log. */
  public boolean unexpected() {
    return reason == Reason.InternalError;
  }
}
