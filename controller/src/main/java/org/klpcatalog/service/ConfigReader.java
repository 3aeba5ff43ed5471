package org.klpcatalog.service;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.schema.Suggest;
import org.klpcatalog.catalog.yaml.Mark;
import org.klpcatalog.catalog.yaml.SafeYamlLoader;
import org.klpcatalog.catalog.yaml.YamlDocument;
import org.klpcatalog.catalog.yaml.YamlPath;
import org.klpcatalog.catalog.yaml.YamlProblem;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.OpenPgpKeys;
import org.klpcatalog.kernel.ProviderSpec;
import org.klpcatalog.log.LogSetup;
import org.klpcatalog.qa.Vm;
import org.klpcatalog.service.forge.ForgeConfig;
import tools.jackson.databind.JsonNode;

/**
 * Reads the service's YAML configuration. Every key is declared in {@link #KEYS} with its type and
 * default (docs/configuration.md documents each one, and a test keeps the two in step); an unknown
 * key, a value of the wrong type or an unreadable secret file is reported with the file, line and
 * key, all problems at once, before the service starts. A {@code <name>} segment of a key stands
 * for any name of a map of named entries ({@code kernels.providers.el9.url}). The commands that
 * provision kernels read the same file for its kernel providers alone ({@link #kernelProviders}).
 */
public final class ConfigReader {
  /** The kinds of value a key takes. */
  public enum Type {
    STRING,
    PATH,
    DURATION,
    INT,
    BOOL,
    LIST,
    ENUM
  }

  /** A configuration key: its dotted path, type, default as documented, and allowed values. */
  public record Key(String path, Type type, String defaultText, List<String> values) {}

  /**
   * The default of every key that has a single default value, stated here only: the reader falls
   * back to these, and {@link #KEYS} documents them (docs/configuration.md shows the same text, and
   * a test keeps the two in step). Defaults that depend on other keys or on the machine (the
   * jitter, the build cache, the number of cores) are computed where the key is read.
   */
  public static final class Defaults {
    public static final String BRANCH = "main";
    public static final String SOURCE_PATH = "";
    public static final Duration INTERVAL = Duration.ofMinutes(1);
    public static final boolean ALLOW_HISTORY_REWRITE = false;
    public static final int KEEP = 10;
    public static final Duration LOCK_WAIT = Duration.ofMinutes(10);
    public static final String GNUPG_HOME = "~/.gnupg";
    public static final boolean UNSIGNED = false;
    public static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);

    /** The build cache's directory inside the state directory. */
    public static final String CACHE = "cache";

    public static final boolean SANDBOX = true;
    public static final boolean SOURCE_CHECKS = true;
    public static final boolean ALLOW_HTTP = false;
    public static final boolean QA_ENABLED = true;

    /** Automatic: one VM per core, as memory allows. */
    public static final int VMS = 0;

    public static final int VM_MEMORY_MIB = 512;
    public static final Vm.Accel ACCEL = Vm.Accel.AUTO;

    /** Automatic: derived from each VM's tests and steps. */
    public static final Duration VM_TIMEOUT = Duration.ZERO;

    public static final Duration TEST_TIMEOUT = Duration.ofMinutes(1);
    public static final String LISTEN = "127.0.0.1:8080";
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    public static final int MAX_CONNECTIONS = 64;
    public static final String GITHUB_API_URL = "https://api.github.com";
    public static final String FORGE_CONTEXT = "klp-catalog";
    public static final Duration RETRY_INITIAL = Duration.ofSeconds(10);
    public static final Duration RETRY_MAX = Duration.ofMinutes(10);
    public static final Path STATE_DIR = Path.of("/var/lib/klp-catalog");
    public static final boolean SUSPEND = false;
    public static final LogSetup.Format LOG_FORMAT = LogSetup.Format.text;
    public static final String LOG_LEVEL = "info";
    public static final Duration SHUTDOWN_TIMEOUT = Duration.ofMinutes(15);
    public static final Duration CHECKIN = Duration.ofSeconds(15);

    private Defaults() {}
  }

  /** The units a duration is written in (30s, 1h30m), largest first. */
  private enum DurationUnit {
    d(ChronoUnit.DAYS),
    h(ChronoUnit.HOURS),
    m(ChronoUnit.MINUTES),
    s(ChronoUnit.SECONDS),
    ms(ChronoUnit.MILLIS);

    final ChronoUnit chrono;

    DurationUnit(ChronoUnit chrono) {
      this.chrono = chrono;
    }
  }

  /** Every key the configuration may hold. */
  public static final List<Key> KEYS =
      List.of(
          key("source.url", Type.STRING, "(required)"),
          key("source.branch", Type.STRING, show(Defaults.BRANCH)),
          key("source.path", Type.STRING, show(Defaults.SOURCE_PATH) + " (the repository's root)"),
          key("source.interval", Type.DURATION, show(Defaults.INTERVAL)),
          key("source.jitter", Type.DURATION, "a tenth of source.interval"),
          key("source.tokenFile", Type.PATH, "none"),
          key("source.sshKey", Type.PATH, "none (~/.ssh's keys)"),
          key("source.knownHosts", Type.PATH, "none (~/.ssh/known_hosts)"),
          key("source.allowHistoryRewrite", Type.BOOL, show(Defaults.ALLOW_HISTORY_REWRITE)),
          key("source.verify.keyring", Type.PATH, "none (commits are not verified)"),
          key("source.verify.fingerprints", Type.LIST, "[] (any key of the keyring)"),
          key("repository.path", Type.PATH, "(required)"),
          key("repository.baseUrl", Type.STRING, "a file:// URL of the repository"),
          key("repository.keep", Type.INT, show(Defaults.KEEP)),
          key("repository.lockWait", Type.DURATION, show(Defaults.LOCK_WAIT)),
          key("signing.keyId", Type.STRING, "none (a throwaway key)"),
          key("signing.gnupgHome", Type.PATH, show(Defaults.GNUPG_HOME)),
          key("signing.unsigned", Type.BOOL, show(Defaults.UNSIGNED)),
          key("build.jobs", Type.INT, "the number of cores"),
          key("build.timeout", Type.DURATION, show(Defaults.BUILD_TIMEOUT)),
          key("build.cache", Type.PATH, "<stateDir>/" + Defaults.CACHE),
          key("build.sandbox", Type.BOOL, show(Defaults.SANDBOX)),
          key("build.sourceChecks", Type.BOOL, show(Defaults.SOURCE_CHECKS)),
          new Key("kernels.providers.<name>.type", Type.ENUM, "(required)", ProviderSpec.TYPES),
          key("kernels.providers.<name>.url", Type.STRING, "(required for rpm-repo)"),
          key("kernels.providers.<name>.gpgKeys", Type.LIST, "(required for rpm-repo)"),
          key("kernels.providers.<name>.allowHttp", Type.BOOL, show(Defaults.ALLOW_HTTP)),
          key(
              "kernels.providers.<name>.aptConfig",
              Type.PATH,
              "none (the machine's apt configuration)"),
          key("qa.enabled", Type.BOOL, show(Defaults.QA_ENABLED)),
          key("qa.vms", Type.INT, "one per core, as memory allows"),
          key("qa.vmMemory", Type.INT, show(Defaults.VM_MEMORY_MIB) + " (MiB)"),
          new Key("qa.accel", Type.ENUM, show(Defaults.ACCEL), spellings(Vm.Accel.values())),
          key("qa.vmTimeout", Type.DURATION, "derived from each VM's tests and steps"),
          key("qa.testTimeout", Type.DURATION, show(Defaults.TEST_TIMEOUT)),
          key("server.listen", Type.STRING, show(Defaults.LISTEN)),
          key(
              "server.adminTokenFile",
              Type.PATH,
              "none (a token generated in <stateDir>/admin-token)"),
          key("server.readTimeout", Type.DURATION, show(Defaults.READ_TIMEOUT)),
          key("server.requestTimeout", Type.DURATION, show(Defaults.REQUEST_TIMEOUT)),
          key("server.maxConnections", Type.INT, show(Defaults.MAX_CONNECTIONS)),
          key("server.publicUrl", Type.STRING, "none"),
          key("webhooks.github.secretFile", Type.PATH, "none (GitHub hooks refused)"),
          key("webhooks.gitea.secretFile", Type.PATH, "none (Gitea hooks refused)"),
          key("webhooks.gitlab.tokenFile", Type.PATH, "none (GitLab hooks refused)"),
          new Key(
              "forge.type",
              Type.ENUM,
              "none (nothing is posted)",
              spellings(ForgeConfig.Kind.values())),
          key(
              "forge.apiUrl",
              Type.STRING,
              Defaults.GITHUB_API_URL + " for github; required for gitea"),
          key("forge.repository", Type.STRING, "(required with forge.type)"),
          key("forge.tokenFile", Type.PATH, "(required with forge.type)"),
          key("forge.context", Type.STRING, show(Defaults.FORGE_CONTEXT)),
          key("retry.initial", Type.DURATION, show(Defaults.RETRY_INITIAL)),
          key("retry.max", Type.DURATION, show(Defaults.RETRY_MAX)),
          key("stateDir", Type.PATH, show(Defaults.STATE_DIR)),
          key("suspend", Type.BOOL, show(Defaults.SUSPEND)),
          new Key(
              "log.format",
              Type.ENUM,
              show(Defaults.LOG_FORMAT),
              spellings(LogSetup.Format.values())),
          new Key(
              "log.level",
              Type.ENUM,
              show(Defaults.LOG_LEVEL),
              List.of("trace", "debug", "info", "warn", "error")),
          key("shutdownTimeout", Type.DURATION, show(Defaults.SHUTDOWN_TIMEOUT)),
          key("cluster.url", Type.STRING, "none (one process, jobs in memory)"),
          key("cluster.user", Type.STRING, "(required with cluster.url)"),
          key("cluster.passwordFile", Type.PATH, "(required with cluster.url)"),
          key("cluster.checkinInterval", Type.DURATION, show(Defaults.CHECKIN)),
          key("cluster.replica", Type.STRING, "<host name>-<server port>"),
          key("cluster.store", Type.PATH, "(required with cluster.url)"));

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  /** The segment of a key that stands for a name chosen by whoever writes the configuration. */
  private static final String NAME = "<name>";

  /** A kernel provider's name, as catalogs write it in kernels[].provider. */
  private static final Pattern PROVIDER_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

  private static Key key(String path, Type type, String defaultText) {
    return new Key(path, type, defaultText, List.of());
  }

  /** A default as the docs write it: a duration in its largest units (1h30m), "" quoted. */
  private static String show(Object value) {
    if (value instanceof Duration d) {
      StringBuilder sb = new StringBuilder();
      long ms = d.toMillis();
      for (DurationUnit unit : DurationUnit.values()) {
        long length = unit.chrono.getDuration().toMillis();
        if (ms >= length || (ms == 0 && sb.isEmpty() && unit == DurationUnit.s)) {
          sb.append(ms / length).append(unit.name());
          ms %= length;
        }
      }
      return sb.toString();
    }
    if (value instanceof Enum<?> e) {
      return e.name().toLowerCase(Locale.ROOT);
    }
    String text = String.valueOf(value);
    return text.isEmpty() ? "\"\"" : text;
  }

  /** The values of an enum as the configuration writes them. */
  private static List<String> spellings(Enum<?>[] values) {
    return Arrays.stream(values).map(ConfigReader::show).toList();
  }

  private final Path file;
  private final Path base;
  private final YamlDocument doc;
  private final Map<String, JsonNode> values = new LinkedHashMap<>();
  private final List<String> problems = new ArrayList<>();

  private ConfigReader(Path file, YamlDocument doc) {
    this.file = file;
    this.base = file.toAbsolutePath().getParent();
    this.doc = doc;
  }

  /** Reads and checks a configuration file. */
  public static ServiceConfig read(Path file) throws ConfigException {
    return load(file, ConfigReader::build);
  }

  /**
   * The kernel providers of a configuration file, for the commands that provision kernels (build,
   * reconcile, qa): the whole file is checked for unknown keys, but only the kernels section is
   * read, so the keys only the service needs (source.url, ...) are not required.
   */
  public static KernelProviders kernelProviders(Path file) throws ConfigException {
    return load(file, ConfigReader::kernels);
  }

  /** What {@code part} reads of the file, or every problem found on the way. */
  private static <T> T load(Path file, Function<ConfigReader, T> part) throws ConfigException {
    ConfigReader r = load(file);
    T value = part.apply(r);
    if (!r.problems.isEmpty()) {
      throw new ConfigException(r.problems);
    }
    return value;
  }

  /** Parses the file and checks that every key is known; the values are checked when read. */
  private static ConfigReader load(Path file) throws ConfigException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigException(
          List.of(file + ": cannot read the configuration: " + e.getMessage()));
    }
    SafeYamlLoader.Result loaded = new SafeYamlLoader().load(file.toString(), bytes);
    if (!loaded.ok()) {
      List<String> out = new ArrayList<>();
      for (YamlProblem p : loaded.problems()) {
        out.add(file + ":" + p.mark().line() + ":" + p.mark().column() + ": " + p.message());
      }
      throw new ConfigException(out);
    }
    ConfigReader r = new ConfigReader(file, loaded.document());
    if (!loaded.document().root().isObject()) {
      throw new ConfigException(
          List.of(
              file
                  + ":1:1: the configuration must be a mapping of keys (source:, repository:,"
                  + " ...)"));
    }
    r.collect(loaded.document().root(), "");
    return r;
  }

  /** Whether a key (which may hold {@code <name>} segments) names {@code path}. */
  private static boolean names(String key, String path) {
    String[] k = key.split("\\.");
    String[] p = path.split("\\.");
    if (k.length != p.length) {
      return false;
    }
    for (int i = 0; i < k.length; i++) {
      if (!k[i].equals(NAME) && !k[i].equals(p[i])) {
        return false;
      }
    }
    return true;
  }

  /**
   * The segment of {@code key} below the section {@code path} ("" for the top level), when the key
   * lies inside that section.
   */
  private static Optional<String> childOf(String key, String path) {
    String[] k = key.split("\\.");
    int n = path.isEmpty() ? 0 : path.split("\\.").length;
    if (k.length <= n || (n > 0 && !names(String.join(".", Arrays.copyOf(k, n)), path))) {
      return Optional.empty();
    }
    return Optional.of(k[n]);
  }

  private void collect(JsonNode node, String prefix) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      boolean isKey = KEYS.stream().anyMatch(k -> names(k.path(), path));
      boolean isSection = KEYS.stream().anyMatch(k -> childOf(k.path(), path).isPresent());
      boolean isName =
          KEYS.stream().anyMatch(k -> childOf(k.path(), prefix).filter(NAME::equals).isPresent());
      if (isName && !PROVIDER_NAME.matcher(e.getKey()).matches()) {
        Mark m =
            doc.keyMarkOf(YamlPath.child(prefix, e.getKey()))
                .orElseGet(() -> doc.markOf(keyPath(prefix)));
        problemAt(
            m,
            prefix
                + ": '"
                + e.getKey().replaceAll("\\p{Cntrl}", "?")
                + "' is not a name: use lowercase letters, digits, '_' and '-',"
                + " starting with a letter (at most 32)");
      } else if (isKey) {
        if (!e.getValue().isNull()) {
          values.put(path, e.getValue());
        }
      } else if (isSection) {
        if (e.getValue().isObject()) {
          collect(e.getValue(), path);
        } else if (!e.getValue().isNull()) {
          problem(path, path + " must be a mapping of keys, such as " + sectionKeys(path));
        }
      } else {
        List<String> siblings =
            KEYS.stream()
                .map(k -> childOf(k.path(), prefix))
                .flatMap(Optional::stream)
                .distinct()
                .toList();
        String suggestion = Suggest.closest(e.getKey(), siblings);
        Mark m = doc.keyMarkOf(keyPath(path)).orElseGet(() -> doc.markOf(keyPath(path)));
        problemAt(
            m,
            path
                + ": unknown key"
                + (suggestion != null
                    ? " (did you mean '" + suggestion + "'?)"
                    : "; see docs/configuration.md"));
      }
    }
  }

  private static String sectionKeys(String section) {
    List<String> children =
        KEYS.stream()
            .map(k -> childOf(k.path(), section))
            .flatMap(Optional::stream)
            .distinct()
            .toList();
    if (children.contains(NAME)) {
      return "a name of your choice with its keys ("
          + String.join(
              ", ",
              KEYS.stream()
                  .map(k -> childOf(k.path(), section + "." + NAME))
                  .flatMap(Optional::stream)
                  .distinct()
                  .limit(3)
                  .toList())
          + ", ...)";
    }
    return String.join(", ", children.stream().limit(3).toList());
  }

  /** The YAML document's path of a dotted key (they coincide for plain keys). */
  private static String keyPath(String path) {
    return path;
  }

  private void problem(String path, String message) {
    Mark m = doc.markOf(keyPath(path));
    problems.add(file + ":" + m.line() + ":" + m.column() + ": " + message);
  }

  private Optional<JsonNode> raw(String path) {
    return Optional.ofNullable(values.get(path));
  }

  private Optional<String> string(String path) {
    Optional<JsonNode> n = raw(path);
    if (n.isEmpty()) {
      return Optional.empty();
    }
    if (!n.get().isString() && !n.get().isNumber() && !n.get().isBoolean()) {
      problem(path, path + " must be a string");
      return Optional.empty();
    }
    String s = n.get().asString();
    if (s.chars().anyMatch(c -> c < 0x20 && c != '\t')) {
      problem(path, path + " must not hold control characters");
      return Optional.empty();
    }
    return Optional.of(s);
  }

  private Optional<Path> path(String key) {
    return string(key).map(this::resolve);
  }

  /** A path as the configuration writes it: {@code ~/} is the home directory, relative to base. */
  private Path resolve(String text) {
    Path p =
        text.startsWith("~/")
            ? Path.of(System.getProperty("user.home"), text.substring(2))
            : Path.of(text);
    return base.resolve(p).normalize();
  }

  private Optional<Duration> duration(String path) {
    Optional<JsonNode> n = raw(path);
    if (n.isEmpty()) {
      return Optional.empty();
    }
    String s = n.get().asString().strip();
    Matcher m = DURATION.matcher(s);
    Duration d = Duration.ZERO;
    int at = 0;
    while (m.find() && m.start() == at) {
      long v = Long.parseLong(m.group(1));
      d = d.plus(Duration.of(v, DurationUnit.valueOf(m.group(2)).chrono));
      at = m.end();
    }
    if (at == 0 || at != s.length()) {
      problem(
          path,
          path
              + ": '"
              + s
              + "' is not a duration; write a number with a unit, such as 30s, 5m, 1h or 1h30m");
      return Optional.empty();
    }
    return Optional.of(d);
  }

  private Optional<Integer> integer(String path, int min) {
    Optional<JsonNode> n = raw(path);
    if (n.isEmpty()) {
      return Optional.empty();
    }
    if (!n.get().isIntegralNumber()
        || n.get().asLong() < min
        || n.get().asLong() > Integer.MAX_VALUE) {
      problem(
          path,
          path
              + " must be a whole number of at least "
              + min
              + ", not '"
              + n.get().asString()
              + "'");
      return Optional.empty();
    }
    return Optional.of(n.get().asInt());
  }

  private boolean bool(String path, boolean dflt) {
    Optional<JsonNode> n = raw(path);
    if (n.isEmpty()) {
      return dflt;
    }
    if (!n.get().isBoolean()) {
      problem(path, path + " must be true or false, not '" + n.get().asString() + "'");
      return dflt;
    }
    return n.get().asBoolean();
  }

  private Optional<String> choice(String path) {
    Optional<String> s = string(path);
    Key k = KEYS.stream().filter(x -> names(x.path(), path)).findFirst().orElseThrow();
    if (s.isPresent() && !k.values().contains(s.get())) {
      problem(
          path,
          path + " must be one of " + String.join(", ", k.values()) + ", not '" + s.get() + "'");
      return Optional.empty();
    }
    return s;
  }

  private List<String> list(String path) {
    Optional<JsonNode> n = raw(path);
    if (n.isEmpty()) {
      return List.of();
    }
    if (!n.get().isArray()) {
      problem(path, path + " must be a list");
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : n.get()) {
      out.add(item.asString());
    }
    return out;
  }

  /** A secret read from the file a key names: stripped, and never empty. */
  private Optional<String> secret(String path) {
    Optional<Path> p = path(path);
    if (p.isEmpty()) {
      return Optional.empty();
    }
    try {
      String s = Files.readString(p.get(), StandardCharsets.UTF_8).strip();
      if (s.isEmpty()) {
        problem(path, path + ": " + p.get() + " is empty; put the secret in it");
        return Optional.empty();
      }
      return Optional.of(s);
    } catch (IOException e) {
      problem(
          path,
          path
              + ": cannot read "
              + p.get()
              + " ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")");
      return Optional.empty();
    }
  }

  private <T> T required(String path, Optional<T> value) {
    if (value.isEmpty() && !values.containsKey(path)) {
      Mark m = doc.markOf(path.contains(".") ? path.substring(0, path.lastIndexOf('.')) : "");
      problems.add(file + ":" + m.line() + ":" + m.column() + ": " + path + " is required");
    }
    return value.orElse(null);
  }

  /** The configuration, read step by step in the order the problems are reported. */
  private ServiceConfig build() {
    ServiceConfig.Source source = source();
    // The state directory, and what defaults to places inside it.
    Path stateDir = path("stateDir").orElse(Defaults.STATE_DIR);
    ServiceConfig.Repository repository = repository();
    ServiceConfig.Signing signing = signing();
    ServiceConfig.Build build = builds(stateDir);
    ServiceConfig.Qa qa = qa();
    ServiceConfig.Server server = server();
    ServiceConfig.Webhooks webhooks = webhooks();
    Optional<ForgeConfig> forge = forge();
    ServiceConfig.Retry retry = retry();
    ServiceConfig.Log log = log();
    return new ServiceConfig(
        file.toAbsolutePath(),
        source,
        repository,
        signing,
        build,
        server,
        webhooks,
        forge,
        retry,
        stateDir,
        bool("suspend", Defaults.SUSPEND),
        log,
        duration("shutdownTimeout").orElse(Defaults.SHUTDOWN_TIMEOUT),
        qa,
        kernels(),
        cluster(server));
  }

  /** The cluster, when cluster.url names a database; its other keys are refused without it. */
  private Optional<ServiceConfig.Cluster> cluster(ServiceConfig.Server server) {
    Optional<String> url = string("cluster.url");
    if (url.isEmpty()) {
      for (String k :
          List.of(
              "cluster.user",
              "cluster.passwordFile",
              "cluster.checkinInterval",
              "cluster.replica",
              "cluster.store")) {
        if (values.containsKey(k)) {
          problem(k, k + " has no effect without cluster.url (jdbc:postgresql://HOST:PORT/DB)");
        }
      }
      return Optional.empty();
    }
    if (!url.get().matches("jdbc:postgresql://[^\\s/?#]+/[A-Za-z0-9_.-]+(\\?\\S*)?")) {
      problem(
          "cluster.url",
          "cluster.url: '"
              + url.get()
              + "' is not a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DATABASE)");
    }
    String user = required("cluster.user", string("cluster.user"));
    String password = required("cluster.passwordFile", secret("cluster.passwordFile"));
    Duration checkin = duration("cluster.checkinInterval").orElse(Defaults.CHECKIN);
    if (checkin.compareTo(Duration.ofSeconds(1)) < 0) {
      problem("cluster.checkinInterval", "cluster.checkinInterval must be at least 1s");
    }
    String replica =
        string("cluster.replica")
            .orElse(
                hostName()
                    + "-"
                    + (server.port() == 0 ? ProcessHandle.current().pid() : server.port()));
    if (!replica.matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,79}")) {
      problem(
          "cluster.replica",
          "cluster.replica: '"
              + replica
              + "' is not a replica id (letters, digits, '.', '_', ':', '-'; at most 80)");
    }
    Path store = required("cluster.store", path("cluster.store"));
    if (user == null || password == null || store == null) {
      return Optional.empty();
    }
    return Optional.of(
        new ServiceConfig.Cluster(url.get(), user, password, checkin, replica, store));
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "localhost";
    }
  }

  /** The source: the branch followed, how often, how to reach it and whose commits to trust. */
  private ServiceConfig.Source source() {
    String url = required("source.url", string("source.url"));
    String branch = string("source.branch").orElse(Defaults.BRANCH);
    if (!branch.matches("[A-Za-z0-9._/-]+") || branch.contains("..") || branch.startsWith("/")) {
      problem("source.branch", "source.branch: '" + branch + "' is not a branch name");
    }
    Duration interval = duration("source.interval").orElse(Defaults.INTERVAL);
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
      problem("source.interval", "source.interval must be at least 1s");
    }
    Duration jitter = duration("source.jitter").orElse(interval.dividedBy(10));
    if (jitter.compareTo(interval) >= 0) {
      problem(
          "source.jitter",
          "source.jitter must be shorter than source.interval (" + interval.toSeconds() + "s)");
    }
    Optional<ServiceConfig.Verify> verify = verify();
    return new ServiceConfig.Source(
        url,
        branch,
        string("source.path").orElse(Defaults.SOURCE_PATH),
        interval,
        jitter,
        secret("source.tokenFile"),
        existing("source.sshKey"),
        existing("source.knownHosts"),
        bool("source.allowHistoryRewrite", Defaults.ALLOW_HISTORY_REWRITE),
        verify);
  }

  /** The keyring (and fingerprints) commits must be signed with, if any. */
  private Optional<ServiceConfig.Verify> verify() {
    Optional<Path> keyring = path("source.verify.keyring");
    List<String> fingerprints =
        list("source.verify.fingerprints").stream()
            .map(f -> f.replace(" ", "").toUpperCase(Locale.ROOT))
            .toList();
    for (String f : fingerprints) {
      if (!f.matches("[0-9A-F]{40}|[0-9A-F]{64}")) {
        problem(
            "source.verify.fingerprints",
            "source.verify.fingerprints: '" + f + "' is not a key fingerprint (40 hex digits)");
      }
    }
    if (!fingerprints.isEmpty() && keyring.isEmpty()) {
      problem(
          "source.verify",
          "source.verify.fingerprints needs source.verify.keyring (the keys' public keyring)");
    }
    keyring.ifPresent(
        k -> {
          if (!Files.isReadable(k)) {
            problem("source.verify.keyring", "source.verify.keyring: cannot read " + k);
          }
        });
    return keyring.map(k -> new ServiceConfig.Verify(k, fingerprints));
  }

  /** The published repository. */
  private ServiceConfig.Repository repository() {
    Path repo = required("repository.path", path("repository.path"));
    return new ServiceConfig.Repository(
        repo,
        string("repository.baseUrl"),
        integer("repository.keep", 1).orElse(Defaults.KEEP),
        duration("repository.lockWait").orElse(Defaults.LOCK_WAIT));
  }

  /** Signing: a key, or unsigned, not both. */
  private ServiceConfig.Signing signing() {
    Optional<String> keyId = string("signing.keyId");
    boolean unsigned = bool("signing.unsigned", Defaults.UNSIGNED);
    if (keyId.isPresent() && unsigned) {
      problem(
          "signing.unsigned", "signing.unsigned and signing.keyId contradict each other; keep one");
    }
    return new ServiceConfig.Signing(
        keyId, path("signing.gnupgHome").orElse(resolve(Defaults.GNUPG_HOME)), unsigned);
  }

  /** Builds: their parallelism, time limit, cache (in the state directory by default), sandbox. */
  private ServiceConfig.Build builds(Path stateDir) {
    return new ServiceConfig.Build(
        integer("build.jobs", 1).orElse(Runtime.getRuntime().availableProcessors()),
        duration("build.timeout").orElse(Defaults.BUILD_TIMEOUT),
        path("build.cache").orElse(stateDir.resolve(Defaults.CACHE)),
        bool("build.sandbox", Defaults.SANDBOX),
        bool("build.sourceChecks", Defaults.SOURCE_CHECKS));
  }

  /** Patch QA. */
  private ServiceConfig.Qa qa() {
    return new ServiceConfig.Qa(
        bool("qa.enabled", Defaults.QA_ENABLED),
        integer("qa.vms", 1).orElse(Defaults.VMS),
        integer("qa.vmMemory", 128).orElse(Defaults.VM_MEMORY_MIB),
        choice("qa.accel")
            .map(a -> Vm.Accel.valueOf(a.toUpperCase(Locale.ROOT)))
            .orElse(Defaults.ACCEL),
        duration("qa.vmTimeout").orElse(Defaults.VM_TIMEOUT),
        duration("qa.testTimeout").orElse(Defaults.TEST_TIMEOUT));
  }

  /** The HTTP server: where it listens, its admin token and the limits on its clients. */
  private ServiceConfig.Server server() {
    Listen listen = listen();
    Optional<String> adminToken = secret("server.adminTokenFile");
    if (adminToken.isPresent() && adminToken.get().length() < AdminToken.MIN_LENGTH) {
      problem(
          "server.adminTokenFile",
          "server.adminTokenFile: the token is shorter than "
              + AdminToken.MIN_LENGTH
              + " characters and could be guessed; put a random one in the file (openssl rand -hex"
              + " 32), or remove the key to have the service generate one");
    }
    Duration readTimeout = duration("server.readTimeout").orElse(Defaults.READ_TIMEOUT);
    Duration requestTimeout = duration("server.requestTimeout").orElse(Defaults.REQUEST_TIMEOUT);
    if (readTimeout.compareTo(Duration.ofMillis(100)) < 0) {
      problem("server.readTimeout", "server.readTimeout must be at least 100ms");
    }
    if (requestTimeout.compareTo(Duration.ofMillis(100)) < 0) {
      problem("server.requestTimeout", "server.requestTimeout must be at least 100ms");
    }
    return new ServiceConfig.Server(
        listen.host(),
        listen.port(),
        adminToken.isPresent() ? path("server.adminTokenFile") : Optional.empty(),
        adminToken,
        string("server.publicUrl").map(u -> u.replaceAll("/+$", "")),
        readTimeout,
        requestTimeout,
        integer("server.maxConnections", 4).orElse(Defaults.MAX_CONNECTIONS));
  }

  /** A host and port to listen on. */
  private record Listen(String host, int port) {
    private static final Pattern HOST_PORT =
        Pattern.compile("^(\\[[0-9a-fA-F:]+]|[A-Za-z0-9.-]*):(\\d{1,5})$");

    /** {@code HOST:PORT}, {@code [v6]:PORT} or {@code :PORT} (every address). */
    static Optional<Listen> parse(String text) {
      Matcher m = HOST_PORT.matcher(text);
      if (!m.matches() || Integer.parseInt(m.group(2)) > 65535) {
        return Optional.empty();
      }
      String host = m.group(1).isEmpty() ? "0.0.0.0" : m.group(1).replaceAll("^\\[|]$", "");
      return Optional.of(new Listen(host, Integer.parseInt(m.group(2))));
    }
  }

  /** server.listen, or its default when it is absent or wrong (a problem then says why). */
  private Listen listen() {
    String text = string("server.listen").orElse(Defaults.LISTEN);
    Optional<Listen> listen = Listen.parse(text);
    if (listen.isEmpty()) {
      problem(
          "server.listen",
          "server.listen: '" + text + "' is not HOST:PORT (such as 127.0.0.1:8080 or :8080)");
    }
    return listen.orElseGet(() -> Listen.parse(Defaults.LISTEN).orElseThrow());
  }

  /** The secrets webhooks are verified with. */
  private ServiceConfig.Webhooks webhooks() {
    return new ServiceConfig.Webhooks(
        secret("webhooks.github.secretFile"),
        secret("webhooks.gitea.secretFile"),
        secret("webhooks.gitlab.tokenFile"));
  }

  /** The forge, when forge.type names one; its other keys are refused without it. */
  private Optional<ForgeConfig> forge() {
    Optional<String> type = choice("forge.type");
    if (type.isEmpty()) {
      for (String k :
          List.of("forge.apiUrl", "forge.repository", "forge.tokenFile", "forge.context")) {
        if (values.containsKey(k)) {
          problem(k, k + " has no effect without forge.type (github or gitea)");
        }
      }
      return Optional.empty();
    }
    ForgeConfig.Kind kind = ForgeConfig.Kind.valueOf(type.get());
    Optional<String> api = string("forge.apiUrl").map(u -> u.replaceAll("/+$", ""));
    if (api.isEmpty() && kind == ForgeConfig.Kind.gitea) {
      problem("forge", "forge.apiUrl is required for gitea (such as https://gitea.example.org)");
    }
    api.ifPresent(
        u -> {
          if (!u.matches("https?://[^\\s/]+(/\\S*)?")) {
            problem("forge.apiUrl", "forge.apiUrl: '" + u + "' is not an http(s) URL");
          }
        });
    String repoName = required("forge.repository", string("forge.repository"));
    if (repoName != null && !repoName.matches("[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")) {
      problem("forge.repository", "forge.repository: '" + repoName + "' is not OWNER/NAME");
      repoName = null;
    }
    String token = required("forge.tokenFile", secret("forge.tokenFile"));
    if (repoName == null || token == null) {
      return Optional.empty();
    }
    String[] ownerName = repoName.split("/");
    return Optional.of(
        new ForgeConfig(
            kind,
            api.orElse(Defaults.GITHUB_API_URL),
            ownerName[0],
            ownerName[1],
            token,
            string("forge.context").orElse(Defaults.FORGE_CONTEXT)));
  }

  /** The backoff of retried errors. */
  private ServiceConfig.Retry retry() {
    Duration initial = duration("retry.initial").orElse(Defaults.RETRY_INITIAL);
    Duration max = duration("retry.max").orElse(Defaults.RETRY_MAX);
    if (initial.compareTo(max) > 0 || initial.isZero()) {
      problem(
          "retry.initial",
          "retry.initial must be more than 0 and at most retry.max (" + max.toSeconds() + "s)");
    }
    return new ServiceConfig.Retry(initial, max);
  }

  /** Log format and level. */
  private ServiceConfig.Log log() {
    return new ServiceConfig.Log(
        choice("log.format").map(LogSetup.Format::valueOf).orElse(Defaults.LOG_FORMAT),
        choice("log.level").orElse(Defaults.LOG_LEVEL));
  }

  /**
   * The kernel providers: the built-in {@code debian} and each of kernels.providers, checked: a
   * known type, an rpm-repo's URL (https:// or file://; http:// only with allowHttp) and its key
   * files, readable and holding OpenPGP public keys.
   */
  private KernelProviders kernels() {
    List<ProviderSpec> configured = new ArrayList<>();
    JsonNode kernels = doc.root().get("kernels");
    JsonNode section = kernels != null && kernels.isObject() ? kernels.get("providers") : null;
    if (section == null || !section.isObject()) {
      return KernelProviders.of(configured);
    }
    for (String name : section.propertyNames()) {
      if (!PROVIDER_NAME.matcher(name).matches()) {
        continue;
      }
      String at = "kernels.providers." + name;
      JsonNode entry = section.get(name);
      if (entry == null || !entry.isObject()) {
        if (entry == null || entry.isNull()) {
          problem(at, at + " is empty; give its type (debian or rpm-repo)");
        }
        continue;
      }
      String type = required(at + ".type", choice(at + ".type"));
      Optional<String> url = string(at + ".url");
      List<String> keys = list(at + ".gpgKeys");
      boolean allowHttp = bool(at + ".allowHttp", false);
      if ("debian".equals(type)) {
        for (String k : List.of("url", "gpgKeys", "allowHttp")) {
          if (values.containsKey(at + "." + k)) {
            problem(
                at + "." + k,
                at
                    + "."
                    + k
                    + " has no effect for type debian: apt's configuration (the machine's, or"
                    + " aptConfig) decides where Debian packages come from and which keys sign"
                    + " them");
          }
        }
        configured.add(new ProviderSpec.Debian(name, existing(at + ".aptConfig")));
      } else if ("rpm-repo".equals(type)) {
        if (values.containsKey(at + ".aptConfig")) {
          problem(
              at + ".aptConfig",
              at + ".aptConfig has no effect for type rpm-repo (it is for type debian)");
        }
        URI uri = url.flatMap(u -> repositoryUrl(at + ".url", u, allowHttp)).orElse(null);
        if (!values.containsKey(at + ".url")) {
          problem(
              at,
              at
                  + ".url is required for type rpm-repo: the yum repository holding kernel-devel"
                  + " and kernel-core (the directory with repodata/)");
        }
        if (keys.isEmpty()) {
          problem(
              values.containsKey(at + ".gpgKeys") ? at + ".gpgKeys" : at,
              at
                  + ".gpgKeys is required for type rpm-repo: list the OpenPGP public key files its"
                  + " repomd.xml and packages are signed with");
        }
        List<Path> keyFiles = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
          keyFiles.add(keyFile(at + ".gpgKeys[" + i + "]", keys.get(i)));
        }
        if (uri != null && !keys.isEmpty()) {
          configured.add(new ProviderSpec.RpmRepo(name, uri, keyFiles, allowHttp));
        }
      }
    }
    return KernelProviders.of(configured);
  }

  /** An rpm-repo URL: https:// or file://, or http:// when allowed; no query or fragment. */
  private Optional<URI> repositoryUrl(String key, String text, boolean allowHttp) {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      problem(key, key + ": '" + text + "' is not a URL (" + e.getReason() + ")");
      return Optional.empty();
    }
    String scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
    if (scheme.equals("http") && !allowHttp) {
      problem(
          key,
          key
              + ": '"
              + text
              + "' is plain http://; use https://, or set allowHttp: true (the repository's"
              + " signatures still hold, but anyone on the way sees which kernels are fetched and"
              + " can withhold updates)");
      return Optional.empty();
    }
    if (!List.of("https", "http", "file").contains(scheme)
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null
        || (!scheme.equals("file") && (uri.getHost() == null || uri.getHost().isEmpty()))
        || uri.getRawPath() == null
        || !uri.getRawPath().startsWith("/")) {
      problem(
          key,
          key
              + ": '"
              + text
              + "' is not an https:// (or file://) URL of a yum repository, such as"
              + " https://mirror.example.org/el9/BaseOS/x86_64/os/");
      return Optional.empty();
    }
    return Optional.of(uri);
  }

  /** A key file of gpgKeys: resolved like every path, readable, holding OpenPGP public keys. */
  private Path keyFile(String key, String text) {
    Path p = resolve(text);
    try {
      OpenPgpKeys.blocks(Files.readAllBytes(p));
    } catch (IOException e) {
      problem(
          key,
          key
              + ": cannot read "
              + p
              + " ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")");
    } catch (OpenPgpKeys.NotAKeyException e) {
      problem(
          key,
          key
              + ": "
              + p
              + " is not an OpenPGP public key file: "
              + e.getMessage()
              + "; give the armored key (gpg --armor --export KEYID), such as"
              + " /etc/pki/rpm-gpg/RPM-GPG-KEY-...");
    }
    return p;
  }

  /** A path that must name an existing file. */
  private Optional<Path> existing(String key) {
    Optional<Path> p = path(key);
    p.ifPresent(
        f -> {
          if (!Files.isReadable(f)) {
            problem(key, key + ": cannot read " + f);
          }
        });
    return p;
  }

  /** A problem at a position of the file: {@code file:line:column: message}. */
  private void problemAt(Mark m, String message) {
    problems.add(file + ":" + m.line() + ":" + m.column() + ": " + message);
  }
}
