package org.klpcatalog.service;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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

  /** Every key the configuration may hold. */
  public static final List<Key> KEYS =
      List.of(
          key("source.url", Type.STRING, "(required)"),
          key("source.branch", Type.STRING, "main"),
          key("source.path", Type.STRING, "\"\" (the repository's root)"),
          key("source.interval", Type.DURATION, "1m"),
          key("source.jitter", Type.DURATION, "a tenth of source.interval"),
          key("source.tokenFile", Type.PATH, "none"),
          key("source.sshKey", Type.PATH, "none (~/.ssh's keys)"),
          key("source.knownHosts", Type.PATH, "none (~/.ssh/known_hosts)"),
          key("source.allowHistoryRewrite", Type.BOOL, "false"),
          key("source.verify.keyring", Type.PATH, "none (commits are not verified)"),
          key("source.verify.fingerprints", Type.LIST, "[] (any key of the keyring)"),
          key("repository.path", Type.PATH, "(required)"),
          key("repository.baseUrl", Type.STRING, "a file:// URL of the repository"),
          key("repository.keep", Type.INT, "10"),
          key("repository.lockWait", Type.DURATION, "10m"),
          key("signing.keyId", Type.STRING, "none (a throwaway key)"),
          key("signing.gnupgHome", Type.PATH, "~/.gnupg"),
          key("signing.unsigned", Type.BOOL, "false"),
          key("build.jobs", Type.INT, "the number of cores"),
          key("build.timeout", Type.DURATION, "10m"),
          key("build.cache", Type.PATH, "<stateDir>/cache"),
          key("build.sandbox", Type.BOOL, "true"),
          key("build.sourceChecks", Type.BOOL, "true"),
          new Key("kernels.providers.<name>.type", Type.ENUM, "(required)", ProviderSpec.TYPES),
          key("kernels.providers.<name>.url", Type.STRING, "(required for rpm-repo)"),
          key("kernels.providers.<name>.gpgKeys", Type.LIST, "(required for rpm-repo)"),
          key("kernels.providers.<name>.allowHttp", Type.BOOL, "false"),
          key(
              "kernels.providers.<name>.aptConfig",
              Type.PATH,
              "none (the machine's apt configuration)"),
          key("qa.enabled", Type.BOOL, "true"),
          key("qa.vms", Type.INT, "one per core, as memory allows"),
          key("qa.vmMemory", Type.INT, "512 (MiB)"),
          new Key("qa.accel", Type.ENUM, "auto", List.of("auto", "kvm", "tcg")),
          key("qa.vmTimeout", Type.DURATION, "derived from each VM's tests and steps"),
          key("qa.testTimeout", Type.DURATION, "60s"),
          key("server.listen", Type.STRING, "127.0.0.1:8080"),
          key(
              "server.adminTokenFile",
              Type.PATH,
              "none (a token generated in <stateDir>/admin-token)"),
          key("server.readTimeout", Type.DURATION, "10s"),
          key("server.requestTimeout", Type.DURATION, "30s"),
          key("server.maxConnections", Type.INT, "64"),
          key("server.publicUrl", Type.STRING, "none"),
          key("webhooks.github.secretFile", Type.PATH, "none (GitHub hooks refused)"),
          key("webhooks.gitea.secretFile", Type.PATH, "none (Gitea hooks refused)"),
          key("webhooks.gitlab.tokenFile", Type.PATH, "none (GitLab hooks refused)"),
          new Key("forge.type", Type.ENUM, "none (nothing is posted)", List.of("github", "gitea")),
          key("forge.apiUrl", Type.STRING, "https://api.github.com for github; required for gitea"),
          key("forge.repository", Type.STRING, "(required with forge.type)"),
          key("forge.tokenFile", Type.PATH, "(required with forge.type)"),
          key("forge.context", Type.STRING, "klp-catalog"),
          key("retry.initial", Type.DURATION, "10s"),
          key("retry.max", Type.DURATION, "10m"),
          key("stateDir", Type.PATH, "/var/lib/klp-catalog"),
          key("suspend", Type.BOOL, "false"),
          new Key("log.format", Type.ENUM, "text", List.of("text", "json")),
          new Key(
              "log.level", Type.ENUM, "info", List.of("trace", "debug", "info", "warn", "error")),
          key("shutdownTimeout", Type.DURATION, "15m"));

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  /** The segment of a key that stands for a name chosen by whoever writes the configuration. */
  private static final String NAME = "<name>";

  /** A kernel provider's name, as catalogs write it in kernels[].provider. */
  private static final Pattern PROVIDER_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

  private static Key key(String path, Type type, String defaultText) {
    return new Key(path, type, defaultText, List.of());
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
    ConfigReader r = load(file);
    ServiceConfig config = r.build();
    if (!r.problems.isEmpty()) {
      throw new ConfigException(r.problems);
    }
    return config;
  }

  /**
   * The kernel providers of a configuration file, for the commands that provision kernels (build,
   * reconcile, qa): the whole file is checked for unknown keys, but only the kernels section is
   * read, so the keys only the service needs (source.url, ...) are not required.
   */
  public static KernelProviders kernelProviders(Path file) throws ConfigException {
    ConfigReader r = load(file);
    KernelProviders providers = r.kernels();
    if (!r.problems.isEmpty()) {
      throw new ConfigException(r.problems);
    }
    return providers;
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
        problems.add(
            file
                + ":"
                + m.line()
                + ":"
                + m.column()
                + ": "
                + prefix
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
        problems.add(
            file
                + ":"
                + m.line()
                + ":"
                + m.column()
                + ": "
                + path
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
    return string(key)
        .map(
            s -> {
              Path p =
                  s.startsWith("~/")
                      ? Path.of(System.getProperty("user.home"), s.substring(2))
                      : Path.of(s);
              return base.resolve(p).normalize();
            });
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
      d =
          d.plus(
              switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(v);
                case "s" -> Duration.ofSeconds(v);
                case "m" -> Duration.ofMinutes(v);
                case "h" -> Duration.ofHours(v);
                default -> Duration.ofDays(v);
              });
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

  private ServiceConfig build() {
    // The source.
    String url = required("source.url", string("source.url"));
    String branch = string("source.branch").orElse("main");
    if (!branch.matches("[A-Za-z0-9._/-]+") || branch.contains("..") || branch.startsWith("/")) {
      problem("source.branch", "source.branch: '" + branch + "' is not a branch name");
    }
    Duration interval = duration("source.interval").orElse(Duration.ofMinutes(1));
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
      problem("source.interval", "source.interval must be at least 1s");
    }
    Duration jitter = duration("source.jitter").orElse(interval.dividedBy(10));
    if (jitter.compareTo(interval) >= 0) {
      problem(
          "source.jitter",
          "source.jitter must be shorter than source.interval (" + interval.toSeconds() + "s)");
    }
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
    ServiceConfig.Source source =
        new ServiceConfig.Source(
            url,
            branch,
            string("source.path").orElse(""),
            interval,
            jitter,
            secret("source.tokenFile"),
            existing("source.sshKey"),
            existing("source.knownHosts"),
            bool("source.allowHistoryRewrite", false),
            keyring.map(k -> new ServiceConfig.Verify(k, fingerprints)));

    // The state directory, and what defaults to places inside it.
    Path stateDir = path("stateDir").orElse(Path.of("/var/lib/klp-catalog"));

    // The repository.
    Path repo = required("repository.path", path("repository.path"));
    ServiceConfig.Repository repository =
        new ServiceConfig.Repository(
            repo,
            string("repository.baseUrl"),
            integer("repository.keep", 1).orElse(10),
            duration("repository.lockWait").orElse(Duration.ofMinutes(10)));

    // Signing.
    Optional<String> keyId = string("signing.keyId");
    boolean unsigned = bool("signing.unsigned", false);
    if (keyId.isPresent() && unsigned) {
      problem(
          "signing.unsigned", "signing.unsigned and signing.keyId contradict each other; keep one");
    }
    ServiceConfig.Signing signing =
        new ServiceConfig.Signing(
            keyId,
            path("signing.gnupgHome").orElse(Path.of(System.getProperty("user.home"), ".gnupg")),
            unsigned);

    // Builds.
    ServiceConfig.Build build =
        new ServiceConfig.Build(
            integer("build.jobs", 1).orElse(Runtime.getRuntime().availableProcessors()),
            duration("build.timeout").orElse(Duration.ofMinutes(10)),
            path("build.cache").orElse(stateDir.resolve("cache")),
            bool("build.sandbox", true),
            bool("build.sourceChecks", true));

    // Patch QA.
    ServiceConfig.Qa qa =
        new ServiceConfig.Qa(
            bool("qa.enabled", true),
            integer("qa.vms", 1).orElse(0),
            integer("qa.vmMemory", 128).orElse(512),
            Vm.Accel.valueOf(choice("qa.accel").orElse("auto").toUpperCase(Locale.ROOT)),
            duration("qa.vmTimeout").orElse(Duration.ZERO),
            duration("qa.testTimeout").orElse(Duration.ofSeconds(60)));

    // The HTTP server.
    String listen = string("server.listen").orElse("127.0.0.1:8080");
    String host = "127.0.0.1";
    int port = 8080;
    Matcher lm = Pattern.compile("^(\\[[0-9a-fA-F:]+]|[A-Za-z0-9.-]*):(\\d{1,5})$").matcher(listen);
    if (lm.matches() && Integer.parseInt(lm.group(2)) <= 65535) {
      host = lm.group(1).isEmpty() ? "0.0.0.0" : lm.group(1).replaceAll("^\\[|]$", "");
      port = Integer.parseInt(lm.group(2));
    } else {
      problem(
          "server.listen",
          "server.listen: '" + listen + "' is not HOST:PORT (such as 127.0.0.1:8080 or :8080)");
    }
    Optional<String> adminToken = secret("server.adminTokenFile");
    if (adminToken.isPresent() && adminToken.get().length() < AdminToken.MIN_LENGTH) {
      problem(
          "server.adminTokenFile",
          "server.adminTokenFile: the token is shorter than "
              + AdminToken.MIN_LENGTH
              + " characters and could be guessed; put a random one in the file (openssl rand -hex"
              + " 32), or remove the key to have the service generate one");
    }
    Duration readTimeout = duration("server.readTimeout").orElse(Duration.ofSeconds(10));
    Duration requestTimeout = duration("server.requestTimeout").orElse(Duration.ofSeconds(30));
    if (readTimeout.compareTo(Duration.ofMillis(100)) < 0) {
      problem("server.readTimeout", "server.readTimeout must be at least 100ms");
    }
    if (requestTimeout.compareTo(Duration.ofMillis(100)) < 0) {
      problem("server.requestTimeout", "server.requestTimeout must be at least 100ms");
    }
    ServiceConfig.Server server =
        new ServiceConfig.Server(
            host,
            port,
            adminToken.isPresent() ? path("server.adminTokenFile") : Optional.empty(),
            adminToken,
            string("server.publicUrl").map(u -> u.replaceAll("/+$", "")),
            readTimeout,
            requestTimeout,
            integer("server.maxConnections", 4).orElse(64));

    ServiceConfig.Webhooks webhooks =
        new ServiceConfig.Webhooks(
            secret("webhooks.github.secretFile"),
            secret("webhooks.gitea.secretFile"),
            secret("webhooks.gitlab.tokenFile"));

    // The forge.
    Optional<ForgeConfig> forge = Optional.empty();
    Optional<String> type = choice("forge.type");
    if (type.isPresent()) {
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
      if (repoName != null && token != null) {
        String[] on = repoName.split("/");
        forge =
            Optional.of(
                new ForgeConfig(
                    kind,
                    api.orElse("https://api.github.com"),
                    on[0],
                    on[1],
                    token,
                    string("forge.context").orElse("klp-catalog")));
      }
    } else {
      for (String k :
          List.of("forge.apiUrl", "forge.repository", "forge.tokenFile", "forge.context")) {
        if (values.containsKey(k)) {
          problem(k, k + " has no effect without forge.type (github or gitea)");
        }
      }
    }

    Duration initial = duration("retry.initial").orElse(Duration.ofSeconds(10));
    Duration max = duration("retry.max").orElse(Duration.ofMinutes(10));
    if (initial.compareTo(max) > 0 || initial.isZero()) {
      problem(
          "retry.initial",
          "retry.initial must be more than 0 and at most retry.max (" + max.toSeconds() + "s)");
    }
    ServiceConfig.Log log =
        new ServiceConfig.Log(
            LogSetup.Format.valueOf(choice("log.format").orElse("text")),
            choice("log.level").orElse("info"));
    return new ServiceConfig(
        file.toAbsolutePath(),
        source,
        repository,
        signing,
        build,
        server,
        webhooks,
        forge,
        new ServiceConfig.Retry(initial, max),
        stateDir,
        bool("suspend", false),
        log,
        duration("shutdownTimeout").orElse(Duration.ofMinutes(15)),
        qa,
        kernels());
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
    Path p =
        base.resolve(
                text.startsWith("~/")
                    ? Path.of(System.getProperty("user.home"), text.substring(2))
                    : Path.of(text))
            .normalize();
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
}
