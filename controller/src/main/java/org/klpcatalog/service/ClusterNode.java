package org.klpcatalog.service;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.klpcatalog.service.cluster.ClusterDatabase;
import org.klpcatalog.service.cluster.ClusterFarm;
import org.klpcatalog.service.cluster.ClusterScheduler;
import org.klpcatalog.service.cluster.ClusteredJobStore;
import org.quartz.SchedulerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * This process as a replica of a cluster (the configuration's {@code cluster} section): joins the
 * cluster's schedule, sends the controller's triggers, retries and module builds through it, guards
 * publishing with the database's lock, records each reconcile's status for every replica's /status,
 * and watches the database every check-in interval (an outage is a {@code ClusterUnavailable}
 * condition; its end asks for a reconcile).
 */
final class ClusterNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Farm job rows are kept this long after they end, for /status and the metrics. */
  private static final Duration KEEP_JOBS = Duration.ofDays(7);

  private final ServiceConfig.Cluster config;
  private final ClusterDatabase db;
  private final ClusterScheduler scheduler;
  private final CatalogController controller;
  private final ServiceMetrics metrics;
  private final Clock clock;
  private final ScheduledExecutorService monitor;
  private volatile boolean available = true;
  private volatile Optional<Instant> unavailableSince = Optional.empty();
  private volatile Instant pruned = Instant.EPOCH;

  /** The shared status last read, shown while the database does not answer. */
  private volatile Optional<ClusterDatabase.StoredStatus> lastShared = Optional.empty();

  private ClusterNode(
      ServiceConfig.Cluster config,
      ClusterDatabase db,
      ClusterScheduler scheduler,
      CatalogController controller,
      ServiceMetrics metrics,
      Clock clock) {
    this.config = config;
    this.db = db;
    this.scheduler = scheduler;
    this.controller = controller;
    this.metrics = metrics;
    this.clock = clock;
    this.monitor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "cluster-monitor");
              t.setDaemon(true);
              return t;
            });
  }

  /** Joins the cluster {@code config} names, wiring {@code controller} to it (not started yet). */
  static ClusterNode join(
      ServiceConfig config, CatalogController controller, ServiceMetrics metrics, Clock clock)
      throws IOException, InterruptedException, SchedulerException {
    ServiceConfig.Cluster c = config.cluster().orElseThrow();
    ClusterDatabase db =
        ClusterDatabase.open(
            new ClusterDatabase.Login(c.url(), c.user(), c.password(), c.replica()),
            config.build().jobs() + 8,
            Duration.ofMinutes(2));
    ClusterScheduler scheduler =
        new ClusterScheduler(
            db,
            c.checkin(),
            config.source().interval(),
            config.build().jobs(),
            (why, recovering) -> {
              if (recovering) {
                LOG.atInfo().log("recovering a reconcile whose replica stopped checking in");
              }
              followSuspension(db, controller);
              controller.reconcileHere(why, config.shutdownTimeout().plusHours(12));
            },
            (revision, pkg, kernel) -> controller.farmWorker().build(revision, pkg, kernel));
    // A module build may run for build.timeout; a dead replica's job is recovered within about
    // two check-ins.
    ClusterFarm farm =
        new ClusterFarm(
            db,
            scheduler,
            config.build().timeout().plus(c.checkin().multipliedBy(3)).plusSeconds(30),
            Duration.ofSeconds(1));
    ClusterNode node = new ClusterNode(c, db, scheduler, controller, metrics, clock);
    controller.triggerVia(scheduler::triggerNow);
    controller.retryScheduler(scheduler::retryIn);
    controller.applyOptionsVia(o -> o.inCluster(farm, db::publishLock));
    controller.afterEachRun(node::recordStatus);
    controller.sharedRepository();
    // A suspension is the cluster's: made on any replica, followed by all. The first replica of a
    // cluster tells what it starts with (suspend: true in its configuration, or remembered).
    try {
      if (db.suspended().isEmpty()) {
        db.suspend(controller.suspended());
      } else {
        followSuspension(db, controller);
      }
    } catch (SQLException e) {
      LOG.warn("cannot read the cluster's suspension: {}", e.getMessage());
    }
    controller.suspensionsTo(
        s -> {
          try {
            db.suspend(s);
          } catch (SQLException e) {
            throw new IllegalStateException(
                "the cluster database did not record the "
                    + (s ? "suspension" : "resumption")
                    + ": "
                    + e.getMessage(),
                e);
          }
        });
    metrics.clusterDatabaseUp.set(1);
    return node;
  }

  /** Starts: the schedule runs (a reconcile is asked for at once), the database is watched. */
  void start() throws SchedulerException {
    scheduler.start();
    long every = config.checkin().toMillis();
    monitor.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    LOG.atInfo()
        .addKeyValue("replica", config.replica())
        .addKeyValue("database", config.url())
        .addKeyValue("store", config.store())
        .log("joined the cluster");
  }

  String replica() {
    return config.replica();
  }

  /** Whether the database answered the last check. */
  boolean available() {
    return available;
  }

  /** One look at the database: an outage begins or ends; the metrics follow the cluster. */
  void check() {
    try {
      boolean up = db.ping();
      if (!up && !available) {
        // Still down: a reconcile that ended meanwhile must not make this replica look ready.
        controller.clusterUnavailable(
            "the cluster database "
                + config.url()
                + " does not answer since "
                + unavailableSince.map(Object::toString).orElse("?")
                + ": nothing is reconciled or published until it does (the last good repository"
                + " stays current)");
      } else if (!up && available) {
        available = false;
        unavailableSince = Optional.of(clock.instant());
        metrics.clusterDatabaseUp.set(0);
        String message =
            "the cluster database "
                + config.url()
                + " does not answer: nothing is reconciled or published until it does (the last"
                + " good repository stays current); checked every "
                + config.checkin().toSeconds()
                + "s";
        LOG.atWarn().addKeyValue("reason", Reason.ClusterUnavailable).log(message);
        controller.clusterUnavailable(message);
      } else if (up && !available) {
        available = true;
        unavailableSince = Optional.empty();
        metrics.clusterDatabaseUp.set(1);
        LOG.info("the cluster database answers again");
        controller.clusterAvailable();
      }
      if (up) {
        lastShared = db.status();
        followSuspension(db, controller);
        updateMetrics();
        if (Duration.between(pruned, clock.instant()).toHours() >= 1) {
          pruned = clock.instant();
          db.prune(KEEP_JOBS);
        }
      }
    } catch (SQLException | RuntimeException e) {
      LOG.debug("cluster check: {}", e.getMessage());
    }
  }

  /** Takes on the cluster's suspension, if another replica changed it. */
  private static void followSuspension(ClusterDatabase db, CatalogController controller) {
    try {
      Optional<Boolean> s = db.suspended();
      if (s.isPresent()) {
        controller.follow(s.get());
      }
    } catch (SQLException | IOException e) {
      LOG.warn("cannot follow the cluster's suspension: {}", e.getMessage());
    }
  }

  /** Brings the cluster gauges up to date (before /metrics is written, and every check-in). */
  void updateMetrics() {
    if (!available) {
      return;
    }
    try {
      for (Map.Entry<String, Long> e : db.jobCounts().entrySet()) {
        metrics.clusterJobs.labelValues(e.getKey()).set(e.getValue());
      }
      for (ClusterDatabase.Replica r : db.replicas(ClusterScheduler.CONTROL)) {
        metrics.clusterReplicaJobs.labelValues(r.id(), "running").set(r.running());
        metrics.clusterReplicaJobs.labelValues(r.id(), "recovered").set(r.recovered());
        metrics.clusterReplicaCheckin.labelValues(r.id()).set(r.lastCheckin().getEpochSecond());
      }
    } catch (SQLException e) {
      LOG.debug("cluster metrics: {}", e.getMessage());
    }
  }

  /** Records the status of the reconcile this replica just ran, for every replica's /status. */
  private void recordStatus() {
    if (!available) {
      return;
    }
    try {
      db.saveStatus(MAPPER.writeValueAsString(HttpApi.StatusJson.write(controller.status())));
    } catch (SQLException | RuntimeException e) {
      LOG.warn("cannot record the status in the cluster database: {}", e.getMessage());
    }
  }

  /**
   * The cluster's /status: the status of the last reconcile any replica ran (this replica's own
   * when the database cannot tell), and the cluster: replicas, farm jobs, the database.
   */
  ObjectNode status(CatalogController.Status local) {
    ObjectNode root = HttpApi.StatusJson.write(local);
    ObjectNode cluster = MAPPER.createObjectNode();
    cluster.put("replica", config.replica());
    ObjectNode database = cluster.putObject("database");
    database.put("available", available);
    database.put("unavailableSince", unavailableSince.map(Object::toString).orElse(null));
    cluster.put("nextPollTime", scheduler.nextPoll().map(Object::toString).orElse(null));
    Optional<ClusterDatabase.StoredStatus> stored = lastShared;
    if (available) {
      try {
        stored = db.status();
        lastShared = stored;
      } catch (SQLException | RuntimeException e) {
        database.put("error", e.getMessage());
      }
    }
    if (stored.isPresent()) {
      JsonNode shared = MAPPER.readTree(stored.get().json());
      if (shared instanceof ObjectNode o) {
        // The suspension is the cluster's, followed here every check-in; while the database
        // does not answer, the conditions are this replica's (they say so).
        o.put("suspended", local.suspended());
        if (!available) {
          o.set("conditions", root.get("conditions"));
        }
        root = o;
      }
      cluster.put("reconciledBy", stored.get().replica());
      cluster.put("recordedAt", stored.get().at().toString());
    }
    if (available) {
      try {
        ArrayNode replicas = cluster.putArray("replicas");
        Instant now = clock.instant();
        for (ClusterDatabase.Replica r : db.replicas(ClusterScheduler.CONTROL)) {
          ObjectNode n = replicas.addObject();
          n.put("id", r.id());
          n.put("lastCheckinTime", r.lastCheckin().toString());
          n.put("checkinIntervalSeconds", r.checkinInterval().toSeconds());
          // Alive as Quartz sees it: a replica silent for longer has its jobs recovered.
          n.put(
              "alive",
              Duration.between(r.lastCheckin(), now).toMillis()
                  <= ClusteredJobStore.failedIfAfter(
                          0, r.checkinInterval().toMillis(), r.checkinInterval().toMillis())
                      + 1_000);
          n.put("jobsRunning", r.running());
          n.put("jobsRecovered", r.recovered());
        }
        ObjectNode jobs = cluster.putObject("jobs");
        db.jobCounts().forEach(jobs::put);
      } catch (SQLException | RuntimeException e) {
        database.put("error", e.getMessage());
      }
    }
    root.set("cluster", cluster);
    return root;
  }

  /** The replicas, for tests. */
  List<ClusterDatabase.Replica> replicas() throws SQLException {
    return db.replicas(ClusterScheduler.CONTROL);
  }

  /** Takes no new jobs, still checking in. */
  void standby() {
    scheduler.standby();
  }

  @Override
  public void close() {
    monitor.shutdownNow();
    scheduler.close();
  }

  /** Closes the database's pool: after the controller has stopped (a publish may hold its lock). */
  void closeDatabase() {
    db.close();
  }
}
