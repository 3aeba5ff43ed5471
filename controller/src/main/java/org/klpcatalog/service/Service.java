package org.klpcatalog.service;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.DoubleSupplier;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.service.forge.ForgeClient;
import org.klpcatalog.service.webhook.WebhookReceiver;
import org.quartz.SchedulerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running service: the controller, its Quartz schedule and its HTTP endpoints, made from a
 * configuration. {@link #close()} stops them in order: no new requests, no new polls, then the
 * controller (a running publish finishes).
 */
public final class Service implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Service.class);

  private final ServiceConfig config;
  private final CatalogController controller;
  private final Optional<PollScheduler> scheduler;
  private final Optional<ClusterNode> cluster;
  private final HttpApi http;

  private Service(
      ServiceConfig config,
      CatalogController controller,
      Optional<PollScheduler> scheduler,
      Optional<ClusterNode> cluster,
      HttpApi http) {
    this.config = config;
    this.controller = controller;
    this.scheduler = scheduler;
    this.cluster = cluster;
    this.http = http;
  }

  /** Starts a service: listening, and polling at once (unless suspended). */
  public static Service start(ServiceConfig config)
      throws IOException, InterruptedException, SchedulerException, Sandbox.UnavailableException {
    AdminToken admin = AdminToken.of(config);
    if (admin.generated()) {
      LOG.atWarn()
          .addKeyValue("adminTokenFile", admin.file())
          .log(
              "no server.adminTokenFile: generated an admin"
                  + " token in "
                  + admin.file()
                  + " (readable by this user only); POST /suspend and /resume need it"
                  + " (klp-catalog suspend --config <this configuration> reads it from there)");
    }
    Optional<Signer> signer = signer(config);
    Sandbox sandbox = config.build().newSandbox();
    if (sandbox.confined()) {
      sandbox.probe();
    } else {
      LOG.warn(
          "build.sandbox is false: catalog content is compiled and packaged WITHOUT the sandbox; a"
              + " pull request can read this machine's files (keys included) into what is signed");
    }
    ServiceMetrics metrics = new ServiceMetrics();
    Optional<ForgeClient> forge = config.forge().map(ForgeClient::new);
    SecureRandom rnd = new SecureRandom();
    DoubleSupplier random = rnd::nextDouble;
    CatalogController controller =
        new CatalogController(config, signer, sandbox, forge, metrics, Clock.systemUTC(), random);
    Map<String, String> secrets = new LinkedHashMap<>();
    config.webhooks().githubSecret().ifPresent(s -> secrets.put("github", s));
    config.webhooks().giteaSecret().ifPresent(s -> secrets.put("gitea", s));
    config.webhooks().gitlabToken().ifPresent(s -> secrets.put("gitlab", s));
    HttpApi http =
        new HttpApi(
            config, controller, metrics, new WebhookReceiver(secrets, Clock.systemUTC()), admin);
    // One process with its jobs in memory, or a replica of a cluster sharing them in PostgreSQL.
    Optional<PollScheduler> scheduler = Optional.empty();
    Optional<ClusterNode> cluster = Optional.empty();
    if (config.cluster().isPresent()) {
      ClusterNode node = ClusterNode.join(config, controller, metrics, Clock.systemUTC());
      http.inCluster(node::status, node::updateMetrics);
      cluster = Optional.of(node);
    } else {
      scheduler =
          Optional.of(
              new PollScheduler(
                  controller, config.source().interval(), config.source().jitter(), random));
    }
    http.start();
    if (cluster.isPresent()) {
      cluster.get().start();
    } else {
      scheduler.get().start();
    }
    LOG.atInfo()
        .addKeyValue("source", HttpApi.StatusJson.redact(config.source().url()))
        .addKeyValue("branch", config.source().branch())
        .addKeyValue("repository", config.repository().path())
        .addKeyValue("listen", config.server().host() + ":" + http.port())
        .addKeyValue("adminTokenFile", admin.file())
        .addKeyValue("suspended", controller.suspended())
        .addKeyValue("replica", cluster.map(ClusterNode::replica).orElse(""))
        .log("serving");
    return new Service(config, controller, scheduler, cluster, http);
  }

  /**
   * The signer the configuration asks for; a throwaway key beside the repository when none is
   * named.
   */
  static Optional<Signer> signer(ServiceConfig config) throws IOException, InterruptedException {
    if (config.signing().unsigned()) {
      LOG.warn("signing.unsigned: packages and metadata are NOT signed");
      return Optional.empty();
    }
    if (config.signing().keyId().isPresent()) {
      return Optional.of(
          Signer.configured(config.signing().gnupgHome(), config.signing().keyId().get()));
    }
    Path repo = config.repository().path().toAbsolutePath().normalize();
    Path dir = repo.resolveSibling(repo.getFileName() + ".signing-key");
    LOG.warn(
        "no signing.keyId: signing with a throwaway key kept in {}; it is NOT a production key",
        dir);
    return Optional.of(Signer.throwaway(dir));
  }

  public CatalogController controller() {
    return controller;
  }

  public int port() {
    return http.port();
  }

  @Override
  public void close() throws InterruptedException {
    LOG.info("stopping");
    http.close();
    try {
      if (scheduler.isPresent()) {
        scheduler.get().close();
      }
    } catch (SchedulerException e) {
      LOG.warn("stopping the scheduler: {}", e.getMessage());
    }
    // A replica keeps checking in while its reconcile stops (its jobs are not recovered elsewhere
    // meanwhile), takes no new jobs, then leaves the cluster.
    cluster.ifPresent(ClusterNode::standby);
    controller.close();
    cluster.ifPresent(ClusterNode::close);
    cluster.ifPresent(ClusterNode::closeDatabase);
    LOG.info("stopped");
  }
}
