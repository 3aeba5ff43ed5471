package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.service.forge.ForgeClient;
import org.klpcatalog.source.SourceException;

/** What each outcome does to the status, decided by its reason's policy: plain values, no I/O. */
class ReconcileOutcomeTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  private static final Instant NOW = T0.plusSeconds(60);
  private static final Backoff BACKOFF = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(1));
  private static final String HEAD = "0123456789abcdef0123456789abcdef01234567";

  private static ReconcileOutcome.StatusChange change(ReconcileOutcome outcome, int attempt) {
    return outcome.change(Conditions.starting(T0), attempt, Optional.of(T0), BACKOFF, 0.0, NOW);
  }

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(Reason.ValidationFailed, true, ForgeClient.State.failure),
        Arguments.of(Reason.HistoryRewritten, true, ForgeClient.State.error),
        Arguments.of(Reason.VerificationFailed, true, ForgeClient.State.error),
        Arguments.of(Reason.ReleaseCollision, true, ForgeClient.State.error),
        Arguments.of(Reason.KernelProviderUnknown, true, ForgeClient.State.error),
        Arguments.of(Reason.RepositoryCorrupt, true, ForgeClient.State.error),
        Arguments.of(Reason.GitOperationFailed, false, ForgeClient.State.error),
        Arguments.of(Reason.BuildFailed, false, ForgeClient.State.error),
        Arguments.of(Reason.StorageFailed, false, ForgeClient.State.error),
        Arguments.of(Reason.ClusterUnavailable, false, ForgeClient.State.error),
        Arguments.of(Reason.InternalError, false, ForgeClient.State.error));
  }

  @Test
  void theTableCoversEveryFailureReason() {
    assertThat(failures().map(a -> (Reason) a.get()[0]))
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(Reason.values()).filter(r -> r.policy() != Reason.Policy.NONE).toList());
  }

  @ParameterizedTest
  @MethodSource("failures")
  void aFailureStallsOrIsRetriedAsItsReasonsPolicySays(
      Reason reason, boolean stalls, ForgeClient.State forgeState) {
    ReconcileOutcome outcome = new ReconcileOutcome.Failed(Optional.of(HEAD), reason, "it broke");
    ReconcileOutcome.StatusChange c = change(outcome, 2);
    Conditions after = c.conditions();
    assertThat(after.ready().status()).isFalse();
    assertThat(after.ready().reason()).contains(reason);
    assertThat(after.ready().message()).isEqualTo("it broke");
    assertThat(after.stalled().status()).isEqualTo(stalls);
    assertThat(after.reconciling().status()).isEqualTo(!stalls);
    if (stalls) {
      assertThat(reason.policy()).isEqualTo(Reason.Policy.STALL);
      assertThat(after.stalled().reason()).contains(reason);
      assertThat(after.stalled().message()).isEqualTo("it broke");
      assertThat(after.stalled().lastTransitionTime()).isEqualTo(NOW);
      assertThat(after.reconciling().message()).isEmpty();
      assertThat(c.attempt()).isZero();
      assertThat(c.retryAt()).isEmpty();
      assertThat(c.retryIn()).isEmpty();
      assertThat(outcome.metricResult()).contains("stalled");
    } else {
      assertThat(reason.policy()).isEqualTo(Reason.Policy.RETRY);
      assertThat(after.stalled().reason()).isEmpty();
      assertThat(after.stalled().reasonName()).isEmpty();
      assertThat(after.reconciling().reason()).contains(Reason.ProgressingWithRetry);
      assertThat(after.reconciling().message()).isEqualTo("retry 3 in 40 s: it broke");
      assertThat(c.attempt()).isEqualTo(3);
      assertThat(c.retryIn()).contains(Duration.ofSeconds(40));
      assertThat(c.retryAt()).contains(NOW.plusSeconds(40));
      assertThat(outcome.metricResult()).contains("failed");
    }
    assertThat(outcome.forgeStatus())
        .contains(new ReconcileOutcome.ForgeStatus(HEAD, forgeState, reason + ": it broke"));
  }

  @Test
  void aFetchThatFailedHasNoCommitToPostAStatusOn() {
    assertThat(
            new ReconcileOutcome.Failed(Optional.empty(), Reason.GitOperationFailed, "down")
                .forgeStatus())
        .isEmpty();
  }

  @ParameterizedTest
  @MethodSource("successes")
  void aSuccessIsReadyAndClearsTheRetry(Reason reason, String metric) {
    ReconcileOutcome outcome = new ReconcileOutcome.Succeeded(HEAD, reason, "done");
    ReconcileOutcome.StatusChange c = change(outcome, 4);
    assertThat(c.conditions().ready().status()).isTrue();
    assertThat(c.conditions().ready().reason()).contains(reason);
    assertThat(c.conditions().ready().message()).isEqualTo("done");
    assertThat(c.conditions().reconciling().status()).isFalse();
    assertThat(c.conditions().reconciling().reason()).contains(reason);
    assertThat(c.conditions().stalled().status()).isFalse();
    assertThat(c.conditions().stalled().reason()).isEmpty();
    assertThat(c.attempt()).isZero();
    assertThat(c.retryAt()).isEmpty();
    assertThat(c.retryIn()).isEmpty();
    assertThat(outcome.metricResult()).contains(metric);
    assertThat(outcome.forgeStatus())
        .contains(new ReconcileOutcome.ForgeStatus(HEAD, ForgeClient.State.success, "done"));
  }

  static Stream<Arguments> successes() {
    return Stream.of(
        Arguments.of(Reason.Published, "published"), Arguments.of(Reason.InSync, "in_sync"));
  }

  @Test
  void anInterruptedRunStopsReconcilingAndKeepsTheRetry() {
    ReconcileOutcome outcome = new ReconcileOutcome.Interrupted(Optional.of(HEAD));
    ReconcileOutcome.StatusChange c = change(outcome, 2);
    assertThat(c.conditions().reconciling().status()).isFalse();
    assertThat(c.conditions().ready()).isEqualTo(Conditions.starting(T0).ready());
    assertThat(c.attempt()).isEqualTo(2);
    assertThat(c.retryAt()).contains(T0);
    assertThat(c.retryIn()).isEmpty();
    assertThat(outcome.metricResult()).isEmpty();
    assertThat(outcome.forgeStatus()).isEmpty();
  }

  @Test
  void onlyFailureReasonsFailAndOnlyPublishedOrInSyncSucceed() {
    assertThatThrownBy(() -> new ReconcileFailure(Reason.Progressing, "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ReconcileOutcome.Failed(Optional.empty(), Reason.InSync, "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ReconcileOutcome.Succeeded(HEAD, Reason.BuildFailed, "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aStepsExceptionMeansTheReasonOfItsKind() {
    assertThat(ReconcileFailure.of(new SourceException("no route")).reason())
        .isEqualTo(Reason.GitOperationFailed);
    assertThat(ReconcileFailure.of(new CorruptRepositoryException("bad repomd")).reason())
        .isEqualTo(Reason.RepositoryCorrupt);
    assertThat(ReconcileFailure.of(new IOException("disk full")).reason())
        .isEqualTo(Reason.StorageFailed);
    ReconcileFailure unexpected = ReconcileFailure.of(new IllegalStateException("bug"));
    assertThat(unexpected.reason()).isEqualTo(Reason.InternalError);
    assertThat(unexpected.getMessage()).isEqualTo("java.lang.IllegalStateException: bug");
    assertThat(unexpected.unexpected()).isTrue();
  }

  @Test
  void aConditionsTransitionTimeMovesOnlyWithItsStatus() {
    Conditions c = Conditions.starting(T0).withReady(false, Reason.Suspended, "paused", NOW);
    assertThat(c.ready().lastTransitionTime()).isEqualTo(T0);
    assertThat(c.withReady(true, Reason.Published, "ok", NOW).ready().lastTransitionTime())
        .isEqualTo(NOW);
  }
}
