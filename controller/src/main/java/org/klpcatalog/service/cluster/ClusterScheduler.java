package org.klpcatalog.service.cluster;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Date;
import java.util.Properties;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDataMap;
import org.quartz.JobExecutionContext;
import org.quartz.JobExecutionException;
import org.quartz.JobKey;
import org.quartz.ObjectAlreadyExistsException;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.utils.ConnectionProvider;
import org.quartz.utils.DBConnectionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas' shared schedule: two Quartz schedulers in clustered mode on the cluster database.
 * The control scheduler ({@value #CONTROL}) holds one job, the reconcile, which Quartz runs on one
 * replica at a time cluster-wide ({@link DisallowConcurrentExecution}) whatever fires it: the poll
 * every {@code source.interval}, a webhook on any replica, a retry. The farm scheduler ({@value
 * #FARM}) runs module builds on whichever replica has a free thread (each replica has {@code
 * build.jobs} of them). Both kinds of job ask for recovery: when a replica stops checking in,
 * another runs its jobs again.
 */
public final class ClusterScheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterScheduler.class);

  public static final String CONTROL = "klp-catalog";
  public static final String FARM = "klp-catalog-farm";
  static final JobKey RECONCILE = JobKey.jobKey("reconcile", "control");
  static final TriggerKey POLL = TriggerKey.triggerKey("poll", "control");
  static final TriggerKey RETRY = TriggerKey.triggerKey("retry", "control");
  private static final String DATA_SOURCE = "klpCluster";

  /** Runs a reconcile on this replica and returns at its end. */
  @FunctionalInterface
  public interface Reconcile {
    void run(String why, boolean recovering) throws InterruptedException;
  }

  /** Builds one module on this replica: the modules of {@code pkg} for {@code kernel}. */
  @FunctionalInterface
  public interface ModuleJob {
    /** The job's outcome: empty when the module is in the store, else why not. */
    java.util.Optional<String> build(String revision, String pkg, String kernel) throws Exception;
  }

  private final Scheduler control;
  private final Scheduler farm;
  private final Duration interval;

  public ClusterScheduler(
      ClusterDatabase db,
      Duration checkin,
      Duration interval,
      int farmThreads,
      Reconcile reconcile,
      ModuleJob modules)
      throws SchedulerException {
    this.interval = interval;
    DBConnectionManager.getInstance()
        .addConnectionProvider(
            DATA_SOURCE,
            new ConnectionProvider() {
              @Override
              public java.sql.Connection getConnection() throws SQLException {
                return db.dataSource().getConnection();
              }

              @Override
              public void shutdown() {}

              @Override
              public void initialize() {}
            });
    this.control = scheduler(CONTROL, db.replica(), checkin, 2);
    this.farm = scheduler(FARM, db.replica(), checkin, farmThreads);
    control.setJobFactory((bundle, s) -> new ReconcileJob(reconcile));
    farm.setJobFactory((bundle, s) -> new BuildJob(db, modules));
  }

  private static Scheduler scheduler(String name, String replica, Duration checkin, int threads)
      throws SchedulerException {
    Properties p = new Properties();
    p.setProperty("org.quartz.scheduler.instanceName", name);
    p.setProperty("org.quartz.scheduler.instanceId", replica);
    p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
    // Triggers another replica schedules are seen within this long.
    p.setProperty(
        "org.quartz.scheduler.idleWaitTime",
        String.valueOf(Math.min(5_000, Math.max(1_000, checkin.toMillis() / 2))));
    p.setProperty("org.quartz.threadPool.threadCount", String.valueOf(threads));
    p.setProperty("org.quartz.threadPool.threadNamePrefix", name);
    // A job still waiting when the service stops (a reconcile, a build) never holds the JVM up.
    p.setProperty("org.quartz.threadPool.makeThreadsDaemons", "true");
    p.setProperty("org.quartz.jobStore.class", ClusteredJobStore.class.getName());
    p.setProperty(
        "org.quartz.jobStore.driverDelegateClass",
        "org.quartz.impl.jdbcjobstore.PostgreSQLDelegate");
    p.setProperty("org.quartz.jobStore.dataSource", DATA_SOURCE);
    p.setProperty("org.quartz.jobStore.tablePrefix", "QRTZ_");
    // Job data as strings, never serialised Java objects.
    p.setProperty("org.quartz.jobStore.useProperties", "true");
    p.setProperty("org.quartz.jobStore.isClustered", "true");
    p.setProperty("org.quartz.jobStore.clusterCheckinInterval", String.valueOf(checkin.toMillis()));
    p.setProperty("org.quartz.jobStore.misfireThreshold", "60000");
    p.setProperty("org.quartz.jobStore.acquireTriggersWithinLock", "true");
    p.setProperty("org.quartz.jobStore.dbRetryInterval", String.valueOf(checkin.toMillis()));
    return new StdSchedulerFactory(p).getScheduler();
  }

  /**
   * Joins the cluster: makes sure the reconcile job and the poll exist (the first replica creates
   * them, the poll's interval follows the newest configuration), and asks for a reconcile now.
   */
  public void start() throws SchedulerException {
    try {
      control.addJob(
          JobBuilder.newJob(ReconcileJob.class)
              .withIdentity(RECONCILE)
              .storeDurably()
              .requestRecovery()
              .build(),
          true);
    } catch (ObjectAlreadyExistsException e) {
      // Another replica added it meanwhile.
    }
    Trigger poll =
        TriggerBuilder.newTrigger()
            .withIdentity(POLL)
            .forJob(RECONCILE)
            .usingJobData("why", "poll")
            .startAt(new Date(System.currentTimeMillis() + interval.toMillis()))
            .withSchedule(
                SimpleScheduleBuilder.simpleSchedule()
                    .withIntervalInMilliseconds(interval.toMillis())
                    .repeatForever()
                    .withMisfireHandlingInstructionNextWithRemainingCount())
            .build();
    Trigger existing = control.getTrigger(POLL);
    if (existing == null) {
      try {
        control.scheduleJob(poll);
      } catch (ObjectAlreadyExistsException e) {
        // Another replica scheduled it meanwhile.
      }
    } else if (existing instanceof org.quartz.SimpleTrigger st
        && st.getRepeatInterval() != interval.toMillis()) {
      control.rescheduleJob(POLL, poll);
    }
    control.start();
    farm.start();
    triggerNow("start");
  }

  /** Asks for a reconcile on whichever replica takes it first (after the one running, if any). */
  public void triggerNow(String why) {
    try {
      control.scheduleJob(
          TriggerBuilder.newTrigger()
              .forJob(RECONCILE)
              .usingJobData("why", why)
              .startNow()
              .withSchedule(
                  SimpleScheduleBuilder.simpleSchedule()
                      .withMisfireHandlingInstructionIgnoreMisfires())
              .build());
    } catch (SchedulerException e) {
      LOG.warn("cannot ask the cluster for a reconcile ({}): {}", why, e.getMessage());
    }
  }

  /** Schedules the cluster's retry after {@code delay}, replacing one already scheduled. */
  public void retryIn(Duration delay) {
    try {
      Trigger t =
          TriggerBuilder.newTrigger()
              .withIdentity(RETRY)
              .forJob(RECONCILE)
              .usingJobData("why", "retry")
              .startAt(new Date(System.currentTimeMillis() + delay.toMillis()))
              .withSchedule(
                  // Picked up however long it waited (a misfired trigger would wait for Quartz's
                  // misfire pass, once a minute, before it could fire).
                  SimpleScheduleBuilder.simpleSchedule()
                      .withMisfireHandlingInstructionIgnoreMisfires())
              .build();
      if (control.checkExists(RETRY)) {
        control.rescheduleJob(RETRY, t);
      } else {
        control.scheduleJob(t);
      }
    } catch (SchedulerException e) {
      LOG.warn("cannot schedule the cluster's retry: {}", e.getMessage());
    }
  }

  /** When the cluster's next poll fires. */
  public java.util.Optional<java.time.Instant> nextPoll() {
    try {
      Trigger t = control.getTrigger(POLL);
      return t == null || t.getNextFireTime() == null
          ? java.util.Optional.empty()
          : java.util.Optional.of(t.getNextFireTime().toInstant());
    } catch (SchedulerException e) {
      return java.util.Optional.empty();
    }
  }

  /** Schedules a module build for any replica; {@code id} names it in the database too. */
  public void scheduleBuild(String id, String revision, String pkg, String kernel)
      throws SchedulerException {
    JobKey key = JobKey.jobKey(id, "build");
    farm.scheduleJob(
        JobBuilder.newJob(BuildJob.class)
            .withIdentity(key)
            .requestRecovery()
            .usingJobData("id", id)
            .usingJobData("revision", revision)
            .usingJobData("package", pkg)
            .usingJobData("kernel", kernel)
            .build(),
        TriggerBuilder.newTrigger()
            .withIdentity(TriggerKey.triggerKey(id, "build"))
            .startNow()
            .withSchedule(
                // Picked up however long it queued: a misfired trigger would wait for Quartz's
                // misfire pass (once a minute) before any replica could take it.
                SimpleScheduleBuilder.simpleSchedule()
                    .withMisfireHandlingInstructionIgnoreMisfires())
            .build());
  }

  /** Whether the farm still holds the job {@code id} (queued, or running somewhere). */
  public boolean holdsBuild(String id) throws SchedulerException {
    return farm.checkExists(JobKey.jobKey(id, "build"));
  }

  /** Takes no new jobs, while still checking in (so running jobs are not recovered elsewhere). */
  public void standby() {
    for (Scheduler s : new Scheduler[] {farm, control}) {
      try {
        s.standby();
      } catch (SchedulerException e) {
        LOG.warn("pausing {}: {}", s, e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    // Running jobs are not waited for: a reconcile ends with the controller, a build is recovered
    // by another replica.
    for (Scheduler s : new Scheduler[] {farm, control}) {
      try {
        s.shutdown(false);
      } catch (SchedulerException e) {
        LOG.warn("stopping {}: {}", s, e.getMessage());
      }
    }
  }

  /** The reconcile: one at a time in the whole cluster. */
  @DisallowConcurrentExecution
  public static final class ReconcileJob implements Job {
    private final Reconcile reconcile;

    public ReconcileJob() {
      this(
          (why, recovering) -> {
            throw new IllegalStateException("made without the cluster's job factory");
          });
    }

    ReconcileJob(Reconcile reconcile) {
      this.reconcile = reconcile;
    }

    @Override
    public void execute(JobExecutionContext context) throws JobExecutionException {
      String why = context.getMergedJobDataMap().getString("why");
      try {
        reconcile.run(why == null ? "poll" : why, context.isRecovering());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One module build of the farm; its outcome goes to the job's row. */
  public static final class BuildJob implements Job {
    private final ClusterDatabase db;
    private final ModuleJob modules;

    public BuildJob() {
      this(null, null);
    }

    BuildJob(ClusterDatabase db, ModuleJob modules) {
      this.db = db;
      this.modules = modules;
    }

    @Override
    public void execute(JobExecutionContext context) throws JobExecutionException {
      JobDataMap d = context.getMergedJobDataMap();
      String id = d.getString("id");
      try {
        db.started(id, context.isRecovering());
        if (context.isRecovering()) {
          LOG.atInfo()
              .addKeyValue("job", id)
              .log("recovering a module build whose replica stopped checking in");
        }
        java.util.Optional<String> failed;
        try {
          failed =
              modules.build(d.getString("revision"), d.getString("package"), d.getString("kernel"));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception | LinkageError e) {
          LOG.warn("module build job {} failed", id, e);
          failed = java.util.Optional.of(e.toString());
        }
        db.finished(id, failed.isEmpty(), failed.orElse(""));
      } catch (SQLException e) {
        // The database went away: Quartz recovers the job once this replica is seen as gone, and
        // the reconciling replica builds what the farm did not deliver.
        LOG.warn("module build job {}: the cluster database failed: {}", id, e.getMessage());
      }
    }
  }
}
