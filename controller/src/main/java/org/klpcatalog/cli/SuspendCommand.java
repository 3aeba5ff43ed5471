package org.klpcatalog.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import tools.jackson.databind.ObjectMapper;

/** {@code klp-catalog suspend} and {@code resume}: stop and restart a running service's reconciling. */
final class SuspendCommand {
  private SuspendCommand() {}

  static int post(Terminal t, ServerClient client, String path) {
    try {
      ServerClient.Answer a = client.call("POST", path);
      String text;
      try {
        var node = new ObjectMapper().readTree(a.body());
        text = node.has("error") ? node.path("error").asString() : node.path("message").asString();
      } catch (RuntimeException e) {
        text = a.body().strip();
      }
      if (a.status() != 200) {
        t.err().println("klp-catalog: " + client.server + " refused: " + Terminal.safeLines(text));
        return ReconcileCommand.ERROR;
      }
      t.out().println(Terminal.safeLines(text));
      return ExitCodes.OK;
    } catch (IOException e) {
      t.err().println("klp-catalog: cannot reach " + client.server + ": " + e.getMessage());
      return ReconcileCommand.ERROR;
    }
  }

  @Command(name = "suspend", mixinStandardHelpOptions = true,
      description = {"Suspend a running service: it stops reconciling (polls, webhooks and retries do nothing)"
          + " until resumed; the repository stays as it is. Remembered across restarts."},
      footerHeading = "%nExit codes:%n", footer = {"  0  suspended", "  3  the service refused or cannot be reached"})
  static final class Suspend implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;
    @Mixin ServerClient client;

    @Override
    public Integer call() {
      return post(Terminal.of(spec), client, "/suspend");
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true,
      description = {"Resume a suspended service: it reconciles the branch's newest commit at once."},
      footerHeading = "%nExit codes:%n", footer = {"  0  resumed", "  3  the service refused or cannot be reached"})
  static final class Resume implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;
    @Mixin ServerClient client;

    @Override
    public Integer call() {
      return post(Terminal.of(spec), client, "/resume");
    }
  }
}
