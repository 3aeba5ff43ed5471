package org.klpcatalog.service.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClusteredJobStoreTest {
  @Test
  void theGraceIsHalfTheIntervalWithinOneSecondAndQuartzsOwn() {
    assertThat(ClusteredJobStore.grace(2_000)).isEqualTo(1_000);
    assertThat(ClusteredJobStore.grace(5_000)).isEqualTo(2_500);
    assertThat(ClusteredJobStore.grace(15_000)).isEqualTo(7_500);
    assertThat(ClusteredJobStore.grace(60_000)).isEqualTo(7_500);
    assertThat(ClusteredJobStore.grace(500)).isEqualTo(1_000);
  }

  @Test
  void aReplicaIsDeadAfterItsIntervalAndTheGraceUnlessThisOneStalledLonger() {
    // Checked in at 100 s with a 10 s interval: dead after 115 s.
    assertThat(ClusteredJobStore.failedIfAfter(100_000, 10_000, 9_000)).isEqualTo(115_000);
    // This replica itself has not checked in for 30 s (a long GC, a suspended VM): it waits as
    // long before declaring others dead.
    assertThat(ClusteredJobStore.failedIfAfter(100_000, 10_000, 30_000)).isEqualTo(135_000);
  }
}
