package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.OpenPgpKeys;
import org.klpcatalog.kernel.ProviderSpec;
import org.klpcatalog.log.LogSetup;
import org.klpcatalog.service.forge.ForgeConfig;

class ConfigReaderTest {
  static final Path DOCS = Path.of("../docs");

  /**
   * The documented example configuration, with its /etc, /srv and /var paths moved into {@code dir}
   * (and the secret files it names created there), so it can be read for real.
   */
  static Path exampleConfig(Path dir) throws Exception {
    String text =
        Files.readString(DOCS.resolve("examples/klp-catalog.yaml"), StandardCharsets.UTF_8)
            .replace("/etc/klp-catalog/", dir.resolve("etc") + "/")
            .replace("/srv/livepatch/", dir.resolve("srv") + "/")
            .replace("/var/lib/klp-catalog", dir.resolve("state").toString());
    Files.createDirectories(dir.resolve("etc"));
    Matcher m = Pattern.compile("(?m)^\\s*\\w+File: (\\S+)$").matcher(text);
    while (m.find()) {
      Files.writeString(Path.of(m.group(1)), "secret-" + Path.of(m.group(1)).getFileName() + "\n");
    }
    Matcher keys = Pattern.compile("(?m)^\\s*gpgKeys: \\[(\\S+)]").matcher(text);
    while (keys.find()) {
      Files.writeString(
          Path.of(keys.group(1)), OpenPgpKeys.armor(new byte[] {(byte) 0x99, 0, 1, 4}));
    }
    Path file = dir.resolve("etc/klp-catalog.yaml");
    Files.writeString(file, text);
    return file;
  }

  private static Path write(Path dir, String yaml) throws Exception {
    Path f = dir.resolve("config.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void theDocumentedExampleIsAValidConfiguration(@TempDir Path tmp) throws Exception {
    ServiceConfig c = ConfigReader.read(exampleConfig(tmp));
    assertThat(c.source().url()).isEqualTo("https://git.example.org/livepatch/catalog.git");
    assertThat(c.source().interval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.source().jitter()).isEqualTo(Duration.ofSeconds(6));
    assertThat(c.source().token()).contains("secret-git-token");
    assertThat(c.repository().path()).isEqualTo(tmp.resolve("srv/repo"));
    assertThat(c.signing().keyId()).contains("0123456789ABCDEF0123456789ABCDEF01234567");
    assertThat(c.webhooks().githubSecret()).contains("secret-webhook-secret");
    assertThat(c.server().adminToken()).contains("secret-admin-token");
    assertThat(c.server().readTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.server().requestTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.forge())
        .hasValueSatisfying(
            f -> {
              assertThat(f.type()).isEqualTo(ForgeConfig.Kind.github);
              assertThat(f.apiUrl()).isEqualTo("https://api.github.com");
              assertThat(f.owner() + "/" + f.repo()).isEqualTo("livepatch/catalog");
            });
    assertThat(c.log().format()).isEqualTo(LogSetup.Format.json);
    assertThat(c.stateDir()).isEqualTo(tmp.resolve("state"));
    assertThat(c.kernels().byName()).containsOnlyKeys("debian", "el9");
  }

  @Test
  void everyKeyIsDocumentedWithItsDefaultAndNothingElseIs() throws Exception {
    String doc = Files.readString(DOCS.resolve("configuration.md"), StandardCharsets.UTF_8);
    Map<String, String> documented = new LinkedHashMap<>();
    Matcher m = Pattern.compile("(?m)^\\| `([A-Za-z.<>]+)` \\| ([^|]+) \\|").matcher(doc);
    while (m.find()) {
      documented.put(m.group(1), m.group(2).strip());
    }
    Map<String, String> declared = new LinkedHashMap<>();
    ConfigReader.KEYS.forEach(k -> declared.put(k.path(), k.defaultText()));
    assertThat(documented).containsExactlyInAnyOrderEntriesOf(declared);
  }

  @Test
  void aMinimalConfigurationGetsTheDocumentedDefaults(@TempDir Path tmp) throws Exception {
    ServiceConfig c =
        ConfigReader.read(
            write(tmp, "source:\n  url: git://127.0.0.1/catalog\nrepository:\n  path: repo\n"));
    assertThat(c.source().branch()).isEqualTo("main");
    assertThat(c.source().interval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.source().jitter()).isEqualTo(Duration.ofSeconds(6));
    assertThat(c.source().allowHistoryRewrite()).isFalse();
    assertThat(c.repository().path()).isEqualTo(tmp.resolve("repo"));
    assertThat(c.repository().keep()).isEqualTo(10);
    assertThat(c.server().host()).isEqualTo("127.0.0.1");
    assertThat(c.server().port()).isEqualTo(8080);
    assertThat(c.server().adminTokenFile()).isEmpty();
    assertThat(c.server().adminToken()).isEmpty();
    assertThat(c.server().readTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.server().requestTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.server().maxConnections()).isEqualTo(64);
    assertThat(c.forge()).isEmpty();
    assertThat(c.retry())
        .isEqualTo(new ServiceConfig.Retry(Duration.ofSeconds(10), Duration.ofMinutes(10)));
    assertThat(c.stateDir()).isEqualTo(Path.of("/var/lib/klp-catalog"));
    assertThat(c.build().cache()).isEqualTo(Path.of("/var/lib/klp-catalog/cache"));
    assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofMinutes(15));
    assertThat(c.suspend()).isFalse();
  }

  @Test
  void everyProblemIsReportedAtOnceWithLineAndKey(@TempDir Path tmp) throws Exception {
    Path f =
        write(
            tmp,
            String.join(
                "\n",
                "source:",
                "  url: git://127.0.0.1/catalog",
                "  intervall: 5m",
                "  jitter: 5 minutes",
                "repository:",
                "  path: repo",
                "  keep: ten",
                "server:",
                "  listen: localhost",
                "forge:",
                "  type: gitlab",
                "retry:",
                "  initial: 20m",
                "  max: 10m",
                "signing:",
                "  keyId: ABC",
                "  unsigned: true",
                "sourse: {}",
                ""));
    assertThatThrownBy(() -> ConfigReader.read(f))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              List<String> p = e.problems();
              assertThat(p)
                  .contains(f + ":3:3: source.intervall: unknown key (did you mean 'interval'?)");
              assertThat(p).contains(f + ":18:1: sourse: unknown key (did you mean 'source'?)");
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .startsWith(
                                  f + ":4:11: source.jitter: '5 minutes' is not a duration"));
              assertThat(p)
                  .contains(
                      f + ":7:9: repository.keep must be a whole number of at least 1, not 'ten'");
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .startsWith(
                                  f + ":9:11: server.listen: 'localhost' is not HOST:PORT"));
              assertThat(p)
                  .contains(f + ":11:9: forge.type must be one of github, gitea, not 'gitlab'");
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .contains(
                                  ":13:12: retry.initial must be more than 0 and at most"
                                      + " retry.max"));
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .contains(":17:13: signing.unsigned and signing.keyId contradict"));
              assertThat(p).hasSize(8);
            });
  }

  @Test
  void theServersLimitsAndAdminTokenAreReadAndAGuessableTokenIsRefused(@TempDir Path tmp)
      throws Exception {
    Files.writeString(tmp.resolve("admin-token"), "0123456789abcdef0123\n");
    ServiceConfig c =
        ConfigReader.read(
            write(
                tmp,
                "source:\n"
                    + "  url: git://h/c\n"
                    + "repository:\n"
                    + "  path: r\n"
                    + "server:\n"
                    + "  adminTokenFile: admin-token\n"
                    + "  readTimeout: 500ms\n"
                    + "  requestTimeout: 1m\n"
                    + "  maxConnections: 8\n"));
    assertThat(c.server().adminTokenFile()).contains(tmp.resolve("admin-token"));
    assertThat(c.server().adminToken()).contains("0123456789abcdef0123");
    assertThat(c.server().readTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.server().requestTimeout()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.server().maxConnections()).isEqualTo(8);

    Files.writeString(tmp.resolve("admin-token"), "letmein\n");
    Path f =
        write(
            tmp,
            "source:\n"
                + "  url: git://h/c\n"
                + "repository:\n"
                + "  path: r\n"
                + "server:\n"
                + "  adminTokenFile: admin-token\n"
                + "  readTimeout: 0s\n"
                + "  requestTimeout: 10ms\n"
                + "  maxConnections: 1\n");
    assertThatThrownBy(() -> ConfigReader.read(f))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.problems())
                  .anySatisfy(
                      p ->
                          assertThat(p)
                              .startsWith(
                                  f
                                      + ":6:19: server.adminTokenFile: the token is"
                                      + " shorter than 16 characters"));
              assertThat(e.problems())
                  .contains(f + ":7:16: server.readTimeout must be at least 100ms");
              assertThat(e.problems())
                  .contains(f + ":8:19: server.requestTimeout must be at least 100ms");
              assertThat(e.problems())
                  .contains(
                      f
                          + ":9:19: server.maxConnections must be a whole number of at least 4, not"
                          + " '1'");
              assertThat(e.problems()).hasSize(4);
            });
  }

  @Test
  void requiredKeysAndUnreadableSecretsAreNamed(@TempDir Path tmp) throws Exception {
    Path f =
        write(
            tmp,
            "source:\n"
                + "  tokenFile: missing-token\n"
                + "forge:\n"
                + "  type: github\n"
                + "  repository: not a repo\n");
    assertThatThrownBy(() -> ConfigReader.read(f))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.problems())
                  .anySatisfy(s -> assertThat(s).contains("source.url is required"));
              assertThat(e.problems())
                  .anySatisfy(s -> assertThat(s).contains("repository.path is required"));
              assertThat(e.problems())
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .contains(
                                  "source.tokenFile: cannot read " + tmp.resolve("missing-token")));
              assertThat(e.problems())
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .contains("forge.repository: 'not a repo' is not OWNER/NAME"));
              assertThat(e.problems())
                  .anySatisfy(s -> assertThat(s).contains("forge.tokenFile is required"));
            });
  }

  @Test
  void aClusterSectionMakesAReplicaAndWithoutItThereIsNone(@TempDir Path tmp) throws Exception {
    String base = "source:\n  url: git://127.0.0.1/catalog\nrepository:\n  path: repo\n";
    assertThat(ConfigReader.read(write(tmp, base)).cluster()).isEmpty();
    Files.writeString(tmp.resolve("db-password"), "s3cret\n");
    ServiceConfig c =
        ConfigReader.read(
            write(
                tmp,
                base
                    + "cluster:\n"
                    + "  url: jdbc:postgresql://db.example.org:5432/klp\n"
                    + "  user: klp\n"
                    + "  passwordFile: db-password\n"
                    + "  checkinInterval: 5s\n"
                    + "  replica: build-03\n"
                    + "  store: store\n"));
    ServiceConfig.Cluster cl = c.cluster().orElseThrow();
    assertThat(cl.url()).isEqualTo("jdbc:postgresql://db.example.org:5432/klp");
    assertThat(cl.user()).isEqualTo("klp");
    assertThat(cl.password()).isEqualTo("s3cret");
    assertThat(cl.checkin()).isEqualTo(Duration.ofSeconds(5));
    assertThat(cl.replica()).isEqualTo("build-03");
    assertThat(cl.store()).isEqualTo(tmp.resolve("store"));
    assertThat(cl.toString()).doesNotContain("s3cret");
    // Defaults: a check-in every 15 s, the replica named after the host and port.
    ServiceConfig d =
        ConfigReader.read(
            write(
                tmp,
                base
                    + "server:\n  listen: 127.0.0.1:8081\n"
                    + "cluster:\n  url: jdbc:postgresql://db/klp\n  user: klp\n"
                    + "  passwordFile: db-password\n  store: store\n"));
    assertThat(d.cluster().orElseThrow().checkin()).isEqualTo(Duration.ofSeconds(15));
    assertThat(d.cluster().orElseThrow().replica()).endsWith("-8081");
  }

  @Test
  void aBadClusterSectionIsNamedKeyByKey(@TempDir Path tmp) throws Exception {
    String base = "source:\n  url: git://127.0.0.1/catalog\nrepository:\n  path: repo\n";
    Path f =
        write(
            tmp,
            base
                + "cluster:\n"
                + "  url: postgres://db/klp\n"
                + "  passwordFile: missing\n"
                + "  checkinInterval: 500ms\n"
                + "  replica: 'two words'\n");
    assertThatThrownBy(() -> ConfigReader.read(f))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(String.join("\n", e.problems()))
                    .contains("cluster.url: 'postgres://db/klp' is not a PostgreSQL JDBC URL")
                    .contains("cluster.user is required")
                    .contains("cluster.passwordFile: cannot read " + tmp.resolve("missing"))
                    .contains("cluster.checkinInterval must be at least 1s")
                    .contains("cluster.replica: 'two words' is not a replica id")
                    .contains("cluster.store is required"));
    Path orphan = write(tmp, base + "cluster:\n  store: store\n");
    assertThatThrownBy(() -> ConfigReader.read(orphan))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .asString()
                    .contains("cluster.store has no effect without cluster.url"));
  }

  @Test
  void aBrokenFileIsReportedWhereItBreaks(@TempDir Path tmp) throws Exception {
    Path f = write(tmp, "source:\n  url: [unclosed\n");
    assertThatThrownBy(() -> ConfigReader.read(f))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> assertThat(e.problems()).singleElement().asString().startsWith(f + ":3:"));
    Path list = write(tmp, "- source\n");
    assertThatThrownBy(() -> ConfigReader.read(list))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> assertThat(e.problems()).singleElement().asString().contains("must be a mapping"));
  }

  /** An OpenPGP public key file as far as the configuration checks it (its framing). */
  private static Path keyFile(Path dir, String name) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, OpenPgpKeys.armor(new byte[] {(byte) 0x99, 0, 1, 4}));
    return f;
  }

  @Test
  void kernelProvidersAreReadWithTheBuiltInDebian(@TempDir Path tmp) throws Exception {
    keyFile(tmp, "RPM-GPG-KEY-el9");
    Files.writeString(tmp.resolve("apt.conf"), "Dir::Etc::SourceList \"sources.list\";\n");
    Path f =
        write(
            tmp,
            String.join(
                "\n",
                "source:",
                "  url: git://127.0.0.1/catalog",
                "repository:",
                "  path: repo",
                "kernels:",
                "  providers:",
                "    el9:",
                "      type: rpm-repo",
                "      url: https://mirror.example.org/el9/BaseOS/x86_64/os/",
                "      gpgKeys: [RPM-GPG-KEY-el9]",
                "    local:",
                "      type: rpm-repo",
                "      url: http://127.0.0.1:8081/el9/",
                "      gpgKeys: [" + tmp.resolve("RPM-GPG-KEY-el9") + "]",
                "      allowHttp: true",
                "    bookworm:",
                "      type: debian",
                "      aptConfig: apt.conf",
                ""));
    KernelProviders p = ConfigReader.read(f).kernels();
    assertThat(p.byName()).containsOnlyKeys("debian", "el9", "local", "bookworm");
    assertThat(p.get("debian")).contains(new ProviderSpec.Debian("debian"));
    assertThat(p.get("el9"))
        .contains(
            new ProviderSpec.RpmRepo(
                "el9",
                URI.create("https://mirror.example.org/el9/BaseOS/x86_64/os/"),
                List.of(tmp.resolve("RPM-GPG-KEY-el9")),
                false));
    assertThat(p.get("local"))
        .hasValueSatisfying(l -> assertThat(((ProviderSpec.RpmRepo) l).allowHttp()).isTrue());
    assertThat(p.get("bookworm"))
        .contains(new ProviderSpec.Debian("bookworm", Optional.of(tmp.resolve("apt.conf"))));
    // The commands that provision kernels read the same file; without any, only debian exists.
    assertThat(ConfigReader.kernelProviders(f)).isEqualTo(p);
    assertThat(
            ConfigReader.read(
                    write(tmp, "source:\n  url: git://127.0.0.1/c\nrepository:\n  path: r\n"))
                .kernels())
        .isEqualTo(KernelProviders.builtIn());
  }

  @Test
  void theCommandsNeedOnlyTheKernelsSection(@TempDir Path tmp) throws Exception {
    keyFile(tmp, "key.asc");
    Path f =
        write(
            tmp,
            "kernels:\n"
                + "  providers:\n"
                + "    el9: {type: rpm-repo, url: 'file:///srv/el9/', gpgKeys: [key.asc]}\n");
    assertThat(ConfigReader.kernelProviders(f).byName()).containsOnlyKeys("debian", "el9");
    // The service needs its own keys, and a misspelt key is an error for everyone.
    assertThatThrownBy(() -> ConfigReader.read(f))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .anySatisfy(s -> assertThat(s).contains("source.url is required")));
    Path list = write(tmp, "kernels:\n  providers: [el9]\n");
    assertThatThrownBy(() -> ConfigReader.kernelProviders(list))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        list
                            + ":2:14: kernels.providers must be a mapping of keys, such as"
                            + " a name of your choice with its keys (type, url, gpgKeys, ...)"));
    Path typo = write(tmp, "kernels:\n  provider:\n    el9: {type: debian}\n");
    assertThatThrownBy(() -> ConfigReader.kernelProviders(typo))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        typo + ":2:3: kernels.provider: unknown key (did you mean 'providers'?)"));
  }

  @Test
  void kernelProviderProblemsAreReportedWithLineAndKey(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve("not-a-key"), "hello\n");
    keyFile(tmp, "key.asc");
    Path f =
        write(
            tmp,
            String.join(
                "\n",
                "kernels:",
                "  providers:",
                "    el8:",
                "      type: yum",
                "    el9:",
                "      type: rpm-repo",
                "    el10:",
                "      type: rpm-repo",
                "      url: http://mirror.example.org/el10/",
                "      gpgKeys: [missing.asc, not-a-key]",
                "    apt:",
                "      type: debian",
                "      url: https://deb.example.org/",
                "    Bad.Name:",
                "      type: debian",
                "    el7:",
                "      type: rpm-repo",
                "      urll: https://mirror.example.org/el7/",
                "      url: ftp://mirror.example.org/el7/",
                "      gpgKeys: [key.asc]",
                "    trixie:",
                "      type: debian",
                "      aptConfig: no-such-apt.conf",
                ""));
    assertThatThrownBy(() -> ConfigReader.kernelProviders(f))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              List<String> p = e.problems();
              assertThat(p)
                  .contains(
                      f
                          + ":4:13: kernels.providers.el8.type must be one of debian, rpm-repo, not"
                          + " 'yum'");
              assertThat(p)
                  .contains(
                      f
                          + ":6:7: kernels.providers.el9.url is required for type rpm-repo: the yum"
                          + " repository holding kernel-devel and kernel-core (the directory with"
                          + " repodata/)");
              assertThat(p)
                  .contains(
                      f
                          + ":6:7: kernels.providers.el9.gpgKeys is required for type rpm-repo:"
                          + " list the OpenPGP public key files its repomd.xml and packages are"
                          + " signed with");
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .startsWith(
                                  f
                                      + ":9:12: kernels.providers.el10.url:"
                                      + " 'http://mirror.example.org/el10/' is plain http://; use"
                                      + " https://, or set allowHttp: true"));
              assertThat(p)
                  .contains(
                      f
                          + ":10:17: kernels.providers.el10.gpgKeys[0]: cannot read "
                          + tmp.resolve("missing.asc")
                          + " (NoSuchFileException: "
                          + tmp.resolve("missing.asc")
                          + ")");
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .startsWith(
                                  f
                                      + ":10:30: kernels.providers.el10.gpgKeys[1]: "
                                      + tmp.resolve("not-a-key")
                                      + " is not an OpenPGP public key file: it holds no OpenPGP"
                                      + " public key"));
              assertThat(p)
                  .contains(
                      f
                          + ":13:12: kernels.providers.apt.url has no effect for type debian: apt's"
                          + " configuration (the machine's, or aptConfig) decides where Debian"
                          + " packages come from and which keys sign them");
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .startsWith(
                                  f + ":14:5: kernels.providers: 'Bad.Name' is not a name"));
              assertThat(p)
                  .contains(
                      f + ":18:7: kernels.providers.el7.urll: unknown key (did you mean 'url'?)");
              assertThat(p)
                  .anySatisfy(
                      s ->
                          assertThat(s)
                              .startsWith(
                                  f
                                      + ":19:12: kernels.providers.el7.url:"
                                      + " 'ftp://mirror.example.org/el7/' is not an https:// (or"
                                      + " file://) URL of a yum repository"));
              assertThat(p)
                  .contains(
                      f
                          + ":23:18: kernels.providers.trixie.aptConfig: cannot read "
                          + tmp.resolve("no-such-apt.conf"));
              assertThat(p).hasSize(11);
            });
  }
}
