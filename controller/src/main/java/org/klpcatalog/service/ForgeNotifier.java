package org.klpcatalog.service;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.klpcatalog.service.forge.ForgeClient;
import org.klpcatalog.service.forge.ForgeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends statuses and comments to the forge from a thread of its own, in order, so a slow or
 * unreachable forge never holds up reconciling. A failure is logged and counted, never retried
 * beyond the client's own retries: the next reconcile posts again.
 */
final class ForgeNotifier {
  private static final Logger LOG = LoggerFactory.getLogger(ForgeNotifier.class);
  private final ForgeClient client;
  private final ServiceMetrics metrics;
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "forge");
            t.setDaemon(true);
            return t;
          });

  ForgeNotifier(ForgeClient client, ServiceMetrics metrics) {
    this.client = client;
    this.metrics = metrics;
  }

  void status(String sha, ForgeClient.State state, String description, Optional<String> url) {
    submit("status of " + sha.substring(0, 12), () -> client.status(sha, state, description, url));
  }

  void comment(int number, String body) {
    submit(
        "comment on pull request " + number,
        () -> client.upsertComment(number, PlanComment.MARKER, body));
  }

  private interface Call {
    void run() throws ForgeException, InterruptedException;
  }

  private void submit(String what, Call call) {
    try {
      executor.execute(
          () -> {
            try {
              call.run();
              metrics.forgeRequests.labelValues("ok").inc();
            } catch (ForgeException e) {
              metrics.forgeRequests.labelValues("failed").inc();
              LOG.atWarn().addKeyValue("what", what).log("forge request failed: " + e.getMessage());
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
    } catch (RejectedExecutionException e) {
      LOG.atDebug().log("stopping: not sending " + what);
    }
  }

  void stop(Duration timeout) {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
