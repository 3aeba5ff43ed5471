package org.klpcatalog.service;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.klpcatalog.service.forge.ForgeClient;

/**
 * How a reconcile ended, as its steps report it: the vocabulary the controller records in one
 * place. {@link #change} says, as a pure function, what an outcome does to the conditions and the
 * retry; a failure's {@link Reason.Policy} chooses between stalling and retrying.
 */
public sealed interface ReconcileOutcome {

  /** The revision reconciled; empty when the branch could not be fetched. */
  Optional<String> revision();

  /** The commit is published ({@code Published}) or already was ({@code InSync}). */
  record Succeeded(String commit, Reason reason, String message) implements ReconcileOutcome {
    public Succeeded {
      if (reason != Reason.Published && reason != Reason.InSync) {
        throw new IllegalArgumentException(reason + " is not a success");
      }
    }

    @Override
    public Optional<String> revision() {
      return Optional.of(commit);
    }
  }

  /** A step failed: its reason's policy says whether the commit stalls or is retried. */
  record Failed(Optional<String> revision, Reason reason, String message)
      implements ReconcileOutcome {
    public Failed {
      if (reason.policy() == Reason.Policy.NONE) {
        throw new IllegalArgumentException(reason + " is not a failure");
      }
    }

    public static Failed of(Optional<String> revision, ReconcileFailure failure) {
      return new Failed(revision, failure.reason(), failure.getMessage());
    }
  }

  /** The service stopped in the middle: nothing is decided, the next start reconciles again. */
  record Interrupted(Optional<String> revision) implements ReconcileOutcome {}

  /** The conditions and the retry after an outcome. {@code retryIn}: a retry to schedule. */
  record StatusChange(
      Conditions conditions, int attempt, Optional<Instant> retryAt, Optional<Duration> retryIn) {}

  /**
   * What this outcome does to the status, given the conditions and retry before it. Pure: the
   * randomness of the backoff comes in as {@code random}.
   */
  default StatusChange change(
      Conditions before,
      int attempt,
      Optional<Instant> retryAt,
      Backoff backoff,
      double random,
      Instant now) {
    if (this instanceof Succeeded s) {
      Conditions c =
          before
              .withReady(true, s.reason(), s.message(), now)
              .withReconciling(false, s.reason(), s.message(), now)
              .withStalled(false, s.reason(), "", now);
      return new StatusChange(c, 0, Optional.empty(), Optional.empty());
    }
    if (this instanceof Failed f && f.reason().policy() == Reason.Policy.STALL) {
      Conditions c =
          before
              .withReady(false, f.reason(), f.message(), now)
              .withReconciling(false, f.reason(), f.message(), now)
              .withStalled(true, f.reason(), f.message(), now);
      return new StatusChange(c, 0, Optional.empty(), Optional.empty());
    }
    if (this instanceof Failed f) {
      int next = attempt + 1;
      Duration delay = backoff.delay(next, random);
      Conditions c =
          before
              .withReady(false, f.reason(), f.message(), now)
              .withReconciling(
                  true,
                  Reason.ProgressingWithRetry,
                  "retry " + next + " in " + delay.toSeconds() + " s: " + f.message(),
                  now)
              .withStalled(false, f.reason(), "", now);
      return new StatusChange(c, next, Optional.of(now.plus(delay)), Optional.of(delay));
    }
    Conditions c =
        before.withReconciling(false, Reason.Progressing, "interrupted by shutdown", now);
    return new StatusChange(c, attempt, retryAt, Optional.empty());
  }

  /** The result label of {@code klp_catalog_reconciles_total}; empty for an interrupted run. */
  default Optional<String> metricResult() {
    if (this instanceof Succeeded s) {
      return Optional.of(s.reason() == Reason.Published ? "published" : "in_sync");
    }
    if (this instanceof Failed f) {
      return Optional.of(f.reason().policy() == Reason.Policy.STALL ? "stalled" : "failed");
    }
    return Optional.empty();
  }

  /** The commit status to post on the forge, if any. */
  default Optional<ForgeStatus> forgeStatus() {
    if (this instanceof Succeeded s) {
      return Optional.of(new ForgeStatus(s.commit(), ForgeClient.State.success, s.message()));
    }
    if (this instanceof Failed f && f.revision().isPresent()) {
      ForgeClient.State state =
          f.reason() == Reason.ValidationFailed
              ? ForgeClient.State.failure
              : ForgeClient.State.error;
      return Optional.of(
          new ForgeStatus(f.revision().get(), state, f.reason() + ": " + f.message()));
    }
    return Optional.empty();
  }

  /** A commit status: the commit, its state, and the description. */
  record ForgeStatus(String sha, ForgeClient.State state, String description) {}
}
