package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.net.URI;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.OpenPgpKeys;
import org.klpcatalog.kernel.ProviderSpec;
import org.klpcatalog.log.LogSetup;

class ConfigReaderTest {
  static final Path DOCS = Path.of("../docs");

  /**
   * The documented example configuration, with its /etc, /srv and /var paths moved into {@code
   * dir} (and the secret files it names created there), so it can be read for real.
   */
  static Path exampleConfig(Path dir) throws Exception {
    String text = Files.readString(DOCS.resolve("examples/klp-catalog.yaml"), StandardCharsets.UTF_8)
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
      Files.writeString(Path.of(keys.group(1)), OpenPgpKeys.armor(new byte[] {(byte) 0x99, 0, 1, 4}));
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
    assertThat(c.forge()).hasValueSatisfying(f -> {
      assertThat(f.type()).isEqualTo(ServiceConfig.Forge.Kind.github);
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
    ServiceConfig c = ConfigReader.read(write(tmp, "source:\n  url: git://127.0.0.1/catalog\nrepository:\n  path: repo\n"));
    assertThat(c.source().branch()).isEqualTo("main");
    assertThat(c.source().interval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.source().jitter()).isEqualTo(Duration.ofSeconds(6));
    assertThat(c.source().allowHistoryRewrite()).isFalse();
    assertThat(c.repository().path()).isEqualTo(tmp.resolve("repo"));
    assertThat(c.repository().keep()).isEqualTo(10);
    assertThat(c.server().host()).isEqualTo("127.0.0.1");
    assertThat(c.server().port()).isEqualTo(8080);
    assertThat(c.forge()).isEmpty();
    assertThat(c.retry()).isEqualTo(new ServiceConfig.Retry(Duration.ofSeconds(10), Duration.ofMinutes(10)));
    assertThat(c.stateDir()).isEqualTo(Path.of("/var/lib/klp-catalog"));
    assertThat(c.build().cache()).isEqualTo(Path.of("/var/lib/klp-catalog/cache"));
    assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofMinutes(15));
    assertThat(c.suspend()).isFalse();
  }

  @Test
  void everyProblemIsReportedAtOnceWithLineAndKey(@TempDir Path tmp) throws Exception {
    Path f = write(tmp, String.join("\n",
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
    assertThatThrownBy(() -> ConfigReader.read(f)).isInstanceOfSatisfying(ConfigException.class, e -> {
      List<String> p = e.problems();
      assertThat(p).contains(f + ":3:3: source.intervall: unknown key (did you mean 'interval'?)");
      assertThat(p).contains(f + ":18:1: sourse: unknown key (did you mean 'source'?)");
      assertThat(p).anySatisfy(s -> assertThat(s).startsWith(f + ":4:11: source.jitter: '5 minutes' is not a duration"));
      assertThat(p).contains(f + ":7:9: repository.keep must be a whole number of at least 1, not 'ten'");
      assertThat(p).anySatisfy(s -> assertThat(s).startsWith(f + ":9:11: server.listen: 'localhost' is not HOST:PORT"));
      assertThat(p).contains(f + ":11:9: forge.type must be one of github, gitea, not 'gitlab'");
      assertThat(p).anySatisfy(s -> assertThat(s).contains(":13:12: retry.initial must be more than 0 and at most retry.max"));
      assertThat(p).anySatisfy(s -> assertThat(s).contains(":17:13: signing.unsigned and signing.keyId contradict"));
      assertThat(p).hasSize(8);
    });
  }

  @Test
  void requiredKeysAndUnreadableSecretsAreNamed(@TempDir Path tmp) throws Exception {
    Path f = write(tmp, "source:\n  tokenFile: missing-token\nforge:\n  type: github\n  repository: not a repo\n");
    assertThatThrownBy(() -> ConfigReader.read(f)).isInstanceOfSatisfying(ConfigException.class, e -> {
      assertThat(e.problems()).anySatisfy(s -> assertThat(s).contains("source.url is required"));
      assertThat(e.problems()).anySatisfy(s -> assertThat(s).contains("repository.path is required"));
      assertThat(e.problems()).anySatisfy(s -> assertThat(s).contains("source.tokenFile: cannot read "
          + tmp.resolve("missing-token")));
      assertThat(e.problems()).anySatisfy(s -> assertThat(s).contains("forge.repository: 'not a repo' is not OWNER/NAME"));
      assertThat(e.problems()).anySatisfy(s -> assertThat(s).contains("forge.tokenFile is required"));
    });
  }

  @Test
  void aBrokenFileIsReportedWhereItBreaks(@TempDir Path tmp) throws Exception {
    Path f = write(tmp, "source:\n  url: [unclosed\n");
    assertThatThrownBy(() -> ConfigReader.read(f)).isInstanceOfSatisfying(ConfigException.class,
        e -> assertThat(e.problems()).singleElement().asString().startsWith(f + ":3:"));
    Path list = write(tmp, "- source\n");
    assertThatThrownBy(() -> ConfigReader.read(list)).isInstanceOfSatisfying(ConfigException.class,
        e -> assertThat(e.problems()).singleElement().asString().contains("must be a mapping"));
  }
}
