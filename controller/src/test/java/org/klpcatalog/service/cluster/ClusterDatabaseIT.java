package org.klpcatalog.service.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.klpcatalog.testing.Postgres;

/**
 * The cluster's database layer against a real PostgreSQL: the migration (Quartz's DDL, then ours,
 * twice over), the farm's rows, the shared status and suspension, and the publish lock.
 */
class ClusterDatabaseIT {
  private Postgres pg;

  @BeforeEach
  void start() throws Exception {
    pg = Postgres.start();
  }

  @AfterEach
  void stop() throws Exception {
    pg.close();
  }

  private ClusterDatabase open(String replica) throws Exception {
    return ClusterDatabase.open(
        new ClusterDatabase.Login(pg.jdbcUrl(), pg.user(), pg.password(), replica),
        4,
        Duration.ofSeconds(20));
  }

  @Test
  void replicasStartingTogetherMigrateOnceToQuartzsTablesAndOurs() throws Exception {
    CompletableFuture<ClusterDatabase> a = CompletableFuture.supplyAsync(() -> unchecked("a"));
    CompletableFuture<ClusterDatabase> b = CompletableFuture.supplyAsync(() -> unchecked("b"));
    try (ClusterDatabase da = a.get(60, TimeUnit.SECONDS);
        ClusterDatabase db = b.get(60, TimeUnit.SECONDS);
        Connection c = da.dataSource().getConnection();
        Statement st = c.createStatement()) {
      try (ResultSet rs =
          st.executeQuery(
              "SELECT version, success FROM klp_schema_history WHERE version IS NOT NULL"
                  + " ORDER BY installed_rank")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("1");
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("2");
        assertThat(rs.next()).as("each migration ran once").isFalse();
      }
      try (ResultSet rs =
          st.executeQuery(
              "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'qrtz_%'")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(11);
      }
    }
    // And again: nothing to do.
    try (ClusterDatabase again = open("c")) {
      assertThat(again.ping()).isTrue();
    }
  }

  @Test
  void aJobIsQueuedOnceRunByAReplicaRecoveredAndEnded() throws Exception {
    try (ClusterDatabase a = open("a");
        ClusterDatabase b = open("b")) {
      String rev = "0123456789abcdef0123456789abcdef01234567";
      // A subject is catalog text: stored as a value, never as SQL.
      String id = ClusterFarm.jobId(rev, "klp-o'brien\"; DROP TABLE klp_jobs; --", "6.1.0-50");
      assertThat(a.queue(id, "build", "klp-o'brien 6.1.0-50", rev)).isTrue();
      assertThat(b.queue(id, "build", "klp-o'brien 6.1.0-50", rev)).as("queued once").isFalse();
      a.started(id, false);
      assertThat(b.jobsOf(rev).get(id).state()).isEqualTo("running");
      assertThat(b.jobsOf(rev).get(id).replica()).contains("a");
      // Replica a dies; b recovers the job and ends it.
      b.started(id, true);
      b.finished(id, true, "");
      ClusterDatabase.JobRow row = a.jobs(List.of(id)).get(id);
      assertThat(row.state()).isEqualTo("done");
      assertThat(row.ended()).isTrue();
      assertThat(row.replica()).contains("b");
      assertThat(row.attempts()).isEqualTo(2);
      assertThat(a.jobCounts()).containsEntry("done", 1L).containsEntry("queued", 0L);
      a.requeue(id);
      assertThat(a.jobsOf(rev).get(id).state()).isEqualTo("queued");
      a.finished(id, false, "x".repeat(10_000));
      assertThat(a.jobsOf(rev).get(id).state()).isEqualTo("failed");
      assertThat(a.prune(Duration.ofDays(1))).isZero();
      assertThat(a.prune(Duration.ZERO.minusSeconds(5))).isEqualTo(1);
    }
  }

  @Test
  void twoReplicasNeverHoldThePublishLockAtOnce() throws Exception {
    try (ClusterDatabase a = open("a");
        ClusterDatabase b = open("b")) {
      ClusterDatabase.Held held = a.publishLock(Duration.ofSeconds(5));
      held.verify();
      Instant t0 = Instant.now();
      assertThatThrownBy(() -> b.publishLock(Duration.ofSeconds(2)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("another replica has been publishing");
      assertThat(Duration.between(t0, Instant.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
      // Released: b gets it at once.
      CompletableFuture<AutoCloseable> waiting =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return b.publishLock(Duration.ofSeconds(30));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      Thread.sleep(700);
      assertThat(waiting).isNotDone();
      held.close();
      waiting.get(10, TimeUnit.SECONDS).close();
      // A holder that dies (its session ends) releases it: PostgreSQL does.
      a.publishLock(Duration.ofSeconds(5));
      a.close();
      b.publishLock(Duration.ofSeconds(10)).close();
    }
  }

  @Test
  void anUnreachableDatabaseIsAClearErrorAndAnOutageIsSeen() throws Exception {
    try (ClusterDatabase a = open("a")) {
      a.saveStatus("{\"lastAppliedRevision\":\"abc\"}");
      assertThat(a.status().orElseThrow().json()).contains("abc");
      assertThat(a.status().orElseThrow().replica()).isEqualTo("a");
      assertThat(a.suspended()).isEmpty();
      a.suspend(true);
      assertThat(a.suspended()).contains(true);
      ClusterDatabase.Held held = a.publishLock(Duration.ofSeconds(5));
      held.verify();
      pg.stop();
      // The lock went with its session: whoever held it must not publish now.
      assertThatThrownBy(held::verify).isInstanceOf(ClusterUnavailableException.class);
      assertThat(a.ping()).isFalse();
      assertThatThrownBy(() -> a.publishLock(Duration.ofSeconds(1)))
          .isInstanceOf(ClusterUnavailableException.class)
          .hasMessageContaining("nothing is published");
      pg.restart();
      Instant end = Instant.now().plusSeconds(30);
      while (!a.ping() && Instant.now().isBefore(end)) {
        Thread.sleep(200);
      }
      assertThat(a.ping()).as("the pool reconnects").isTrue();
      // Still not: its session did not survive the restart.
      assertThatThrownBy(held::verify)
          .isInstanceOf(ClusterUnavailableException.class)
          .hasMessageContaining("nothing is published");
      held.close();
      a.publishLock(Duration.ofSeconds(5)).close();
      assertThat(a.suspended()).contains(true);
    }
    pg.stop();
    assertThatThrownBy(
            () ->
                ClusterDatabase.open(
                    new ClusterDatabase.Login(pg.jdbcUrl(), pg.user(), pg.password(), "x"),
                    2,
                    Duration.ofSeconds(1)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot prepare the cluster database " + pg.jdbcUrl())
        .hasMessageContaining("cluster.url");
  }

  private ClusterDatabase unchecked(String replica) {
    try {
      return open(replica);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
