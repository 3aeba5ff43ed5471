package org.klpcatalog.service.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class QuartzTablesTest {
  @Test
  void theMigrationCreatesEveryTableOfQuartzsOwnDdlAndDropsNothing() {
    List<String> statements = QuartzTables.statements(QuartzTables.ddl());
    assertThat(statements)
        .noneMatch(s -> s.toUpperCase().startsWith("DROP"))
        .noneMatch(s -> s.equalsIgnoreCase("COMMIT"))
        .noneMatch(s -> s.contains("--"));
    List<String> tables =
        statements.stream()
            .filter(s -> s.toUpperCase().startsWith("CREATE TABLE"))
            .map(s -> s.split("\\s+")[2].toLowerCase())
            .toList();
    // The tables the clustered JDBC store reads and writes.
    assertThat(tables)
        .contains(
            "qrtz_job_details",
            "qrtz_triggers",
            "qrtz_simple_triggers",
            "qrtz_fired_triggers",
            "qrtz_scheduler_state",
            "qrtz_locks");
    assertThat(statements).anyMatch(s -> s.toUpperCase().startsWith("CREATE INDEX"));
  }

  @Test
  void theChecksumFollowsTheDdl() {
    assertThat(new QuartzTables().getChecksum()).isEqualTo(new QuartzTables().getChecksum());
    assertThat(new QuartzTables().getVersion().getVersion()).isEqualTo("1");
  }

  @Test
  void commentsAndStatementsAreSplitLineByLine() {
    assertThat(
            QuartzTables.statements(
                "-- a comment; with a semicolon\nDROP TABLE IF EXISTS A;\nCREATE TABLE A (X INT);"
                    + "\n\nCREATE INDEX I ON A (X);\nCOMMIT;\n"))
        .containsExactly("CREATE TABLE A (X INT)", "CREATE INDEX I ON A (X)");
  }

  @Test
  void jobIdsNameRevisionPackageAndKernelAndStayShort() {
    String rev = "a".repeat(40);
    assertThat(ClusterFarm.jobId(rev, "klp-fix", "6.1.0-50-amd64"))
        .isEqualTo("build:" + rev + ":klp-fix:6.1.0-50-amd64");
    String longName = "klp-" + "x".repeat(300);
    String id = ClusterFarm.jobId(rev, longName, "6.1.0-50-amd64");
    assertThat(id).hasSizeLessThanOrEqualTo(190).startsWith("build:" + rev + ":");
    assertThat(ClusterFarm.jobId(rev, longName, "6.1.0-56-amd64")).isNotEqualTo(id);
  }
}
