package org.klpcatalog.service.cluster;

import org.quartz.impl.jdbcjobstore.JobStoreTX;
import org.quartz.impl.jdbcjobstore.SchedulerStateRecord;

/**
 * Quartz's JDBC job store, with a grace for late check-ins that follows the check-in interval.
 * Quartz takes a replica for dead once its last check-in is older than its interval plus a fixed
 * 7.5 s; with a short interval that fixed part makes recovery several intervals long. Here the
 * grace is half the interval (at least 1 s, at most Quartz's 7.5 s): a dead replica's jobs are
 * recovered between one and two and a half intervals after its last check-in, about one and a half
 * on average. Replicas' clocks must agree to well within that grace (NTP does).
 */
public class ClusteredJobStore extends JobStoreTX {
  @Override
  protected long calcFailedIfAfter(SchedulerStateRecord rec) {
    return failedIfAfter(
        rec.getCheckinTimestamp(),
        rec.getCheckinInterval(),
        System.currentTimeMillis() - lastCheckin);
  }

  /**
   * When a replica that last checked in at {@code lastCheckin} counts as dead: after its interval
   * (or the time this replica itself took since its own last check-in, if longer: a stalled replica
   * does not declare others dead) and the grace.
   */
  public static long failedIfAfter(long lastCheckin, long interval, long sinceOwnCheckin) {
    return lastCheckin + Math.max(interval, sinceOwnCheckin) + grace(interval);
  }

  static long grace(long interval) {
    return Math.max(1_000L, Math.min(7_500L, interval / 2));
  }
}
