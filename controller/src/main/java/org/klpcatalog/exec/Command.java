package org.klpcatalog.exec;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external program with an argument list (never a shell, so no catalog text is ever
 * interpreted by one), a working directory, an environment, a timeout and its output captured to a
 * log file. The program must be declared in the {@link ToolRegistry}; steps that touch catalog
 * content are wrapped by a {@link Sandbox}.
 */
public final class Command {
  private final List<String> argv;
  private Path directory;
  private final Map<String, String> env = new TreeMap<>();
  private Duration timeout = Duration.ofMinutes(10);
  private Path log;

  private Command(List<String> argv) {
    ToolRegistry.checkDeclared(argv.get(0));
    this.argv = List.copyOf(argv);
  }

  public static Command of(String... argv) {
    return new Command(List.of(argv));
  }

  public static Command of(List<String> argv) {
    return new Command(argv);
  }

  public Command in(Path dir) {
    this.directory = dir;
    return this;
  }

  public Command env(String key, String value) {
    env.put(key, value);
    return this;
  }

  public Command timeout(Duration t) {
    this.timeout = t;
    return this;
  }

  /** Appends the program's output (stdout and stderr merged) to this file. */
  public Command log(Path file) {
    this.log = file;
    return this;
  }

  public List<String> argv() {
    return argv;
  }

  /** The outcome: exit status (-1 when killed by the timeout) and the output. */
  public record Result(int exitCode, String output, boolean timedOut) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }
  }

  public Result run() throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(argv)).redirectErrorStream(true);
    if (directory != null) {
      pb.directory(directory.toFile());
    }
    pb.environment().putAll(env);
    Path out = log != null ? log : Files.createTempFile("klp-cmd", ".log");
    Files.createDirectories(out.toAbsolutePath().getParent());
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
    long before = Files.exists(out) ? Files.size(out) : 0;
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException(argv.get(0) + " could not be started: " + e.getMessage(), e);
    }
    boolean done;
    try {
      done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      // Stopping (a service shutting down): the program and its children go too.
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      if (log == null) {
        Files.deleteIfExists(out);
      }
      throw e;
    }
    if (!done) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor();
    }
    String text = readTail(out, before);
    if (log == null) {
      Files.deleteIfExists(out);
    }
    return new Result(done ? p.exitValue() : -1, text, !done);
  }

  /** At most this much of a program's output is kept in memory; the log file keeps it all. */
  static final int OUTPUT_LIMIT = 8 << 20;

  /**
   * What the program wrote to {@code file} after {@code from}: all of it, or its last {@link
   * #OUTPUT_LIMIT} bytes after a line saying how much was left out (a build's output is the
   * contributor's to make large).
   */
  static String readTail(Path file, long from) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long size = f.length();
      long start = Math.max(from, size - OUTPUT_LIMIT);
      byte[] buf = new byte[(int) Math.max(0, size - start)];
      f.seek(start);
      f.readFully(buf);
      String text = new String(buf, StandardCharsets.UTF_8);
      return start > from
          ? "[" + (start - from) + " bytes of output not shown; the log has them]\n" + text
          : text;
    }
  }

  /** Runs and returns the output, or throws with the output when the program fails. */
  public String check() throws IOException, InterruptedException {
    Result r = run();
    if (!r.ok()) {
      throw new IOException(
          String.join(" ", argv)
              + (r.timedOut()
                  ? " timed out after " + timeout.toSeconds() + " s"
                  : " failed with status " + r.exitCode())
              + (r.output().isBlank() ? "" : ":\n" + tail(r.output(), 40)));
    }
    return r.output();
  }

  /** The last {@code lines} lines of a text. */
  public static String tail(String text, int lines) {
    String[] all = text.split("\n");
    int from = Math.max(0, all.length - lines);
    return String.join("\n", Arrays.copyOfRange(all, from, all.length));
  }

  /** Whether a program is on the PATH. */
  public static Optional<Path> which(String program) {
    if (program.startsWith("/")) {
      // A program the registry names by its path: one that must be that file (the sandbox sees
      // only /usr), whatever else the PATH holds.
      return Files.isExecutable(Path.of(program))
          ? Optional.of(Path.of(program))
          : Optional.empty();
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir, program);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
