package org.klpcatalog.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL fixture: a real server the role {@code klp} logs in to with its password, which
 * goes down on stop, comes back with its data on restart, and leaves neither a process nor a
 * directory behind.
 */
class PostgresIT {
  @Test
  void aRealServerThatStopsRestartsAndLeavesNothingBehind(@TempDir Path tmp) throws Exception {
    Path data;
    try (Postgres pg = Postgres.start()) {
      data = pg.dataDirectory();
      assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + pg.port() + "/klp");
      assertThat(pg.user()).isEqualTo("klp");
      Path pwfile = pg.passwordFile(tmp);
      assertThat(Files.readString(pwfile)).isEqualTo(pg.password());
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pwfile)))
          .isEqualTo("rw-------");

      try (Connection c = connect(pg);
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (id int PRIMARY KEY, name text)");
        s.execute("INSERT INTO t VALUES (1, 'one')");
        assertThat(name(s)).isEqualTo("one");
      }
      assertThat(postmasterRuns(data)).isTrue();

      pg.stop();
      assertThatThrownBy(() -> connect(pg).close()).isInstanceOf(SQLException.class);
      assertThat(postmasterRuns(data)).isFalse();

      pg.restart();
      try (Connection c = connect(pg);
          Statement s = c.createStatement()) {
        assertThat(name(s)).isEqualTo("one");
      }
    }
    assertThat(postmasterRuns(data)).isFalse();
    assertThat(data.getParent()).doesNotExist();
  }

  @Test
  void aWrongPasswordIsRefused() throws Exception {
    try (Postgres pg = Postgres.start()) {
      assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl(), pg.user(), "wrong"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("password authentication failed");
    }
  }

  private static Connection connect(Postgres pg) throws SQLException {
    return DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
  }

  private static String name(Statement s) throws SQLException {
    try (ResultSet r = s.executeQuery("SELECT name FROM t WHERE id = 1")) {
      assertThat(r.next()).isTrue();
      return r.getString(1);
    }
  }

  /** Whether a process whose command line names the data directory (the postmaster) runs. */
  private static boolean postmasterRuns(Path data) {
    return ProcessHandle.allProcesses()
        .filter(ProcessHandle::isAlive)
        .anyMatch(p -> p.info().commandLine().map(l -> l.contains(data.toString())).orElse(false));
  }
}
