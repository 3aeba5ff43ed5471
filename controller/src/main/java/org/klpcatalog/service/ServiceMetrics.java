package org.klpcatalog.service;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;

/** The service's Prometheus metrics, in a registry of its own (documented in docs/serve.md). */
public final class ServiceMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();

  final Counter reconciles =
      Counter.builder()
          .name("klp_catalog_reconciles_total")
          .help("Reconciles of the followed branch, by result")
          .labelNames("result")
          .register(registry);
  final Histogram reconcileSeconds =
      Histogram.builder()
          .name("klp_catalog_reconcile_duration_seconds")
          .help("Duration of reconciles that planned a revision")
          .classicOnly()
          .classicUpperBounds(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
          .register(registry);
  final Counter fetches =
      Counter.builder()
          .name("klp_catalog_fetches_total")
          .help("Fetches of the followed branch (polls, webhooks, retries)")
          .register(registry);
  final Counter modules =
      Counter.builder()
          .name("klp_catalog_module_builds_total")
          .help("Module builds, by result (built, cached, failed)")
          .labelNames("result")
          .register(registry);
  final Histogram buildSeconds =
      Histogram.builder()
          .name("klp_catalog_build_duration_seconds")
          .help("Duration of the build step of reconciles that built something")
          .classicOnly()
          .classicUpperBounds(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
          .register(registry);
  final Histogram publishSeconds =
      Histogram.builder()
          .name("klp_catalog_publish_duration_seconds")
          .help("Duration of the publish step (links, metadata, signatures, checks, the switch)")
          .classicOnly()
          .classicUpperBounds(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
          .register(registry);
  final Counter packagesPublished =
      Counter.builder()
          .name("klp_catalog_packages_published_total")
          .help("Packages published new or rebuilt")
          .register(registry);
  final Gauge lastSuccess =
      Gauge.builder()
          .name("klp_catalog_last_success_timestamp_seconds")
          .help("When a reconcile last ended published or in sync (Unix time)")
          .register(registry);
  final Gauge repositoryVersion =
      Gauge.builder()
          .name("klp_catalog_repository_version")
          .help("The repository's current version number")
          .register(registry);
  final Gauge ready =
      Gauge.builder()
          .name("klp_catalog_ready")
          .help("1 when the Ready condition is true")
          .register(registry);
  final Gauge stalled =
      Gauge.builder()
          .name("klp_catalog_stalled")
          .help("1 when the Stalled condition is true")
          .register(registry);
  final Gauge suspended =
      Gauge.builder()
          .name("klp_catalog_suspended")
          .help("1 while reconciling is suspended")
          .register(registry);
  final Counter webhooks =
      Counter.builder()
          .name("klp_catalog_webhooks_total")
          .help("Webhook deliveries, by provider and result")
          .labelNames("provider", "result")
          .register(registry);
  final Counter forgeRequests =
      Counter.builder()
          .name("klp_catalog_forge_requests_total")
          .help("Requests to the forge's API, by result")
          .labelNames("result")
          .register(registry);

  final Gauge clusterDatabaseUp =
      Gauge.builder()
          .name("klp_catalog_cluster_database_up")
          .help("In a cluster: 1 while the cluster database answers")
          .register(registry);
  final Gauge clusterJobs =
      Gauge.builder()
          .name("klp_catalog_cluster_jobs")
          .help("In a cluster: farm jobs by state (queued, running, done, failed), cluster-wide")
          .labelNames("state")
          .register(registry);
  final Gauge clusterReplicaJobs =
      Gauge.builder()
          .name("klp_catalog_cluster_replica_jobs")
          .help("In a cluster: farm jobs each replica runs now (running) and has recovered")
          .labelNames("replica", "state")
          .register(registry);
  final Gauge clusterReplicaCheckin =
      Gauge.builder()
          .name("klp_catalog_cluster_replica_last_checkin_timestamp_seconds")
          .help("In a cluster: each replica's last check-in (Unix time)")
          .labelNames("replica")
          .register(registry);

  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  /** Writes every metric in Prometheus's text format. */
  public void write(OutputStream out) throws IOException {
    writer.write(out, registry.scrape());
  }

  public String contentType() {
    return writer.getContentType();
  }
}
