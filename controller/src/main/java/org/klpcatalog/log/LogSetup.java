package org.klpcatalog.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.LoggerFactory;

/**
 * Logging for every command, set up in code (no XML to parse at start-up): one line per event on
 * standard error. Commands log warnings only ({@code KLP_CATALOG_LOG_LEVEL} changes that); the
 * service logs from {@code info}, as text with key=value pairs or as one JSON object per line.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {
  /** How the service writes its log lines. */
  public enum Format {
    text,
    json
  }

  private static final String APPENDER = "stderr";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    String env = System.getenv("KLP_CATALOG_LOG_LEVEL");
    install(context, Format.text, Level.toLevel(env, Level.WARN), false);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Switches to the service's logging: timestamps, the given level and format. */
  public static void service(Format format, String level) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      install(context, format, Level.toLevel(level, Level.INFO), true);
    }
  }

  /** What the text log replaces: control characters but tab, and invisible format characters. */
  private static final String CONTROL = "[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}&&[^\\t]]";

  private static void install(LoggerContext context, Format format, Level level, boolean service) {
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    Encoder<ILoggingEvent> encoder;
    if (format == Format.json) {
      JsonEncoder json = new JsonEncoder();
      json.setWithSequenceNumber(false);
      json.setWithNanoseconds(false);
      json.setWithContext(false);
      json.setWithFormattedMessage(true);
      json.setWithMessage(false);
      json.setWithArguments(false);
      encoder = json;
    } else {
      PatternLayoutEncoder pattern = new PatternLayoutEncoder();
      // One line per event: control characters in a message or a value (a catalog path with a
      // line break, an escape sequence) become '?', so no event can forge another line.
      String message = "%replace(%msg%replace( %kvp){'^ $',''}){'" + CONTROL + "','?'}";
      pattern.setPattern(
          service
              ? "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0}: " + message + "%n%ex{short}"
              : "klp-catalog: %level: " + message + "%n");
      encoder = pattern;
    }
    encoder.setContext(context);
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setName(APPENDER);
    appender.setTarget("System.err");
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.start();
    root.addAppender(appender);
    root.setLevel(level);
    // Libraries' chatter stays out of the service's log unless asked for.
    context
        .getLogger("org.quartz")
        .setLevel(level.isGreaterOrEqual(Level.WARN) ? level : Level.WARN);
    context
        .getLogger("org.eclipse.jgit")
        .setLevel(level.isGreaterOrEqual(Level.WARN) ? level : Level.WARN);
    context
        .getLogger("org.apache.sshd")
        .setLevel(level.isGreaterOrEqual(Level.WARN) ? level : Level.WARN);
    context
        .getLogger("org.eclipse.jetty")
        .setLevel(level.isGreaterOrEqual(Level.WARN) ? level : Level.WARN);
  }
}
