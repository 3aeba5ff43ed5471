package org.klpcatalog.service.cluster;

import java.io.IOException;

/** The cluster's database cannot be reached, so a step that needs it (publishing) cannot run. */
public final class ClusterUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  public ClusterUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
