package org.klpcatalog.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.exec.Command;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.repo.FixturePublisher;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.rpm.HostTool;
import org.klpcatalog.testing.ExampleCatalogs;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The host side against the real client: the controller publishes the example catalog (two kernels)
 * with its host tool package; a host configured with nothing but the published .repo file (and a
 * stand-in base system) runs Debian's dnf with the plugin taken from the published package's own
 * files, in an empty installroot whose kernels are stand-in packages providing {@code
 * kernel-uname-r}, and whose /sys and /proc are directories.
 */
class HostToolIT {
  static final String RUNNING = "6.1.0-50-amd64";
  static final String OTHER = "6.1.0-56-amd64";

  @TempDir static Path shared;

  /** What reconcile printed when it published the example catalog. */
  static CliRunner.Run published;

  /** The published repository's current version. */
  static Path current;

  /** The published host tool package, and its files unpacked. */
  static Path tool;

  static Path files;

  @BeforeAll
  static void publishTheExampleCatalog() throws Exception {
    ExampleCatalogs.requireBuildTools();
    Tools.require("dnf");
    Tools.require("rpm2cpio");
    Tools.require("cpio");
    CatalogTree catalog = ExampleCatalogs.twoKernels();
    Path dir = shared.resolve("catalog");
    Path repo = shared.resolve("repo");
    Fixtures.write(catalog, dir);
    published = PublishIT.reconcile(dir, repo, ExampleCatalogs.cache(shared.resolve("cache")));
    assertThat(published.exitCode()).as(published.out() + published.err()).isZero();
    current = repo.resolve("current");
    tool = current.resolve(HostPackage.NAME + "-1.0-1.noarch.rpm");
    assertThat(tool).isRegularFile();
    files = shared.resolve("tool-files");
    Files.createDirectories(files);
    Command.of("sh", "-c", "rpm2cpio \"$1\" | cpio -idm --quiet", "sh", tool.toString())
        .in(files)
        .check();
  }

  /** A host with the published .repo file and the base system, and the published plugin. */
  private static Host host(Path dir, Path runtime) throws Exception {
    return new Host(
        dir,
        current.resolve("debian12-example.repo"),
        runtime,
        files.resolve("usr/share/dnf-plugin-livepatch"),
        Files.readString(files.resolve("etc/dnf/plugins/livepatch.conf")));
  }

  @Test
  void aHostWithOnlyTheRepoFileInstallsExactlyWhatItsKernelsNeedAndStatusTellsTheTruth(
      @TempDir Path tmp) throws Exception {
    // The host tool is published beside the patches, signed, outside the group.
    assertThat(published.out()).contains("host tool " + HostPackage.NAME + "-1.0-1.noarch");
    Path db = tmp.resolve("rpmdb");
    Files.createDirectories(db);
    Command.of("rpm", "--dbpath", db.toString(), "--import", key(current)).check();
    assertThat(Command.of("rpm", "--dbpath", db.toString(), "-K", tool.toString()).check())
        .endsWith(": digests signatures OK\n");
    assertThat(Files.readString(current.resolve("comps.xml"))).doesNotContain(HostPackage.NAME);
    assertThat(query(tool, "--provides")).contains("dnf-command(livepatch)");

    // What each published package serves and fixes, read from the packages themselves.
    Set<String> servingRunning = new TreeSet<>();
    Set<String> servingOther = new TreeSet<>();
    String cveFixed = null;
    String cvePackage = null;
    for (Path rpm : rpms(current)) {
      String provides = query(rpm, "--provides");
      String name = query(rpm, "--qf", "%{NAME}").strip();
      if (provides.contains("kpatch-kernel(" + RUNNING + ")")) {
        servingRunning.add(name);
      }
      if (provides.contains("kpatch-kernel(" + OTHER + ")")) {
        servingOther.add(name);
      }
      for (String line : provides.lines().toList()) {
        // A CVE fixed on the running kernel, so status must list it there.
        if (cveFixed == null
            && line.startsWith("kpatch-cve(")
            && provides.contains("kpatch-kernel(" + RUNNING + ")")) {
          cveFixed = line.strip();
          cvePackage = name;
        }
      }
    }
    assertThat(servingRunning).isNotEmpty();
    assertThat(servingOther).isNotEmpty();
    assertThat(cveFixed).as("a CVE capability").isNotNull();

    // The plugin and its configuration, as the published package installs them.
    assertThat(files.resolve("usr/share/dnf-plugin-livepatch/livepatch.py")).isRegularFile();
    Path runtime = HostFixtures.runtimeRepository(tmp.resolve("runtime"));
    Host host = host(tmp.resolve("host"), runtime);

    // The running kernel (a Debian release is no rpm version, so no package provides it as
    // kernel-uname-r; auto mode with installed kernel packages is host/run-tests' part): install
    // takes exactly what serves it.
    host.ok("install", HostPackage.NAME);
    host.ok("livepatch", "install");
    assertThat(host.livepatches()).isEqualTo(servingRunning);
    // A second install has nothing to add.
    host.ok("livepatch", "install");
    assertThat(host.livepatches()).isEqualTo(servingRunning);

    // Another kernel, named: its packages join.
    host.ok("livepatch", "install", "--kernel", OTHER);
    Set<String> both = new TreeSet<>(servingRunning);
    both.addAll(servingOther);
    assertThat(host.livepatches()).isEqualTo(both);

    // Status: one patch live, another installed but not loaded, one nobody accounts for.
    List<String> running = new ArrayList<>(servingRunning);
    String liveModule = module(host, running.get(0));
    host.loaded(liveModule, 1, 0);
    host.loaded("kpatch_rogue", 1, 0);
    Command.Result status = host.run("livepatch", "status", "--json");
    assertThat(status.exitCode()).as(status.output()).isEqualTo(running.size() > 1 ? 2 : 0);
    JsonNode report = JsonMapper.builder().build().readTree(jsonPart(status.output()));
    assertThat(report.get("format").intValue()).isEqualTo(1);
    assertThat(report.get("running_kernel").stringValue()).isEqualTo(RUNNING);
    JsonNode first = report.get("kernels").get(0);
    assertThat(first.get("release").stringValue()).isEqualTo(RUNNING);
    assertThat(first.get("running").booleanValue()).isTrue();
    List<String> live = new ArrayList<>();
    List<String> notLoaded = new ArrayList<>();
    for (JsonNode p : first.get("packages")) {
      ("live".equals(p.get("state").stringValue()) ? live : notLoaded)
          .add(p.get("name").stringValue());
      assertThat(p.get("module_present").booleanValue()).isTrue();
    }
    assertThat(live).containsExactly(running.get(0));
    assertThat(notLoaded).containsExactlyElementsOf(running.subList(1, running.size()));
    assertThat(report.get("unknown").get(0).get("module").stringValue()).isEqualTo("kpatch_rogue");
    // Packages serving only the other kernel, which is not installed here, are unused.
    Set<String> unused = new TreeSet<>(servingOther);
    unused.removeAll(servingRunning);
    Set<String> reportedUnused = new TreeSet<>();
    report.get("unused").forEach(u -> reportedUnused.add(u.get("name").stringValue()));
    assertThat(reportedUnused).isEqualTo(unused);
    String id = cveFixed.substring("kpatch-cve(".length(), cveFixed.length() - 1);
    assertThat(first.get("cves").toString()).contains(id);
    // Every patch live: the monitoring exit code says so.
    for (String p : running.subList(1, running.size())) {
      host.loaded(module(host, p), 1, 0);
    }
    assertThat(host.run("livepatch", "status").exitCode()).isZero();

    // The capabilities work with plain dnf, without the plugin.
    Command.Result who = host.run("--noplugins", "repoquery", "--whatprovides", cveFixed);
    assertThat(who.exitCode()).as(who.output()).isZero();
    assertThat(who.output()).contains(cvePackage);
    Host plain = host(tmp.resolve("plain"), runtime);
    Command.Result byKernel = plain.run("--noplugins", "install", "kpatch-kernel(" + OTHER + ")");
    assertThat(byKernel.exitCode()).as(byKernel.output()).isZero();
    assertThat(plain.livepatches()).hasSize(1).allMatch(servingOther::contains);
  }

  @Test
  void aKernelNoPackageServesAndAHostWithoutRepositoryGetClearErrors(@TempDir Path tmp)
      throws Exception {
    Host host = host(tmp.resolve("host"), HostFixtures.runtimeRepository(tmp.resolve("runtime")));
    Command.Result unknown = host.run("livepatch", "install", "--kernel", "6.1.0-99-amd64");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.output()).contains("6.1.0-99-amd64").contains(RUNNING);
    assertThat(host.livepatches()).isEmpty();

    Host bare =
        new Host(
            tmp.resolve("bare"),
            null,
            null,
            files.resolve("usr/share/dnf-plugin-livepatch"),
            Files.readString(files.resolve("etc/dnf/plugins/livepatch.conf")));
    Command.Result none = bare.run("livepatch", "install");
    assertThat(none.exitCode()).isEqualTo(1);
    assertThat(none.output()).contains("/etc/yum.repos.d");
  }

  /**
   * The package's scriptlets on this machine's real dnf, with dnf's plugin directory a tmpfs of a
   * bubblewrap namespace: %post links the plugin where dnf looks for it, %preun on erase removes
   * the link.
   */
  @Test
  void theScriptletsLinkThePluginIntoDnfsOwnPluginDirectoryAndRemoveIt(@TempDir Path tmp)
      throws Exception {
    Tools.require("bwrap");
    HostTool tool = HostTool.bundled();
    HostPackage.Placed placed = tool.place(ReleaseLedger.EMPTY, ReleaseLedger.EMPTY);
    Path rpm =
        tool.build(placed.pkg(), tmp.resolve("work"), tmp.resolve("out"), 0, Duration.ofMinutes(2));
    String scripts = query(rpm, "--scripts");
    String post = section(scripts, "postinstall scriptlet");
    String preun = section(scripts, "preuninstall scriptlet");
    String pluginPath =
        Command.of(
                "sh",
                "-c",
                "exec \"$(sed -n '1s/^#! *//p' /usr/bin/dnf)\" -c"
                    + " 'import dnf.const; print(dnf.const.PLUGINPATH)'")
            .check()
            .strip();
    Command.Result r =
        Command.of(
                "bwrap",
                "--dev-bind",
                "/",
                "/",
                "--tmpfs",
                pluginPath,
                "--",
                "sh",
                "-c",
                // install; upgrade (the new %post, then the old %preun with 1); erase; and a
                // livepatch.py of another package, which %post leaves alone.
                "sh -c \"$1\" sh 1 && readlink \"$3/livepatch.py\""
                    + " && sh -c \"$1\" sh 2 && sh -c \"$2\" sh 1 && readlink \"$3/livepatch.py\""
                    + " && sh -c \"$2\" sh 0 && ls -A \"$3\" && echo erased"
                    + " && echo other > \"$3/livepatch.py\" && sh -c \"$1\" sh 1 2>&1"
                    + " && cat \"$3/livepatch.py\"",
                "sh",
                post,
                preun,
                pluginPath)
            .run();
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .isEqualTo(
            "/usr/share/dnf-plugin-livepatch/livepatch.py\n"
                + "/usr/share/dnf-plugin-livepatch/livepatch.py\n"
                + "erased\n"
                + "python3-dnf-plugin-livepatch: "
                + pluginPath
                + "/livepatch.py is another plugin's file; left alone\n"
                + "other\n");
  }

  /**
   * A host tool that fails to build never holds the patches back: on a first publication it is left
   * out, later the repository keeps the one it has (degraded).
   */
  @Test
  void aHostToolThatFailsToBuildIsLeftOutOrKeptAndThePatchesArePublished(@TempDir Path tmp)
      throws Exception {
    CatalogTree tree = new DirectoryTreeReader().read(Fixtures.base());
    DesiredStateBuilder.Result d =
        DesiredStateBuilder.build(
            new CatalogValidator().validate(tree), tree, ReleaseLedger.EMPTY, Optional.empty());
    HostTool v1 = HostTool.of("1.0", hostFiles("one"));
    HostPackage.Placed h1 = v1.place(ReleaseLedger.EMPTY, d.ledger());
    DesiredState wanted = d.state().withHostTool(h1.pkg());
    Publisher.Options options =
        new Publisher.Options(10, Optional.empty(), Optional.empty(), 0, Duration.ofMinutes(2));
    Path repo = tmp.resolve("repo");

    // The patches were built (stand-ins with their NEVRAs); the host tool was not.
    Path scratch = FixturePublisher.publish(d.state(), d.ledger(), tmp.resolve("scratch"), "1");
    List<Path> patches = new ArrayList<>();
    try (Stream<Path> s = Files.list(scratch)) {
      s.filter(f -> f.toString().endsWith(".x86_64.rpm")).sorted().forEach(patches::add);
    }
    Publisher.Result first =
        Publisher.publish(
            repo,
            Planner.plan(wanted, ObservedState.EMPTY),
            new PackageBuild.Result(patches, List.of(), List.of(), true, patches.size()),
            h1.ledger(),
            options);
    assertThat(first.version()).contains("1");
    assertThat(first.published()).hasSize(2);
    assertThat(first.leftOut())
        .extracting(Publisher.LeftOut::nevra)
        .containsExactly(h1.pkg().nevra());

    // Built at the next reconcile: added, the patches carried over.
    Path rpm =
        v1.build(h1.pkg(), tmp.resolve("work"), tmp.resolve("out"), 0, Duration.ofMinutes(2));
    ObservedState one = RepositoryReader.read(repo);
    Publisher.Result second =
        Publisher.publish(
            repo,
            Planner.plan(wanted, one),
            new PackageBuild.Result(List.of(rpm), List.of(), List.of(), true, 1),
            h1.ledger(),
            options);
    assertThat(second.published()).containsExactly(h1.pkg().nevra());
    ObservedState two = RepositoryReader.read(repo);
    assertThat(two.pkg(HostPackage.NAME)).isPresent();

    // Other content whose build fails: the repository keeps 1.0-1, nothing is published.
    HostTool v2 = HostTool.of("1.0", hostFiles("two"));
    HostPackage.Placed h2 = v2.place(two.ledger(), d.ledger());
    assertThat(h2.pkg().evr().release()).isEqualTo(2);
    Publisher.Result third =
        Publisher.publish(
            repo,
            Planner.plan(d.state().withHostTool(h2.pkg()), two),
            new PackageBuild.Result(List.of(), List.of(), List.of(), true, 0),
            h2.ledger(),
            options);
    assertThat(third.version()).isEmpty();
    assertThat(third.degraded())
        .extracting(Publisher.Degraded::describe)
        .containsExactly(h1.pkg().nevra() + " (its rebuild as " + h2.pkg().nevra() + " failed)");
    assertThat(RepositoryReader.read(repo).pkg(HostPackage.NAME).orElseThrow().evr())
        .isEqualTo(h1.pkg().evr());
  }

  private static Map<String, byte[]> hostFiles(String plugin) {
    return Map.of(
        "livepatch.py",
        ("print('" + plugin + "')\n").getBytes(StandardCharsets.UTF_8),
        "livepatch.conf",
        "[main]\nenabled = 1\n".getBytes(StandardCharsets.UTF_8));
  }

  /** One scriptlet of {@code rpm -q --scripts} output. */
  private static String section(String scripts, String name) {
    int start = scripts.indexOf('\n', scripts.indexOf(name)) + 1;
    int end = scripts.indexOf(" scriptlet (using", start);
    end = end < 0 ? scripts.length() : scripts.lastIndexOf('\n', end) + 1;
    return scripts.substring(start, end);
  }

  private static String key(Path current) {
    return current.resolve("RPM-GPG-KEY-klp-catalog").toString();
  }

  private static List<Path> rpms(Path current) throws Exception {
    try (Stream<Path> s = Files.list(current)) {
      return s.filter(p -> p.toString().endsWith(".x86_64.rpm")).sorted().toList();
    }
  }

  private static String query(Path rpm, String... what) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("rpm", "-qp", "--nosignature"));
    cmd.addAll(List.of(what));
    cmd.add(rpm.toString());
    return Command.of(cmd).check();
  }

  /** The module an installed package carries for the running kernel. */
  private static String module(Host host, String pkg) throws Exception {
    for (String f :
        Command.of("rpm", "--root", host.root.toString(), "-ql", pkg).check().lines().toList()) {
      if (f.startsWith("/usr/lib/kpatch/" + RUNNING + "/") && f.endsWith(".ko")) {
        return f.substring(f.lastIndexOf('/') + 1, f.length() - 3);
      }
    }
    throw new AssertionError(pkg + " has no module for " + RUNNING);
  }

  /** The JSON object in dnf's output (dnf may print repository lines before it). */
  private static String jsonPart(String output) {
    return output.substring(output.indexOf('{'), output.lastIndexOf('}') + 1);
  }

  /**
   * An installroot with its own dnf.conf: the published .repo file and the runtime repository in
   * its repository directory (either may be absent), the plugin from {@code pluginDir}, and its
   * configuration pointing /sys and /proc at directories of the host's.
   */
  static final class Host {
    final Path root;
    final Path sysfs;
    final Path conf;
    final Path dnfConf;

    Host(Path dir, Path repoFile, Path runtime, Path pluginDir, String pluginConf)
        throws Exception {
      this.root = dir.resolve("root");
      this.sysfs = dir.resolve("sys");
      Path procfs = dir.resolve("proc");
      Files.createDirectories(root);
      Files.createDirectories(sysfs.resolve("kernel/livepatch"));
      Files.createDirectories(procfs.resolve("sys/kernel"));
      Files.writeString(procfs.resolve("sys/kernel/osrelease"), RUNNING + "\n");
      Path reposd = dir.resolve("repos.d");
      Files.createDirectories(reposd);
      if (repoFile != null) {
        Files.copy(repoFile, reposd.resolve(repoFile.getFileName()));
      }
      if (runtime != null) {
        Files.writeString(
            reposd.resolve("runtime.repo"),
            "[runtime]\nname=runtime\nbaseurl=" + runtime.toUri() + "\ngpgcheck=0\n");
      }
      Path confDir = dir.resolve("plugins");
      Files.createDirectories(confDir);
      this.conf = confDir.resolve("livepatch.conf");
      Files.writeString(
          conf,
          pluginConf
              .replace("#sysfs = /sys", "sysfs = " + sysfs)
              .replace("#procfs = /proc", "procfs = " + procfs));
      this.dnfConf = dir.resolve("dnf.conf");
      Files.writeString(
          dnfConf,
          "[main]\nreposdir="
              + reposd
              + "\nvarsdir="
              + dir.resolve("vars")
              + "\ncachedir="
              + dir.resolve("cache")
              + "\npluginpath="
              + pluginDir
              + "\npluginconfpath="
              + confDir
              + "\ninstallonly_limit=3\n");
    }

    void loaded(String module, int enabled, int transition) throws Exception {
      Path d = sysfs.resolve("kernel/livepatch").resolve(module);
      Files.createDirectories(d);
      Files.writeString(d.resolve("enabled"), enabled + "\n");
      Files.writeString(d.resolve("transition"), transition + "\n");
    }

    Command.Result run(String... args) throws Exception {
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "dnf",
                  "--config=" + dnfConf,
                  "--installroot=" + root,
                  "--releasever=9",
                  "--disableplugin=local",
                  "--setopt=tsflags=noscripts",
                  "-y"));
      cmd.addAll(List.of(args));
      return Command.of(cmd).timeout(Duration.ofMinutes(5)).run();
    }

    Command.Result ok(String... args) throws Exception {
      Command.Result r = run(args);
      assertThat(r.exitCode()).as(String.join(" ", args) + "\n" + r.output()).isZero();
      return r;
    }

    /** The installed livepatch packages (those serving a kernel), by name. */
    Set<String> livepatches() throws Exception {
      Set<String> out = new TreeSet<>();
      String q =
          Command.of(
                  "rpm",
                  "--root",
                  root.toString(),
                  "-q",
                  "--qf",
                  "%{NAME}\\n",
                  "--whatprovides",
                  "kpatch-kernel(" + RUNNING + ")",
                  "kpatch-kernel(" + OTHER + ")")
              .run()
              .output();
      for (String l : q.lines().toList()) {
        if (!l.isBlank() && !l.startsWith("no package provides")) {
          out.add(l.strip());
        }
      }
      return out;
    }
  }
}
