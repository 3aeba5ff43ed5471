package org.klpcatalog.service.forge;

/**
 * The forge commit statuses and pull-request comments go to: its kind, its REST API's URL, the
 * repository ({@code owner/repo}), the token, and the context statuses are posted under.
 */
public record ForgeConfig(
    Kind type, String apiUrl, String owner, String repo, String token, String context) {
  /** The forges whose REST API the client speaks. */
  public enum Kind {
    github,
    gitea
  }
}
