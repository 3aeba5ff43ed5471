package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.log.LogSetup;
import org.klpcatalog.service.ConfigException;
import org.klpcatalog.service.ConfigReader;
import org.klpcatalog.service.Service;
import org.klpcatalog.service.ServiceConfig;
import org.quartz.SchedulerException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code klp-catalog serve}: the controller service. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run the controller: follow one branch of a Git catalog, and on each new commit plan, build,"
          + " sign and publish the yum repository. Polls on a schedule, takes webhooks, reports"
          + " /status, /healthz and /metrics over HTTP, and posts pull-request checks to the"
          + " forge.",
      "Stops gracefully on SIGTERM: a running build is interrupted, a running publish finishes.",
      "The configuration's keys are documented in docs/configuration.md."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-c", "--config"},
      required = true,
      paramLabel = "FILE",
      description = "The configuration file.")
  Path config;

  @Option(names = "--check-config", description = "Check the configuration and exit.")
  boolean checkOnly;

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    ServiceConfig c;
    try {
      c = ConfigReader.read(config);
    } catch (ConfigException e) {
      for (String p : e.problems()) {
        t.err().println(Terminal.safe(p));
      }
      t.err()
          .println(
              "klp-catalog: the configuration is invalid ("
                  + e.problems().size()
                  + " problem(s)); its keys are documented in docs/configuration.md");
      return ExitCodes.INVALID;
    }
    if (checkOnly) {
      t.out()
          .println(
              config
                  + ": the configuration is good (branch "
                  + c.source().branch()
                  + " of "
                  + Terminal.safe(c.source().url())
                  + " -> "
                  + c.repository().path()
                  + ")");
      return ExitCodes.OK;
    }
    LogSetup.service(c.log().format(), c.log().level());
    Service service;
    try {
      service = Service.start(c);
    } catch (IOException | SchedulerException | Sandbox.UnavailableException e) {
      t.err()
          .println(
              "klp-catalog: cannot start the service: "
                  + Terminal.safeLines(String.valueOf(e.getMessage())));
      return ExitCodes.UNAVAILABLE;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    service.close();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } finally {
                    stopped.countDown();
                  }
                },
                "shutdown"));
    stopped.await();
    return ExitCodes.OK;
  }
}
