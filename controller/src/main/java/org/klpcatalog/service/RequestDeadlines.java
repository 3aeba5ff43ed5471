package org.klpcatalog.service;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request deadline of every HTTP connection: from the moment a connection opens, or its
 * previous answer is sent, the next request's headers and body must have arrived within {@code
 * server.requestTimeout}, or the connection is closed. The read timeout alone cannot do this: a
 * client that sends one byte every few seconds is never silent for long, and would hold its
 * connection (and, with enough of them, every connection the server takes) for as long as it likes.
 * While a request is being answered there is no deadline: answers are quick, and the reconcile
 * never runs on a request's thread.
 *
 * <p>A {@link Connection.Listener} of the connector; {@link #handling} and {@link #answered} are
 * called by the endpoints. Thread-safe.
 */
final class RequestDeadlines implements Connection.Listener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RequestDeadlines.class);

  /**
   * A connection's deadline (System.nanoTime; NONE while answering) and its bytes in when it was
   * set.
   */
  private record Deadline(long at, long bytesIn) {}

  private static final long NONE = Long.MAX_VALUE;

  private final long timeoutNanos;
  private final Map<Connection, Deadline> deadlines = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sweeper;

  RequestDeadlines(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
    this.sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "http-deadlines");
              t.setDaemon(true);
              return t;
            });
    // Checked ten times per timeout (between every 20 ms and every second): a connection is closed
    // at most a tenth of the timeout late.
    long period = Math.max(20, Math.min(1000, timeout.toMillis() / 10));
    sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  public void onOpened(Connection connection) {
    deadlines.put(
        connection, new Deadline(System.nanoTime() + timeoutNanos, connection.getBytesIn()));
  }

  @Override
  public void onClosed(Connection connection) {
    deadlines.remove(connection);
  }

  /** The connection's request has arrived whole: it is being answered, with no deadline. */
  void handling(Connection connection) {
    deadlines.computeIfPresent(connection, (c, d) -> new Deadline(NONE, d.bytesIn()));
  }

  /** The connection's answer was sent: its next request must arrive within the timeout. */
  void answered(Connection connection) {
    deadlines.computeIfPresent(
        connection, (c, d) -> new Deadline(System.nanoTime() + timeoutNanos, c.getBytesIn()));
  }

  /** How many connections are open (for tests). */
  int open() {
    return deadlines.size();
  }

  private void sweep() {
    long now = System.nanoTime();
    deadlines.forEach(
        (connection, d) -> {
          if (d.at() != NONE && now - d.at() >= 0 && deadlines.remove(connection, d)) {
            // A connection that sent nothing since its last answer was merely kept alive; one that
            // sent
            // something is a request too slow to finish: that is worth a line in the log.
            if (connection.getBytesIn() != d.bytesIn()) {
              LOG.atInfo()
                  .addKeyValue(
                      "remote", String.valueOf(connection.getEndPoint().getRemoteSocketAddress()))
                  .log(
                      "closed an HTTP connection whose request did not arrive whole within "
                          + Duration.ofNanos(timeoutNanos).toMillis()
                          + " ms (server.requestTimeout)");
            }
            connection.getEndPoint().close();
          }
        });
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
  }
}
