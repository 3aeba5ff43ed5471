package org.klpcatalog.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.klpcatalog.catalog.diag.Printable;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Where a command writes: standard output and error, and whether to colour them (a terminal, and
 * NO_COLOR unset). Catalog text is printed as data, never interpreted as markup.
 */
public final class Terminal {
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean colour;

  public Terminal(PrintWriter out, PrintWriter err, boolean colour) {
    this.out = out;
    this.err = err;
    this.colour = colour;
  }

  /** The process's own streams; colour when stdout is a terminal and NO_COLOR is not set. */
  public static Terminal system() {
    boolean tty =
        System.console() != null
            && System.getenv("NO_COLOR") == null
            && !"dumb".equals(System.getenv("TERM"));
    return new Terminal(
        new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true),
        new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true),
        tty);
  }

  /**
   * The streams picocli gives a command (the process's, or a test's), colouring only when they are
   * the process's own and it runs on a terminal.
   */
  static Terminal of(CommandSpec spec) {
    return new Terminal(spec.commandLine().getOut(), spec.commandLine().getErr(), Main.colour());
  }

  public PrintWriter out() {
    return out;
  }

  public PrintWriter err() {
    return err;
  }

  public boolean colour() {
    return colour;
  }

  public String red(String s) {
    return paint("1;31", s);
  }

  public String yellow(String s) {
    return paint("1;33", s);
  }

  public String green(String s) {
    return paint("1;32", s);
  }

  public String bold(String s) {
    return paint("1", s);
  }

  public String dim(String s) {
    return paint("2", s);
  }

  private String paint(String code, String s) {
    return colour ? "\u001b[" + code + "m" + s + "\u001b[0m" : s;
  }

  /**
   * Makes untrusted text safe to print on one line: control characters, line breaks included, and
   * invisible formatting characters become visible escapes ({@link Printable#line}).
   */
  public static String safe(String s) {
    return Printable.line(s);
  }

  /**
   * Makes text of several lines safe to print: each line as {@link #safe}, the line breaks kept
   * (for text klp-catalog composed, such as a plan or an error quoting a tool's output).
   */
  public static String safeLines(String s) {
    return Printable.lines(s);
  }
}
