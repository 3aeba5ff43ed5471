package org.klpcatalog.service;

import java.time.Duration;

/**
 * Capped exponential backoff for errors worth retrying, and the jittered poll interval. Pure: the
 * randomness comes in as a number in [0, 1), so the schedule is testable.
 */
public record Backoff(Duration initial, Duration max) {

  /**
   * The wait before retry number {@code attempt} (1 for the first): {@code initial} doubled per
   * attempt, at most {@code max}, less up to a tenth at random so that replicas do not retry in
   * step.
   */
  public Duration delay(int attempt, double random) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt " + attempt);
    }
    long base = initial.toMillis();
    long cap = max.toMillis();
    long d = base;
    for (int i = 1; i < attempt && d < cap; i++) {
      d = d * 2;
    }
    d = Math.min(d, cap);
    return Duration.ofMillis(d - (long) (d * 0.1 * random));
  }

  /** The wait before the next poll: {@code interval} moved by up to {@code jitter} either way. */
  public static Duration poll(Duration interval, Duration jitter, double random) {
    long j = jitter.toMillis();
    long offset = Math.round((random * 2 - 1) * j);
    return Duration.ofMillis(Math.max(1, interval.toMillis() + offset));
  }
}
