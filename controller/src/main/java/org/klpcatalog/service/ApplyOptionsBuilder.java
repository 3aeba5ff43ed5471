package org.klpcatalog.service;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.qa.GuestScript;
import org.klpcatalog.qa.KallsymsSource;
import org.klpcatalog.qa.QaGate;
import org.klpcatalog.qa.QaRunner;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.rpm.Signer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds what the service's reconcile builds and publishes with from its configuration: the build
 * and publish options of a commit (its build date given), and the QA gate, whose progress goes to
 * the log.
 */
final class ApplyOptionsBuilder {
  // QA progress is part of the reconcile's log.
  private static final Logger LOG = LoggerFactory.getLogger(CatalogController.class);

  private final ServiceConfig config;
  private final Optional<Signer> signer;
  private final Sandbox sandbox;

  ApplyOptionsBuilder(ServiceConfig config, Optional<Signer> signer, Sandbox sandbox) {
    this.config = config;
    this.signer = signer;
    this.sandbox = sandbox;
  }

  /** The options of a reconcile whose packages carry {@code sourceDateEpoch} as build date. */
  Reconciler.ApplyOptions build(long sourceDateEpoch) {
    ServiceConfig.Build build = config.build();
    ServiceConfig.Repository repository = config.repository();
    PackageBuild.Options options =
        new PackageBuild.Options(
            Publisher.stagingDir(repository.path()),
            build.cache(),
            build.jobs(),
            build.timeout(),
            signer,
            Map.of(),
            Set.of(),
            sourceDateEpoch,
            sandbox,
            config.kernels(),
            new KallsymsSource(build.cache()),
            build.sourceChecks());
    if (config.cluster().isPresent()) {
      // Modules go to the store every replica shares: the farm's builds land where this finds them.
      options = options.withBuildStore(config.cluster().get().store());
    }
    return new Reconciler.ApplyOptions(
        options,
        new Publisher.Options(
            repository.keep(), repository.baseUrl(), signer, sourceDateEpoch, build.timeout()),
        repository.lockWait(),
        qaGate());
  }

  /** The QA gate as configured. */
  private Optional<QaGate> qaGate() {
    ServiceConfig.Qa qa = config.qa();
    if (!qa.enabled()) {
      return Optional.empty();
    }
    QaRunner.Options options =
        new QaRunner.Options(
            Publisher.stagingDir(config.repository().path()).resolve("qa"),
            config.build().cache(),
            List.of(),
            qa.vms(),
            qa.vmMemory(),
            qa.accel(),
            qa.vmTimeout(),
            GuestScript.Limits.withTestSeconds((int) qa.testTimeout().toSeconds()),
            config.kernels());
    return Optional.of(new QaGate(options, new LoggingListener()));
  }

  /** QA progress to the log. */
  private static final class LoggingListener implements QaRunner.Listener {
    @Override
    public void note(String message) {
      LOG.info("qa: {}", message);
    }

    @Override
    public void finished(QaRunner.JobResult r, int done, int total) {
      LOG.atInfo()
          .addKeyValue("subject", r.job().subject())
          .addKeyValue("kernel", r.job().kernel())
          .addKeyValue("passed", r.passed())
          .addKeyValue("seconds", Math.round(r.seconds() * 10) / 10.0)
          .addKeyValue("failedStep", r.passed() ? "" : r.failed().get(0).step().label)
          .log("qa run {}/{} finished", done, total);
    }
  }
}
