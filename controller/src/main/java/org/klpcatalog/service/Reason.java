package org.klpcatalog.service;

/**
 * The reasons conditions carry, each documented in docs/serve.md with what it means and what to do.
 * The policy says how the service handles the error behind a reason.
 */
public enum Reason {
  /** Starting up: nothing reconciled yet. */
  Starting(Policy.NONE),
  /** A reconcile is running. */
  Progressing(Policy.NONE),
  /** Waiting to retry after an error worth retrying. */
  ProgressingWithRetry(Policy.NONE),
  /** A new repository version was published for the revision. */
  Published(Policy.NONE),
  /** The repository already matched the revision: nothing to publish. */
  InSync(Policy.NONE),
  /** Reconciling is suspended (suspend command or configuration). */
  Suspended(Policy.NONE),
  /** The revision is not a valid catalog: fixed by a new commit. */
  ValidationFailed(Policy.STALL),
  /**
   * The branch's history was rewritten (a force-push): refused unless source.allowHistoryRewrite.
   */
  HistoryRewritten(Policy.STALL),
  /** The revision is not signed by a trusted key. */
  VerificationFailed(Policy.STALL),
  /**
   * The revision would publish a package under a name-version-release already used for other
   * content.
   */
  ReleaseCollision(Policy.STALL),
  /** A kernel of the revision names a kernel provider the configuration does not define. */
  KernelProviderUnknown(Policy.STALL),
  /** The published repository is damaged: a human must look at it. */
  RepositoryCorrupt(Policy.STALL),
  /** Fetching the catalog failed (network, credentials, a missing branch). */
  GitOperationFailed(Policy.RETRY),
  /** Some packages failed to build: what built was published, the rest is retried. */
  BuildFailed(Policy.RETRY),
  /** Writing the repository failed (a full disk, permissions, the lock held too long). */
  StorageFailed(Policy.RETRY),
  /**
   * The cluster's database cannot be reached: no replica reconciles (the last good repository stays
   * published) until it returns; checked again every cluster.checkinInterval.
   */
  ClusterUnavailable(Policy.RETRY),
  /** An unexpected failure: logged with its stack trace, and retried. */
  InternalError(Policy.RETRY);

  /**
   * How an error is handled: stall until a new commit (a human must act), or retry with backoff.
   */
  public enum Policy {
    NONE,
    STALL,
    RETRY
  }

  private final Policy policy;

  Reason(Policy policy) {
    this.policy = policy;
  }

  public Policy policy() {
    return policy;
  }
}
