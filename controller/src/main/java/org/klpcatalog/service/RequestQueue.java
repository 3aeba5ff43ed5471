package org.klpcatalog.service;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The controller's work queue: requests for a reconcile and for pull-request checks, run one at a
 * time on a thread of their own. Reconcile requests coalesce: however many arrive while a run is
 * under way, one more run follows. A pull request's newer head replaces an older one still waiting.
 * Reconciles go first.
 */
final class RequestQueue {
  /** A pull request's head to check. */
  record PullRequest(int number, String sha) {}

  private final Runnable reconcile;
  private final Consumer<PullRequest> check;
  private final ExecutorService worker;
  private final AtomicBoolean requested = new AtomicBoolean();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final Map<Integer, PullRequest> pending = new LinkedHashMap<>();
  private final Object runs = new Object();
  private long reconciles;
  private volatile boolean stopping;
  private volatile Thread workerThread;

  RequestQueue(Runnable reconcile, Consumer<PullRequest> check) {
    this.reconcile = reconcile;
    this.check = check;
    this.worker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "reconciler");
              t.setDaemon(false);
              workerThread = t;
              return t;
            });
  }

  /** Asks for a reconcile; ignored once stopping. */
  void requestReconcile() {
    if (stopping) {
      return;
    }
    requested.set(true);
    schedule();
  }

  /** Asks for a check of a pull request's head; ignored once stopping. */
  void requestCheck(int number, String sha) {
    if (stopping) {
      return;
    }
    synchronized (pending) {
      pending.remove(number);
      pending.put(number, new PullRequest(number, sha));
    }
    schedule();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      worker.execute(this::drain);
    }
  }

  private void drain() {
    try {
      while (!stopping) {
        if (requested.getAndSet(false)) {
          runReconcile();
          continue;
        }
        PullRequest pr;
        synchronized (pending) {
          if (pending.isEmpty()) {
            break;
          }
          pr = pending.remove(pending.keySet().iterator().next());
        }
        check.accept(pr);
      }
    } finally {
      scheduled.set(false);
      boolean more;
      synchronized (pending) {
        more = requested.get() || !pending.isEmpty();
      }
      if (more && !stopping) {
        schedule();
      }
    }
  }

  private void runReconcile() {
    try {
      reconcile.run();
    } finally {
      synchronized (runs) {
        reconciles++;
        runs.notifyAll();
      }
    }
  }

  /** How many reconciles have run to their end (those that found nothing to do included). */
  long reconciles() {
    synchronized (runs) {
      return reconciles;
    }
  }

  /**
   * Waits until {@code count} reconciles have run, at most {@code timeout}; whether they have. For
   * tests that prove nothing happened without sleeping.
   */
  boolean awaitReconciles(long count, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    synchronized (runs) {
      while (reconciles < count) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(runs, left);
      }
      return true;
    }
  }

  /** Whether a reconcile has been asked for and not begun yet. */
  boolean reconcileRequested() {
    return requested.get();
  }

  /** Whether the worker thread is alive (or not started yet). */
  boolean healthy() {
    Thread t = workerThread;
    return t == null || t.isAlive() || !scheduled.get();
  }

  /** Takes no more requests; the one running goes on. */
  void shutdown() {
    stopping = true;
    worker.shutdown();
  }

  /** Interrupts the one running. */
  void interrupt() {
    worker.shutdownNow();
  }

  /** Waits for the one running to end; whether it did in time. */
  boolean awaitTermination(Duration timeout) throws InterruptedException {
    return worker.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
