package org.klpcatalog.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** The service's log: one line per event, key-value pairs kept, as text or as JSON. */
class LogSetupTest {
  private static final Logger LOG =
      LoggerFactory.getLogger("org.klpcatalog.service.CatalogController");
  private final PrintStream stderr = System.err;

  @AfterEach
  void restore() {
    System.setErr(stderr);
    LogSetup.service(LogSetup.Format.text, "warn");
  }

  private String capture(LogSetup.Format format, Runnable log) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    LogSetup.service(format, "info");
    log.run();
    System.setErr(stderr);
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void jsonIsOneObjectPerEventWithItsKeyValuePairs() throws Exception {
    String out =
        capture(
            LogSetup.Format.json,
            () -> {
              LOG.atInfo()
                  .addKeyValue("revision", "1e24")
                  .addKeyValue("version", 7)
                  .log("published version 7");
              LOG.debug("not at info");
            });
    assertThat(out.lines().toList()).hasSize(1);
    JsonNode event = new ObjectMapper().readTree(out.lines().findFirst().orElseThrow());
    assertThat(event.path("level").asString()).isEqualTo("INFO");
    assertThat(event.path("formattedMessage").asString()).isEqualTo("published version 7");
    assertThat(event.path("loggerName").asString()).endsWith("CatalogController");
    assertThat(event.path("kvpList").toString())
        .contains("\"revision\":\"1e24\"")
        .contains("\"version\":\"7\"");
  }

  @Test
  void textIsOneLineWithTimeLevelAndPairs() {
    String out =
        capture(
            LogSetup.Format.text,
            () ->
                LOG.atWarn()
                    .addKeyValue("reason", "ValidationFailed")
                    .log("commit 1e24 is not a valid catalog"));
    assertThat(out)
        .matches(
            "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) WARN "
                + " CatalogController: commit 1e24 is not a valid catalog"
                + " reason=\"ValidationFailed\"\\n");
  }

  @Test
  void aLineBreakOrEscapeInAMessageOrValueCannotForgeALine() {
    String out =
        capture(
            LogSetup.Format.text,
            () ->
                LOG.atWarn()
                    .addKeyValue("path", "patches/a\nerror: forged")
                    .log("cannot read patches/b\r\u001b[2Jc\nWARN forged"));
    assertThat(out.lines().toList()).hasSize(1);
    assertThat(out)
        .endsWith(
            "WARN  CatalogController: cannot read patches/b??[2Jc?WARN forged"
                + " path=\"patches/a?error: forged\"\n");
  }
}
