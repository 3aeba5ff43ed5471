package org.klpcatalog.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import tools.jackson.databind.ObjectMapper;

/**
 * {@code klp-catalog suspend} and {@code resume}: stop and restart a running service's reconciling.
 */
final class SuspendCommand {
  private SuspendCommand() {}

  static int post(Terminal t, ServerClient client, String path) {
    String server = client.server != null ? client.server : ServerClient.DEFAULT_SERVER;
    try {
      server = client.server();
      ServerClient.Answer a = client.call("POST", path);
      String text;
      try {
        var node = new ObjectMapper().readTree(a.body());
        text = node.has("error") ? node.path("error").asString() : node.path("message").asString();
      } catch (RuntimeException e) {
        text = a.body().strip();
      }
      if (a.status() != 200) {
        t.err()
            .println(
                "klp-catalog: " + Terminal.safe(server) + " refused: " + Terminal.safeLines(text));
        if (a.status() == 401) {
          t.err()
              .println(
                  "klp-catalog: pass --config with the service's configuration (or --token-file) so"
                      + " the admin token can be found");
          return ExitCodes.INVALID;
        }
        return ExitCodes.UNAVAILABLE;
      }
      t.out().println(Terminal.safeLines(text));
      return ExitCodes.OK;
    } catch (ServerClient.Problem p) {
      p.lines.forEach(l -> t.err().println("klp-catalog: " + Terminal.safe(l)));
      return p.exitCode;
    } catch (IOException e) {
      t.err().println("klp-catalog: cannot reach " + Terminal.safe(server) + ": " + e.getMessage());
      return ExitCodes.UNAVAILABLE;
    }
  }

  @Command(
      name = "suspend",
      mixinStandardHelpOptions = true,
      description = {
        "Suspend a running service: it stops reconciling (polls, webhooks and retries do nothing)"
            + " until resumed; the repository stays as it is. Remembered across restarts."
      })
  static final class Suspend implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ServerClient client;

    @Override
    public Integer call() {
      return post(Terminal.of(spec), client, "/suspend");
    }
  }

  @Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description = {
        "Resume a suspended service: it reconciles the branch's newest commit at once."
      })
  static final class Resume implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ServerClient client;

    @Override
    public Integer call() {
      return post(Terminal.of(spec), client, "/resume");
    }
  }
}
