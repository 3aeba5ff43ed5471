package org.klpcatalog.cli;

import java.util.Optional;

/**
 * Ends a command early with one of {@link ExitCodes}: {@link Main} prints the message, if any, as
 * {@code klp-catalog: MESSAGE} and exits with the code. For problems the user can act on (invalid
 * input, a missing tool); what the command already printed stays printed.
 */
final class CommandStop extends Exception {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  /** Stops after the command printed why itself. */
  CommandStop(int exitCode) {
    super(null, null, false, false);
    this.exitCode = exitCode;
  }

  /** Stops with a message for the user (already made safe for a terminal). */
  CommandStop(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }

  Optional<String> message() {
    return Optional.ofNullable(getMessage());
  }
}
