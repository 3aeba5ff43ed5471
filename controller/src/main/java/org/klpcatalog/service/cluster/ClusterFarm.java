package org.klpcatalog.service.cluster;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.klpcatalog.build.BuildCache;
import org.klpcatalog.build.Progress;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ModuleFile;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.revision.CatalogRevision;
import org.quartz.SchedulerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's module farm: turns the modules a reconcile must build into farm jobs (one per
 * package and kernel, named by revision, package and kernel, so a job another replica queued for
 * the same revision is waited on rather than queued twice), and waits until each has ended. Results
 * are in the shared store, where the reconcile's own build finds them. It gives up waiting when no
 * job has moved for {@code patience} (a farm with no live replica, say) or the database fails: the
 * reconcile then builds what is missing itself.
 */
public final class ClusterFarm implements Reconciler.ModuleFarm {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterFarm.class);

  private final ClusterDatabase db;
  private final ClusterScheduler scheduler;
  private final Duration patience;
  private final Duration pollEvery;

  public ClusterFarm(
      ClusterDatabase db, ClusterScheduler scheduler, Duration patience, Duration pollEvery) {
    this.db = db;
    this.scheduler = scheduler;
    this.patience = patience;
    this.pollEvery = pollEvery;
  }

  /** A job's id: readable, unique per revision, package and kernel, and short enough for Quartz. */
  static String jobId(String revision, String pkg, String kernel) {
    String id = "build:" + revision + ":" + pkg + ":" + kernel;
    return id.length() <= 190
        ? id
        : "build:" + revision + ":" + BuildCache.sha256(id.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void prebuild(CatalogRevision revision, List<DesiredPackage> packages, Progress progress)
      throws InterruptedException {
    if (revision.commit().isEmpty()) {
      return;
    }
    String rev = revision.commit().get();
    Map<String, String> jobs = new LinkedHashMap<>();
    try {
      for (DesiredPackage p : packages) {
        for (ModuleFile m : p.modules()) {
          String id = jobId(rev, p.name(), m.kernelRelease());
          String subject = p.name() + " " + m.kernelRelease();
          if (jobs.put(id, subject) != null) {
            continue;
          }
          if (db.queue(id, "build", subject, rev)) {
            scheduler.scheduleBuild(id, rev, p.name(), m.kernelRelease());
          } else {
            ClusterDatabase.JobRow row = db.jobs(List.of(id)).get(id);
            if (row != null && !row.ended() && !scheduler.holdsBuild(id)) {
              // Queued, but its Quartz job is gone (it never was scheduled): queue it again.
              db.requeue(id);
              scheduler.scheduleBuild(id, rev, p.name(), m.kernelRelease());
            }
          }
        }
      }
      LOG.atInfo()
          .addKeyValue("revision", rev)
          .addKeyValue("jobs", jobs.size())
          .log("module builds queued for the cluster");
      await(rev, jobs, progress);
    } catch (SQLException | SchedulerException e) {
      LOG.warn(
          "the cluster's farm failed ({}); this replica builds what is missing itself",
          ClusterDatabase.rootMessage(e));
    }
  }

  private void await(String rev, Map<String, String> jobs, Progress progress)
      throws SQLException, InterruptedException {
    String lastSeen = "";
    Instant moved = Instant.now();
    int total = jobs.size();
    while (true) {
      Map<String, ClusterDatabase.JobRow> rows = db.jobsOf(rev);
      List<String> open = new ArrayList<>();
      int failed = 0;
      StringBuilder seen = new StringBuilder();
      for (String id : jobs.keySet()) {
        ClusterDatabase.JobRow r = rows.get(id);
        String state = r == null ? "gone" : r.state() + "@" + r.replica().orElse("") + r.attempts();
        seen.append(state).append(';');
        if (r == null || r.ended()) {
          failed += r != null && r.state().equals("failed") ? 1 : 0;
        } else {
          open.add(id);
        }
      }
      int done = total - open.size();
      if (!seen.toString().equals(lastSeen)) {
        lastSeen = seen.toString();
        moved = Instant.now();
        progress.update(
            done, total, "cluster module builds", failed == 0 ? "ok" : failed + " failed");
      }
      if (open.isEmpty()) {
        LOG.atInfo()
            .addKeyValue("jobs", total)
            .addKeyValue("failed", failed)
            .log("the cluster's module builds ended");
        return;
      }
      if (Duration.between(moved, Instant.now()).compareTo(patience) > 0) {
        LOG.atWarn()
            .addKeyValue("open", open.size())
            .log(
                "no cluster module build moved for {}s; this replica builds what is missing itself",
                patience.toSeconds());
        return;
      }
      Thread.sleep(pollEvery.toMillis());
    }
  }
}
