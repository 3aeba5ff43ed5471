package org.klpcatalog.service.webhook;

/** What a verified webhook delivery asks of the service. */
public sealed interface WebhookEvent {
  /** Commits were pushed to {@code ref} (refs/heads/...); {@code after} is its new commit. */
  record Push(String ref, String after) implements WebhookEvent {}

  /**
   * A pull request (merge request) was opened, updated or closed: its number, the action as the
   * forge names it, its head commit, the branch it targets, and whether it was merged.
   */
  record PullRequest(int number, Action action, String headSha, String baseRef)
      implements WebhookEvent {
    /** What happened to the pull request, in one vocabulary for all forges. */
    public enum Action {
      OPENED,
      UPDATED,
      CLOSED,
      MERGED,
      OTHER
    }
  }

  /** The forge checks the hook works. */
  record Ping() implements WebhookEvent {}

  /** An event the service has no use for (a tag, an issue, a release...). */
  record Ignored(String name) implements WebhookEvent {}
}
