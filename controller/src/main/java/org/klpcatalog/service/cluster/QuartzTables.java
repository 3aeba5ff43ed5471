package org.klpcatalog.service.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.quartz.impl.jdbcjobstore.PostgreSQLDelegate;

/**
 * Migration 1: Quartz's own PostgreSQL tables, from the DDL its jar ships ({@code
 * tables_postgres.sql}), never a copy of ours. Its {@code DROP TABLE} lines (for a database being
 * reset by hand) and its {@code COMMIT} are left out: the migration creates, in one transaction.
 * The checksum is the DDL's, so a Quartz upgrade that changes it is noticed by Flyway's validation
 * instead of running against tables it does not expect.
 */
final class QuartzTables implements JavaMigration {
  static final String DDL = "/org/quartz/impl/jdbcjobstore/tables_postgres.sql";

  @Override
  public MigrationVersion getVersion() {
    return MigrationVersion.fromVersion("1");
  }

  @Override
  public String getDescription() {
    return "Quartz job store tables (tables_postgres.sql)";
  }

  @Override
  public Integer getChecksum() {
    CRC32 crc = new CRC32();
    crc.update(ddl().getBytes(StandardCharsets.UTF_8));
    return (int) crc.getValue();
  }

  @Override
  public boolean canExecuteInTransaction() {
    return true;
  }

  @Override
  public void migrate(Context context) throws Exception {
    try (Statement st = context.getConnection().createStatement()) {
      for (String sql : statements(ddl())) {
        st.execute(sql);
      }
    }
  }

  /** The DDL's statements that create: comments, DROPs and COMMIT left out. */
  static List<String> statements(String ddl) {
    StringBuilder text = new StringBuilder();
    for (String line : ddl.split("\n")) {
      if (!line.strip().startsWith("--")) {
        text.append(line).append('\n');
      }
    }
    List<String> out = new ArrayList<>();
    for (String part : text.toString().split(";")) {
      String sql = part.strip();
      String upper = sql.toUpperCase(Locale.ROOT);
      if (sql.isEmpty() || upper.startsWith("DROP ") || upper.equals("COMMIT")) {
        continue;
      }
      out.add(sql);
    }
    return out;
  }

  /** The DDL from the Quartz jar on the class path (the one whose delegate the store uses). */
  static String ddl() {
    try (InputStream in = PostgreSQLDelegate.class.getResourceAsStream(DDL)) {
      if (in == null) {
        throw new IllegalStateException("the Quartz jar lacks " + DDL);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("reading " + DDL + ": " + e.getMessage(), e);
    }
  }
}
