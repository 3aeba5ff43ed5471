package org.klpcatalog.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, throwaway PostgreSQL server on 127.0.0.1 for integration tests: its own data directory
 * under a fresh temporary directory, a free port, and a database {@code klp} owned by a login role
 * {@code klp} with a random password (scram-sha-256 over TCP; the superuser {@code postgres} has
 * another random password the fixture keeps to itself).
 *
 * <p>PostgreSQL refuses to run as root, so when the tests run as root the server's programs run as
 * {@code nobody} (with setpriv), and the directory is handed to that user. A shutdown hook stops
 * the server and deletes its directory if a test never closes it. Where PostgreSQL is not
 * installed, the test is skipped (outside CI) or fails (CI=true); ci/test installs the Debian
 * package {@code postgresql}.
 */
public final class Postgres implements AutoCloseable {
  private static final String UNPRIVILEGED_USER = "nobody";
  private static final String MISSING =
      "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed: install the"
          + " Debian package postgresql (postgresql-server on Fedora/EL); ci/test installs it";

  private final Path bin;
  private final Optional<String> runAsGroup;
  private final Path base;
  private final int port;
  private final String password;
  private final Thread shutdownHook;
  private boolean running;

  private Postgres(Path bin, Optional<String> runAsGroup, Path base, int port, String password) {
    this.bin = bin;
    this.runAsGroup = runAsGroup;
    this.base = base;
    this.port = port;
    this.password = password;
    this.shutdownHook = new Thread(this::stopAndDelete, "postgres-stop " + base);
  }

  /**
   * Creates, starts and populates a new server: initdb, pg_ctl start (waiting until it accepts
   * connections), then the role and database {@code klp}.
   */
  public static Postgres start() throws IOException, InterruptedException {
    Path bin = binaries();
    Optional<String> group = Optional.empty();
    Path base = Files.createTempDirectory("klp-pg");
    if (isRoot()) {
      group = Optional.of(handOver(base));
    }
    Postgres pg = new Postgres(bin, group, base, freePort(), randomPassword());
    Runtime.getRuntime().addShutdownHook(pg.shutdownHook);
    String superuserPassword = randomPassword();
    try {
      pg.init(superuserPassword);
      pg.restart();
      pg.createDatabase(superuserPassword);
      return pg;
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      pg.close();
      throw e;
    }
  }

  /** {@code jdbc:postgresql://127.0.0.1:<port>/klp}. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/klp";
  }

  /** The role that owns database {@code klp}: {@code klp}. */
  public String user() {
    return "klp";
  }

  /** The password of {@link #user()} (letters and digits). */
  public String password() {
    return password;
  }

  public int port() {
    return port;
  }

  /** The data directory, which the postmaster's command line names. */
  public Path dataDirectory() {
    return base.resolve("data");
  }

  /**
   * Writes {@link #password()} to {@code dir/postgres-password} (mode 0600, no trailing newline)
   * and returns the file.
   */
  public Path passwordFile(Path dir) throws IOException {
    Path file = dir.resolve("postgres-password");
    Files.deleteIfExists(file);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, password, StandardOpenOption.TRUNCATE_EXISTING);
    return file;
  }

  /** Stops the server (fast shutdown: open connections are ended) and waits until it is down. */
  public synchronized void stop() throws IOException, InterruptedException {
    pgCtl("stop", "-m", "fast");
    running = false;
  }

  /** Starts the server again, on the same port and data directory, and waits until it is up. */
  public synchronized void restart() throws IOException, InterruptedException {
    running = true;
    pgCtl("start", "-l", base.resolve("postgres.log").toString());
  }

  /** Stops the server at once if it runs and deletes its directory. */
  @Override
  public void close() throws IOException {
    stopQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs or ran.
    }
    deleteTree(base);
  }

  private void init(String superuserPassword) throws IOException, InterruptedException {
    Path pwfile = base.resolve("superuser-password");
    Files.writeString(pwfile, superuserPassword);
    giveToServerUser(pwfile);
    run(
        "initdb",
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            dataDirectory().toString(),
            "-U",
            "postgres",
            "--pwfile=" + pwfile,
            "-A",
            "scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync"));
    Files.delete(pwfile);
    // Settings for a test server: loopback only, its socket in its own directory, no durability.
    Files.writeString(
        dataDirectory().resolve("postgresql.conf"),
        String.join(
            "\n",
            "",
            "listen_addresses = '127.0.0.1'",
            "port = " + port,
            "unix_socket_directories = '" + base + "'",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            ""),
        StandardOpenOption.APPEND);
  }

  private void createDatabase(String superuserPassword) {
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    try (Connection c = DriverManager.getConnection(url, "postgres", superuserPassword);
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE klp LOGIN PASSWORD '" + password + "'");
      s.execute("CREATE DATABASE klp OWNER klp");
    } catch (SQLException e) {
      throw new IllegalStateException(
          "creating database klp failed: " + e.getMessage() + "\n" + logTail(), e);
    }
  }

  private void pgCtl(String action, String... options) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>();
    argv.add(bin.resolve("pg_ctl").toString());
    argv.add(action);
    argv.addAll(List.of("-D", dataDirectory().toString(), "-w", "-t", "60"));
    argv.addAll(List.of(options));
    run("pg_ctl " + action, argv);
  }

  /** What the shutdown hook does for a server a test never closed. */
  private void stopAndDelete() {
    stopQuietly();
    try {
      deleteTree(base);
    } catch (IOException e) {
      // A temporary directory left behind.
    }
  }

  private void stopQuietly() {
    synchronized (this) {
      if (!running) {
        return;
      }
      try {
        pgCtl("stop", "-m", "immediate");
        running = false;
      } catch (IOException | IllegalStateException e) {
        killPostmaster();
      } catch (InterruptedException e) {
        killPostmaster();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The last resort when pg_ctl cannot stop the server: SIGKILL of the postmaster. */
  private void killPostmaster() {
    try {
      Path pidFile = dataDirectory().resolve("postmaster.pid");
      if (Files.exists(pidFile)) {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    } catch (IOException | RuntimeException e) {
      // Nothing more to try.
    }
    running = false;
  }

  /**
   * Runs one of the server's programs (as the unprivileged user when root), its output appended to
   * the log; throws with the log's tail when it fails.
   */
  private void run(String what, List<String> program) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>();
    runAsGroup.ifPresent(
        g ->
            argv.addAll(
                List.of(
                    "setpriv",
                    "--reuid=" + UNPRIVILEGED_USER,
                    "--regid=" + g,
                    "--clear-groups",
                    "--")));
    argv.addAll(program);
    Path log = base.resolve("postgres.log");
    if (!Files.exists(log)) {
      Files.createFile(log);
      giveToServerUser(log);
    }
    Process p =
        new ProcessBuilder(argv)
            .directory(base.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
      throw new IllegalStateException(what + " timed out\n" + logTail());
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          what + " failed (exit " + p.exitValue() + "); the end of its log:\n" + logTail());
    }
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(base.resolve("postgres.log"));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private void giveToServerUser(Path file) throws IOException {
    if (runAsGroup.isPresent()) {
      UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
      Files.setOwner(file, lookup.lookupPrincipalByName(UNPRIVILEGED_USER));
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
  }

  /**
   * Makes {@code dir} belong to the unprivileged user (mode 0700) and returns the group its
   * programs run as: {@code nogroup} (Debian) or {@code nobody} (Fedora/EL).
   */
  private static String handOver(Path dir) throws IOException {
    UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
    UserPrincipal user = lookup.lookupPrincipalByName(UNPRIVILEGED_USER);
    String groupName = "nogroup";
    GroupPrincipal group;
    try {
      group = lookup.lookupPrincipalByGroupName(groupName);
    } catch (UserPrincipalNotFoundException e) {
      groupName = "nobody";
      group = lookup.lookupPrincipalByGroupName(groupName);
    }
    PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
    view.setOwner(user);
    view.setGroup(group);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    return groupName;
  }

  /**
   * The directory of initdb, pg_ctl and postgres: Debian's versioned directory (the newest), else
   * the PATH (Fedora/EL). Skips or fails the test when there is none.
   */
  private static Path binaries() throws IOException {
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        Optional<Path> newest =
            versions
                .filter(v -> v.getFileName().toString().matches("[0-9]+"))
                .map(v -> v.resolve("bin"))
                .filter(Postgres::hasServerPrograms)
                .max(
                    Comparator.comparingInt(
                        b -> Integer.parseInt(b.getParent().getFileName().toString())));
        if (newest.isPresent()) {
          return newest.get();
        }
      }
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        if (!dir.isEmpty() && hasServerPrograms(Path.of(dir))) {
          return Path.of(dir);
        }
      }
    }
    if ("true".equals(System.getenv("CI"))) {
      throw new AssertionError(MISSING + " (CI=true: a missing tool fails the test)");
    }
    Assumptions.abort(MISSING);
    throw new AssertionError("unreachable");
  }

  private static boolean hasServerPrograms(Path dir) {
    return Stream.of("initdb", "pg_ctl", "postgres")
        .allMatch(p -> Files.isExecutable(dir.resolve(p)));
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String randomPassword() {
    String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    SecureRandom random = new SecureRandom();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 24; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
