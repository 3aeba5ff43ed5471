package org.klpcatalog.service.cluster;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's PostgreSQL database: its schema (Quartz's tables, then ours, migrated by Flyway at
 * start; replicas starting together are serialised by Flyway's own lock), the farm's job rows, the
 * shared status, and the advisory lock publishing holds. Connections come from one small pool that
 * Quartz's job stores use too.
 */
public final class ClusterDatabase implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterDatabase.class);

  /** The advisory lock key publishing holds: "klp-pub" as a number, the same on every replica. */
  static final long PUBLISH_LOCK = 0x6b6c702d707562L;

  /** Where the SQL migrations live (V2 on); V1 is {@link QuartzTables}. */
  static final String MIGRATIONS = "classpath:org/klpcatalog/service/cluster/db";

  private final HikariDataSource pool;
  private final String replica;

  /** How to reach the database, and who this replica is. */
  public record Login(String url, String user, String password, String replica) {
    @Override
    public String toString() {
      return "Login[url=" + url + ", user=" + user + ", replica=" + replica + "]";
    }
  }

  private ClusterDatabase(HikariDataSource pool, String replica) {
    this.pool = pool;
    this.replica = replica;
  }

  /**
   * Opens the database and migrates its schema, trying again until {@code wait} has passed (a
   * replica may start before the database does).
   */
  public static ClusterDatabase open(Login c, int poolSize, Duration wait)
      throws IOException, InterruptedException {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(c.url());
    hc.setUsername(c.user());
    hc.setPassword(c.password());
    hc.setMaximumPoolSize(poolSize);
    hc.setMinimumIdle(1);
    hc.setPoolName("klp-cluster");
    hc.setConnectionTimeout(5_000);
    hc.setValidationTimeout(2_000);
    // Start without the database: the first migration attempt below reports it.
    hc.setInitializationFailTimeout(-1);
    hc.addDataSourceProperty("connectTimeout", "5");
    hc.addDataSourceProperty("socketTimeout", "60");
    hc.addDataSourceProperty("ApplicationName", "klp-catalog " + c.replica());
    HikariDataSource pool = new HikariDataSource(hc);
    ClusterDatabase db = new ClusterDatabase(pool, c.replica());
    Instant deadline = Instant.now().plus(wait);
    while (true) {
      try {
        db.migrate();
        return db;
      } catch (RuntimeException e) {
        if (Instant.now().isAfter(deadline)) {
          pool.close();
          throw new IOException(
              "cannot prepare the cluster database "
                  + c.url()
                  + " as "
                  + c.user()
                  + ": "
                  + rootMessage(e)
                  + " (check cluster.url, cluster.user and cluster.passwordFile, and that the"
                  + " database runs)",
              e);
        }
        LOG.warn("the cluster database is not ready ({}); trying again", rootMessage(e));
        Thread.sleep(2_000);
      }
    }
  }

  /** Creates or upgrades the schema: Quartz's tables, then ours. */
  void migrate() {
    Flyway.configure()
        .dataSource(pool)
        .locations(MIGRATIONS)
        .javaMigrations(new QuartzTables())
        .table("klp_schema_history")
        .load()
        .migrate();
  }

  public DataSource dataSource() {
    return pool;
  }

  public String replica() {
    return replica;
  }

  /** Whether the database answers now. */
  public boolean ping() {
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement()) {
      st.setQueryTimeout(5);
      st.execute("SELECT 1");
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  // ---- farm jobs ----

  /**
   * Records a job as queued unless it is known: whether it is new (and must be scheduled). A known
   * job is waited on, whatever replica queued it.
   */
  public boolean queue(String id, String kind, String subject, String revision)
      throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO klp_jobs (id, kind, subject, revision, state)"
                    + " VALUES (?, ?, ?, ?, 'queued') ON CONFLICT (id) DO NOTHING")) {
      ps.setString(1, id);
      ps.setString(2, kind);
      ps.setString(3, subject);
      ps.setString(4, revision);
      return ps.executeUpdate() == 1;
    }
  }

  /** Queues a known job again (its Quartz job was lost, or it failed and is tried again). */
  public void requeue(String id) throws SQLException {
    update(
        "UPDATE klp_jobs SET state = 'queued', replica = NULL, message = NULL,"
            + " finished_at = NULL, queued_at = now() WHERE id = ?",
        id);
  }

  /** A replica took the job (again, after its first replica died, when {@code recovering}). */
  public void started(String id, boolean recovering) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE klp_jobs SET state = 'running', replica = ?, attempts = attempts + 1,"
                    + " recovered = recovered + ?, started_at = now(), finished_at = NULL"
                    + " WHERE id = ?")) {
      ps.setString(1, replica);
      ps.setInt(2, recovering ? 1 : 0);
      ps.setString(3, id);
      ps.executeUpdate();
    }
  }

  /** The job ended: done (its result is in the store) or failed, with a message. */
  public void finished(String id, boolean ok, String message) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE klp_jobs SET state = ?, message = ?, finished_at = now() WHERE id = ?")) {
      ps.setString(1, ok ? "done" : "failed");
      ps.setString(2, message.length() > 4000 ? message.substring(0, 4000) : message);
      ps.setString(3, id);
      ps.executeUpdate();
    }
  }

  /** A job's row. */
  public record JobRow(String id, String state, Optional<String> replica, int attempts) {
    public boolean ended() {
      return state.equals("done") || state.equals("failed");
    }
  }

  /** The rows of these jobs, by id. */
  public Map<String, JobRow> jobs(Collection<String> ids) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, state, replica, attempts FROM klp_jobs WHERE id = ANY (?)")) {
      ps.setArray(1, c.createArrayOf("varchar", ids.toArray()));
      return rows(ps);
    }
  }

  /** The rows of a revision's jobs, by id (one indexed query, however many jobs). */
  public Map<String, JobRow> jobsOf(String revision) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, state, replica, attempts FROM klp_jobs WHERE revision = ?")) {
      ps.setString(1, revision);
      return rows(ps);
    }
  }

  private static Map<String, JobRow> rows(PreparedStatement ps) throws SQLException {
    Map<String, JobRow> out = new LinkedHashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.put(
            rs.getString(1),
            new JobRow(
                rs.getString(1),
                rs.getString(2),
                Optional.ofNullable(rs.getString(3)),
                rs.getInt(4)));
      }
    }
    return out;
  }

  /** Forgets jobs that ended more than {@code age} ago. */
  public int prune(Duration age) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM klp_jobs WHERE finished_at < ?")) {
      ps.setTimestamp(1, Timestamp.from(Instant.now().minus(age)));
      return ps.executeUpdate();
    }
  }

  // ---- the cluster's state ----

  /**
   * A replica as the cluster sees it: its last check-in and the farm jobs it runs and recovered.
   */
  public record Replica(
      String id, Instant lastCheckin, Duration checkinInterval, int running, int recovered) {}

  /** Every replica that has checked in, in id order. */
  public List<Replica> replicas(String schedulerName) throws SQLException {
    Map<String, Replica> out = new TreeMap<>();
    try (Connection c = pool.getConnection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT instance_name, last_checkin_time, checkin_interval FROM qrtz_scheduler_state"
                  + " WHERE sched_name = ?")) {
        ps.setString(1, schedulerName);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(
                rs.getString(1),
                new Replica(
                    rs.getString(1),
                    Instant.ofEpochMilli(rs.getLong(2)),
                    Duration.ofMillis(rs.getLong(3)),
                    0,
                    0));
          }
        }
      }
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT replica, count(*) FILTER (WHERE state = 'running'), sum(recovered)"
                      + " FROM klp_jobs WHERE replica IS NOT NULL GROUP BY replica")) {
        while (rs.next()) {
          Replica r = out.get(rs.getString(1));
          if (r != null) {
            out.put(
                r.id(),
                new Replica(
                    r.id(), r.lastCheckin(), r.checkinInterval(), rs.getInt(2), rs.getInt(3)));
          }
        }
      }
    }
    return List.copyOf(out.values());
  }

  /** How many farm jobs are in each state (queued, running, done, failed). */
  public Map<String, Long> jobCounts() throws SQLException {
    Map<String, Long> out = new TreeMap<>();
    for (String s : List.of("queued", "running", "done", "failed")) {
      out.put(s, 0L);
    }
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT state, count(*) FROM klp_jobs GROUP BY state")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getLong(2));
      }
    }
    return out;
  }

  /** Records the status of the reconcile this replica ran, for every replica's /status. */
  public void saveStatus(String json) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO klp_status (id, replica, status, updated_at) VALUES (1, ?, ?, now())"
                    + " ON CONFLICT (id) DO UPDATE SET replica = EXCLUDED.replica,"
                    + " status = EXCLUDED.status, updated_at = EXCLUDED.updated_at")) {
      ps.setString(1, replica);
      ps.setString(2, json);
      ps.executeUpdate();
    }
  }

  /** The status a replica last recorded. */
  public record StoredStatus(String replica, String json, Instant at) {}

  public Optional<StoredStatus> status() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT replica, status, updated_at FROM klp_status WHERE id = 1")) {
      return rs.next()
          ? Optional.of(
              new StoredStatus(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant()))
          : Optional.empty();
    }
  }

  /** Records that reconciling is suspended (or not) for the whole cluster. */
  public void suspend(boolean suspended) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO klp_settings (id, suspended, updated_by, updated_at)"
                    + " VALUES (1, ?, ?, now()) ON CONFLICT (id) DO UPDATE SET"
                    + " suspended = EXCLUDED.suspended, updated_by = EXCLUDED.updated_by,"
                    + " updated_at = EXCLUDED.updated_at")) {
      ps.setBoolean(1, suspended);
      ps.setString(2, replica);
      ps.executeUpdate();
    }
  }

  /** Whether the cluster is suspended; empty when no replica ever said. */
  public Optional<Boolean> suspended() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT suspended FROM klp_settings WHERE id = 1")) {
      return rs.next() ? Optional.of(rs.getBoolean(1)) : Optional.empty();
    }
  }

  // ---- publishing ----

  /**
   * Takes the publish lock (a session advisory lock on a connection of its own), waiting at most
   * {@code wait}; released when closed, or by PostgreSQL when this process dies.
   */
  public Held publishLock(Duration wait) throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(wait);
    Connection c;
    try {
      c = pool.getConnection();
    } catch (SQLException e) {
      throw new ClusterUnavailableException(
          "the cluster database is unavailable, so nothing is published: " + rootMessage(e), e);
    }
    try {
      while (true) {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
          ps.setLong(1, PUBLISH_LOCK);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (rs.getBoolean(1)) {
              return new Held(c);
            }
          }
        }
        if (Instant.now().isAfter(deadline)) {
          throw new IOException(
              "another replica has been publishing for longer than repository.lockWait ("
                  + wait.toSeconds()
                  + "s)");
        }
        Thread.sleep(500);
      }
    } catch (SQLException e) {
      closeQuietly(c);
      throw new ClusterUnavailableException(
          "the cluster database is unavailable, so nothing is published: " + rootMessage(e), e);
    } catch (IOException | InterruptedException | RuntimeException e) {
      closeQuietly(c);
      throw e;
    }
  }

  /** The publish lock, held on its own session. */
  public final class Held implements org.klpcatalog.reconcile.Reconciler.HeldLock {
    private final Connection session;

    Held(Connection session) {
      this.session = session;
    }

    /**
     * Fails unless this session still holds the lock: a database restart or failover ends the
     * session and frees the lock without telling its holder, and another replica may hold it now.
     */
    @Override
    public void verify() throws IOException {
      try (PreparedStatement ps =
          session.prepareStatement(
              "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                  + " AND pid = pg_backend_pid() AND classid::bigint = ? AND objid::bigint = ?")) {
        ps.setQueryTimeout(10);
        // An advisory lock on a bigint key shows its high 32 bits as classid, its low as objid.
        ps.setLong(1, PUBLISH_LOCK >>> 32);
        ps.setLong(2, PUBLISH_LOCK & 0xffffffffL);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getInt(1) == 0) {
            throw new ClusterUnavailableException(
                "the cluster's publish lock was lost (the database restarted or failed over"
                    + " during this reconcile); nothing is published, the next reconcile retries",
                null);
          }
        }
      } catch (SQLException e) {
        throw new ClusterUnavailableException(
            "the cluster database is unavailable, so nothing is published: " + rootMessage(e), e);
      }
    }

    @Override
    public void close() {
      release(session);
    }
  }

  private void release(Connection c) {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
      ps.setLong(1, PUBLISH_LOCK);
      ps.execute();
    } catch (SQLException e) {
      // The session is gone (and its lock with it), or goes now: nothing to undo.
      LOG.debug("releasing the publish lock: {}", e.getMessage());
    } finally {
      // Closed for good, not returned to the pool: a lock never outlives its holder's session.
      pool.evictConnection(c);
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      LOG.debug("closing a connection: {}", e.getMessage());
    }
  }

  private void update(String sql, String id) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, id);
      ps.executeUpdate();
    }
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return String.valueOf(t.getMessage());
  }

  @Override
  public void close() {
    pool.close();
  }
}
