package org.klpcatalog.service;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.StdSchedulerFactory;

/**
 * Quartz schedules the service's timed work: the poll, every {@code source.interval} moved by up to
 * {@code source.jitter} (each poll schedules the next, so the jitter differs every time), and
 * one-shot retries after errors. Jobs only trigger the controller, which runs reconciles on its own
 * thread, so Quartz's threads never block. The job store is Quartz's in-memory one.
 */
public final class PollScheduler implements AutoCloseable {
  private static final JobKey POLL = JobKey.jobKey("poll", "klp-catalog");
  private static final JobKey RETRY = JobKey.jobKey("retry", "klp-catalog");
  private static final TriggerKey RETRY_TRIGGER = TriggerKey.triggerKey("retry", "klp-catalog");

  private final Scheduler scheduler;
  private final Duration interval;
  private final Duration jitter;
  private final DoubleSupplier random;
  private final AtomicLong polls = new AtomicLong();
  private volatile TriggerKey nextPollKey;

  public PollScheduler(
      CatalogController controller, Duration interval, Duration jitter, DoubleSupplier random)
      throws SchedulerException {
    this.interval = interval;
    this.jitter = jitter;
    this.random = random;
    Properties p = new Properties();
    p.setProperty("org.quartz.scheduler.instanceName", "klp-catalog");
    p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
    p.setProperty("org.quartz.threadPool.threadCount", "1");
    p.setProperty("org.quartz.threadPool.threadNamePrefix", "quartz");
    p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
    p.setProperty("org.quartz.jobStore.misfireThreshold", "60000");
    StdSchedulerFactory factory = new StdSchedulerFactory(p);
    this.scheduler = factory.getScheduler();
    Job poll =
        context -> {
          controller.trigger("poll");
          next();
        };
    Job retry = context -> controller.trigger("retry");
    Map<JobKey, Job> jobs = Map.of(POLL, poll, RETRY, retry);
    scheduler.setJobFactory((bundle, s) -> jobs.get(bundle.getJobDetail().getKey()));
    scheduler.addJob(JobBuilder.newJob(Job.class).withIdentity(POLL).storeDurably().build(), false);
    scheduler.addJob(
        JobBuilder.newJob(Job.class).withIdentity(RETRY).storeDurably().build(), false);
    controller.retryScheduler(this::retryIn);
  }

  /** Starts: the first poll fires at once. */
  public void start() throws SchedulerException {
    nextPollKey = TriggerKey.triggerKey("poll-0", "klp-catalog");
    scheduler.scheduleJob(oneShot(POLL, nextPollKey, new Date()));
    scheduler.start();
  }

  private void next() {
    // A new trigger each time: the one firing now is Quartz's to delete once the job returns.
    Duration wait = Backoff.poll(interval, jitter, random.getAsDouble());
    TriggerKey key = TriggerKey.triggerKey("poll-" + polls.incrementAndGet(), "klp-catalog");
    try {
      scheduler.scheduleJob(
          oneShot(POLL, key, new Date(System.currentTimeMillis() + wait.toMillis())));
      nextPollKey = key;
    } catch (SchedulerException e) {
      throw new IllegalStateException("cannot schedule the next poll: " + e.getMessage(), e);
    }
  }

  /** Schedules a retry after {@code delay}, replacing one already scheduled. */
  public void retryIn(Duration delay) {
    reschedule(RETRY, RETRY_TRIGGER, delay);
  }

  private void reschedule(JobKey job, TriggerKey key, Duration wait) {
    try {
      Trigger t = oneShot(job, key, new Date(System.currentTimeMillis() + wait.toMillis()));
      if (scheduler.checkExists(key)) {
        scheduler.rescheduleJob(key, t);
      } else {
        scheduler.scheduleJob(t);
      }
    } catch (SchedulerException e) {
      throw new IllegalStateException(
          "cannot schedule " + job.getName() + ": " + e.getMessage(), e);
    }
  }

  private static Trigger oneShot(JobKey job, TriggerKey key, Date at) {
    return TriggerBuilder.newTrigger()
        .withIdentity(key)
        .forJob(job)
        .startAt(at)
        .withSchedule(
            SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow())
        .build();
  }

  /** When the next poll fires, if one is scheduled. */
  public Optional<Instant> nextPoll() {
    try {
      TriggerKey key = nextPollKey;
      Trigger t = key == null ? null : scheduler.getTrigger(key);
      return t == null || t.getNextFireTime() == null
          ? Optional.empty()
          : Optional.of(t.getNextFireTime().toInstant());
    } catch (SchedulerException e) {
      return Optional.empty();
    }
  }

  @Override
  public void close() throws SchedulerException {
    scheduler.shutdown(true);
  }
}
