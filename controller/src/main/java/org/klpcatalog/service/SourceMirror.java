package org.klpcatalog.service;

import org.klpcatalog.source.GitOptions;
import org.klpcatalog.source.GitSource;
import org.klpcatalog.source.SourceException;

/**
 * The service's mirror of the followed repository (in {@code stateDir/git}), opened on first use
 * and shared by the reconcile and the pull-request checks.
 */
final class SourceMirror implements AutoCloseable {
  private final ServiceConfig config;
  private GitSource source;

  SourceMirror(ServiceConfig config) {
    this.config = config;
  }

  synchronized GitSource get() throws SourceException {
    if (source == null) {
      ServiceConfig.Source s = config.source();
      source =
          GitSource.mirror(
              s.url(),
              new GitOptions(
                  config.stateDir().resolve("git"),
                  s.token(),
                  s.sshKey(),
                  s.knownHosts(),
                  s.path()));
    }
    return source;
  }

  @Override
  public synchronized void close() {
    if (source != null) {
      source.close();
    }
  }
}
