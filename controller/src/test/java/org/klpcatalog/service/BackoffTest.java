package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final Backoff backoff = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(10));

  @Test
  void delaysDoubleFromTheFirstUntilTheCap() {
    assertThat(backoff.delay(1, 0)).isEqualTo(Duration.ofSeconds(10));
    assertThat(backoff.delay(2, 0)).isEqualTo(Duration.ofSeconds(20));
    assertThat(backoff.delay(4, 0)).isEqualTo(Duration.ofSeconds(80));
    assertThat(backoff.delay(7, 0)).isEqualTo(Duration.ofMinutes(10));
    assertThat(backoff.delay(1000, 0)).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void jitterTakesOffAtMostATenth() {
    assertThat(backoff.delay(2, 0.999))
        .isGreaterThan(Duration.ofSeconds(18))
        .isLessThan(Duration.ofSeconds(20));
    assertThat(backoff.delay(20, 0.5)).isEqualTo(Duration.ofSeconds(570));
  }

  @Test
  void attemptsCountFromOne() {
    assertThatThrownBy(() -> backoff.delay(0, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void pollsMoveByUpToTheJitterEitherWay() {
    Duration i = Duration.ofSeconds(60);
    Duration j = Duration.ofSeconds(6);
    assertThat(Backoff.poll(i, j, 0)).isEqualTo(Duration.ofSeconds(54));
    assertThat(Backoff.poll(i, j, 0.5)).isEqualTo(Duration.ofSeconds(60));
    assertThat(Backoff.poll(i, j, 0.9999))
        .isBetween(Duration.ofMillis(65_998), Duration.ofSeconds(66));
  }
}
