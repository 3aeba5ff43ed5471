package org.klpcatalog.publish;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredGroup;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.Inventory;
import org.klpcatalog.repo.Repodata;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.rpm.Signer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a plan's outcome as a new, complete repository version and switches {@code current} to
 * it by an atomic rename. Layout: {@code <repo>/versions/<n>/} (packages, comps.xml, repodata with
 * repomd.xml.asc, the public key, the .repo file, the inventory), {@code <repo>/current} (a link to
 * the version hosts see), {@code <repo>/history.jsonl}. A version is assembled in a {@code
 * .partial-<n>} directory, checked, renamed into place, and only then made current: a crash at any
 * point leaves {@code current} a valid repository, and the next reconcile converges. The caller
 * holds the {@link RepositoryLock}.
 */
public final class Publisher {
  public static final String VERSIONS = "versions";

  /**
   * Where builds for {@code repo} work (modules, packages, logs, QA guests): beside the repository,
   * never inside what a web server serving it would show.
   */
  public static Path stagingDir(Path repo) {
    Path abs = repo.toAbsolutePath().normalize();
    return abs.resolveSibling(abs.getFileName() + ".staging");
  }

  private static final Logger LOG = LoggerFactory.getLogger(Publisher.class);

  /**
   * Publishing settings: versions kept, the URL hosts use, and the signing key (empty: unsigned).
   */
  public record Options(
      int keepVersions,
      Optional<String> baseUrl,
      Optional<Signer> signer,
      long sourceDateEpoch,
      Duration timeout) {}

  /**
   * What publishing did. {@code version} is empty when nothing changed (or when a first
   * publication's every package failed); {@code published}, {@code removed} and {@code pruned} name
   * packages (name-version-release.arch) and versions.
   */
  public record Result(
      Optional<String> version,
      List<String> published,
      List<Degraded> degraded,
      List<LeftOut> leftOut,
      List<String> removed,
      List<String> pruned) {}

  /**
   * A published package kept in place of a change that failed to build or pass QA: its rebuild, or
   * the successor that obsoletes it. {@code nevra} is the package kept.
   */
  public record Degraded(String nevra, String reason) {
    /** "nevra (reason)", as the command line and the service's messages show it. */
    public String describe() {
      return nevra + " (" + reason + ")";
    }
  }

  /** A new package the plan adds that is not published: its build or QA failed. */
  public record LeftOut(String nevra) {
    /** "nevra (its build or QA failed)", as the command line shows it. */
    public String describe() {
      return nevra + " (its build or QA failed)";
    }
  }

  private Publisher() {}

  /**
   * Publishes {@code plan} with the packages {@code build} made: unchanged packages are carried
   * over (hard links), obsoleted and retired ones leave, a rebuild that failed keeps its previously
   * published package (degraded), a new package that failed is left out.
   */
  public static Result publish(
      Path repo, Plan plan, PackageBuild.Result build, ReleaseLedger ledger, Options options)
      throws IOException, InterruptedException, CorruptRepositoryException {
    Path versions = repo.resolve(VERSIONS);
    Files.createDirectories(versions);
    cleanPartials(versions);
    Path current = repo.resolve(RepositoryReader.CURRENT);
    Path previous = Files.exists(current) ? current.toRealPath() : null;
    // What the new version holds: each action's package, or what stays in place of a failed one.
    Contents contents = contents(plan, builtRpms(build), previous);
    // Nothing to publish: nothing changed, or a first publication whose every package failed.
    if (nothingToPublish(plan, contents, previous)) {
      return contents.result(Optional.empty(), List.of());
    }
    // Assemble the version in a partial directory, check it, and rename it into place.
    String number = Integer.toString(nextVersion(versions));
    Path version = assemble(repo, versions, number, plan, contents, previous, ledger, options);
    // Make it current, record it, and prune old versions.
    switchCurrent(repo, version);
    PublishLog.append(
        repo,
        new PublishLog.Event(
            "publish",
            Instant.now().toString(),
            number,
            previous == null ? "" : previous.getFileName().toString(),
            plan.desired().revision().orElse(""),
            summary(plan, contents)));
    List<String> pruned = prune(repo, options.keepVersions());
    // The built packages now live in the version (hard links); the staging copies can go.
    for (Path rpm : build.rpms()) {
      Files.deleteIfExists(rpm);
    }
    return contents.result(Optional.of(number), pruned);
  }

  /** The packages a build made, by file name. */
  private static Map<String, Path> builtRpms(PackageBuild.Result build) {
    Map<String, Path> built = new HashMap<>();
    for (Path rpm : build.rpms()) {
      built.put(rpm.getFileName().toString(), rpm);
    }
    return built;
  }

  /** What a new version holds, and what happened to each of the plan's packages. */
  private record Contents(
      Map<String, Path> files,
      List<Inventory.Entry> entries,
      List<String> published,
      List<Degraded> degraded,
      List<LeftOut> leftOut,
      List<String> removed,
      List<DesiredPackage> listed,
      DesiredGroup group) {

    Result result(Optional<String> version, List<String> pruned) {
      return new Result(version, published, degraded, leftOut, removed, pruned);
    }
  }

  private static Contents contents(Plan plan, Map<String, Path> built, Path previous)
      throws IOException, CorruptRepositoryException {
    Map<String, Path> files = new LinkedHashMap<>();
    List<Inventory.Entry> entries = new ArrayList<>();
    List<String> published = new ArrayList<>();
    List<Degraded> degraded = new ArrayList<>();
    List<LeftOut> leftOut = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    List<DesiredPackage> listed = new ArrayList<>();
    List<String> kept = new ArrayList<>();
    Set<String> failed = failedPackages(plan, built);
    for (Action a : plan.actions()) {
      if (a instanceof Action.Unchanged u) {
        ObservedPackage o = plan.observed().pkg(u.pkg().name()).orElseThrow();
        files.put(o.location(), previous.resolve(o.location()));
        entries.add(entry(u.pkg(), o.location(), o.checksum()));
        listed.add(u.pkg());
      } else if (a instanceof Action.Add add) {
        Path rpm = built.get(add.pkg().nevra() + ".rpm");
        if (rpm == null) {
          leftOut.add(new LeftOut(add.pkg().nevra()));
          continue;
        }
        files.put(rpm.getFileName().toString(), rpm);
        entries.add(entry(add.pkg(), rpm.getFileName().toString(), ""));
        listed.add(add.pkg());
        published.add(add.pkg().nevra());
      } else if (a instanceof Action.Rebuild r) {
        Path rpm = built.get(r.pkg().nevra() + ".rpm");
        if (rpm == null) {
          // Keep serving what hosts have: the previous build of this package.
          files.put(r.from().location(), previous.resolve(r.from().location()));
          entries.add(new Inventory.Entry(r.from(), r.from().location(), r.pkg().patch()));
          listed.add(r.pkg());
          degraded.add(
              new Degraded(r.from().nevra(), "its rebuild as " + r.pkg().nevra() + " failed"));
          continue;
        }
        files.put(rpm.getFileName().toString(), rpm);
        entries.add(entry(r.pkg(), rpm.getFileName().toString(), ""));
        listed.add(r.pkg());
        published.add(r.pkg().nevra());
      } else if (a instanceof Action.Obsolete ob && failed.contains(ob.successor())) {
        // Its successor failed to build or pass QA: hosts and new installs keep this one.
        ObservedPackage o = ob.pkg();
        files.put(o.location(), previous.resolve(o.location()));
        entries.add(new Inventory.Entry(o, o.location(), patchOf(previous, o.name())));
        kept.add(o.name());
        degraded.add(new Degraded(o.nevra(), "its successor " + ob.successor() + " failed"));
      } else if (a instanceof Action.Obsolete || a instanceof Action.Retire) {
        removed.add(a.packageName());
      } else if (a instanceof Action.HostTool h) {
        hostTool(h, built, previous, files, entries, published, degraded, leftOut);
      }
    }
    DesiredGroup wanted = plan.desired().group();
    DesiredGroup group =
        new DesiredGroup(
            wanted.id(),
            wanted.name(),
            wanted.description(),
            Stream.concat(listed.stream().map(DesiredPackage::name), kept.stream())
                .sorted()
                .toList());
    return new Contents(files, entries, published, degraded, leftOut, removed, listed, group);
  }

  /**
   * The host tool package: the one built, or what the repository had when it is unchanged or its
   * build failed; in no group.
   */
  private static void hostTool(
      Action.HostTool h,
      Map<String, Path> built,
      Path previous,
      Map<String, Path> files,
      List<Inventory.Entry> entries,
      List<String> published,
      List<Degraded> degraded,
      List<LeftOut> leftOut) {
    HostPackage p = h.pkg();
    Path rpm = h.changed() ? built.get(p.nevra() + ".rpm") : null;
    if (rpm != null) {
      String file = rpm.getFileName().toString();
      files.put(file, rpm);
      entries.add(
          new Inventory.Entry(
              new ObservedPackage(
                  p.name(),
                  p.evr(),
                  HostPackage.ARCH,
                  file,
                  "",
                  p.contentHash(),
                  "",
                  List.of(),
                  ""),
              file,
              ""));
      published.add(p.nevra());
    } else if (h.from().isPresent()) {
      ObservedPackage o = h.from().get();
      files.put(o.location(), previous.resolve(o.location()));
      entries.add(new Inventory.Entry(o, o.location(), ""));
      if (h.changed()) {
        degraded.add(new Degraded(o.nevra(), "its rebuild as " + p.nevra() + " failed"));
      }
    } else {
      leftOut.add(new LeftOut(p.nevra()));
    }
  }

  /** The names of the packages the plan adds or rebuilds that the build (or QA) did not deliver. */
  private static Set<String> failedPackages(Plan plan, Map<String, Path> built) {
    Set<String> failed = new HashSet<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add && !built.containsKey(add.pkg().nevra() + ".rpm")) {
        failed.add(add.pkg().name());
      } else if (a instanceof Action.Rebuild r && !built.containsKey(r.pkg().nevra() + ".rpm")) {
        failed.add(r.pkg().name());
      }
    }
    return failed;
  }

  private static boolean nothingToPublish(Plan plan, Contents contents, Path previous) {
    boolean unchanged =
        contents.published().isEmpty()
            && contents.removed().isEmpty()
            && previous != null
            && plan.observed().group().map(contents.group()::equals).orElse(false);
    // A first publication whose every package failed would be an empty repository that reads as
    // a success: publish nothing instead.
    boolean allFailed =
        previous == null && contents.listed().isEmpty() && !contents.leftOut().isEmpty();
    return unchanged || allFailed;
  }

  /**
   * Assembles version {@code number} in {@code .partial-<number>}: packages, comps.xml, metadata,
   * signature, .repo file and inventory; checks it and renames it into place. A failed check
   * removes it.
   */
  private static Path assemble(
      Path repo,
      Path versions,
      String number,
      Plan plan,
      Contents contents,
      Path previous,
      ReleaseLedger ledger,
      Options options)
      throws IOException, InterruptedException, CorruptRepositoryException {
    long t0 = System.nanoTime();
    Path partial = versions.resolve(".partial-" + number);
    Files.createDirectories(partial);
    for (Map.Entry<String, Path> f : contents.files().entrySet()) {
      link(f.getValue(), partial.resolve(f.getKey()));
    }
    Files.writeString(
        partial.resolve("comps.xml"), CompsWriter.write(contents.group()), StandardCharsets.UTF_8);
    // The packages' conflict check needs only the packages: run it while createrepo_c works.
    List<Path> packageFiles = contents.files().keySet().stream().map(partial::resolve).toList();
    CompletableFuture<Void> conflictCheck = conflictCheck(packageFiles, options.timeout());
    long tLinks = System.nanoTime();
    createrepo(partial, previous, options);
    long tRepo = System.nanoTime();
    boolean signed = sign(partial, options);
    writeRepoFile(repo, partial, plan.desired(), contents.group(), signed, options);
    writeInventory(partial, plan, contents, ledger, signed);
    long tInventory = System.nanoTime();
    // Check the version before anyone can see it; a failed check removes it.
    Path version = versions.resolve(number);
    try {
      awaitConflictCheck(conflictCheck);
      VersionCheck.check(partial, signed, options.timeout(), false);
      Files.move(partial, version, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | CorruptRepositoryException e) {
      FileTrees.deleteRecursively(partial);
      throw e;
    }
    long tChecks = System.nanoTime();
    LOG.debug(
        "version {}: links and comps {} ms, createrepo_c {} ms, signature, repo file and inventory"
            + " {} ms, checks {} ms",
        number,
        (tLinks - t0) / 1_000_000,
        (tRepo - tLinks) / 1_000_000,
        (tInventory - tRepo) / 1_000_000,
        (tChecks - tInventory) / 1_000_000);
    return version;
  }

  private static CompletableFuture<Void> conflictCheck(List<Path> packageFiles, Duration timeout) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            VersionCheck.conflicts(packageFiles, timeout);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        });
  }

  private static void awaitConflictCheck(CompletableFuture<Void> check) throws IOException {
    try {
      check.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof UncheckedIOException u
          ? u.getCause()
          : new IOException(e.getCause());
    }
  }

  /** Signs the metadata and exports the public key, when there is a signer; whether it signed. */
  private static boolean sign(Path partial, Options options)
      throws IOException, InterruptedException {
    if (options.signer().isEmpty()) {
      return false;
    }
    Signer signer = options.signer().get();
    signer.signDetached(partial.resolve("repodata/repomd.xml"), options.sourceDateEpoch());
    signer.exportPublicKey(partial);
    return true;
  }

  private static void writeRepoFile(
      Path repo,
      Path partial,
      DesiredState desired,
      DesiredGroup group,
      boolean signed,
      Options options)
      throws IOException {
    String baseUrl =
        options
            .baseUrl()
            .orElse(repo.toAbsolutePath().resolve(RepositoryReader.CURRENT).toUri().toString());
    Files.writeString(
        partial.resolve(desired.catalog() + ".repo"),
        RepoFile.write(
            desired.catalog(),
            group.name() + " (" + desired.catalog() + ")",
            group.id(),
            baseUrl,
            signed),
        StandardCharsets.UTF_8);
  }

  /**
   * The inventory: the version's packages with the checksums createrepo_c computed for primary.xml
   * (not hashed again), and the release ledger merged with this plan's.
   */
  private static void writeInventory(
      Path partial, Plan plan, Contents contents, ReleaseLedger ledger, boolean signed)
      throws IOException, CorruptRepositoryException {
    ReleaseLedger.Builder merged = plan.observed().ledger().toBuilder();
    ledger.entries().forEach((pkg, list) -> list.forEach(e -> merged.record(pkg, e)));
    Map<String, String> checksums = checksums(partial);
    List<Inventory.Entry> withChecksums = new ArrayList<>();
    for (Inventory.Entry e : contents.entries()) {
      ObservedPackage o = e.pkg();
      withChecksums.add(
          new Inventory.Entry(
              new ObservedPackage(
                  o.name(),
                  o.evr(),
                  o.arch(),
                  o.location(),
                  checksums.getOrDefault(e.file(), o.checksum()),
                  o.contentHash(),
                  o.metadataHash(),
                  o.modules(),
                  o.changedIn()),
              e.file(),
              e.patch()));
    }
    DesiredState desired = plan.desired();
    Inventory inventory =
        new Inventory(
            Inventory.FORMAT,
            desired.catalog(),
            desired.revision(),
            Instant.now().toString(),
            !signed,
            contents.group(),
            List.copyOf(withChecksums),
            merged.build());
    Files.writeString(partial.resolve(Inventory.FILE), inventory.toJson(), StandardCharsets.UTF_8);
  }

  /** The patch a published package came from, as the previous version's inventory says. */
  private static String patchOf(Path previous, String name)
      throws IOException, CorruptRepositoryException {
    Path file = previous.resolve(Inventory.FILE);
    Inventory inventory =
        Inventory.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    return inventory.packages().stream()
        .filter(e -> e.pkg().name().equals(name))
        .map(Inventory.Entry::patch)
        .findFirst()
        .orElseThrow(() -> new CorruptRepositoryException(file + " does not list " + name));
  }

  private static Inventory.Entry entry(DesiredPackage p, String file, String sha) {
    return Inventory.of(
            new DesiredState(
                "", Optional.empty(), List.of(p), new DesiredGroup("", "", "", List.of())),
            Map.of(p.name(), file),
            Map.of(p.name(), sha),
            "",
            false,
            ReleaseLedger.EMPTY)
        .packages()
        .get(0);
  }

  /** createrepo_c -g comps.xml, reusing the previous version's metadata for unchanged packages. */
  private static void createrepo(Path dir, Path previous, Options options)
      throws IOException, InterruptedException {
    // No sqlite databases: dnf reads the XML metadata (libsolv), and they double the work.
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "createrepo_c",
                "--quiet",
                "--no-database",
                "--groupfile",
                "comps.xml",
                "--revision",
                Long.toString(options.sourceDateEpoch()),
                "--set-timestamp-to-revision"));
    if (previous != null && Files.isDirectory(previous.resolve("repodata"))) {
      cmd.addAll(List.of("--update", "--update-md-path", previous.toString()));
    }
    cmd.add(dir.toString());
    Command.of(cmd).in(dir).timeout(options.timeout()).check();
  }

  /**
   * Hard-links a package into the version (the same file, no copy), or copies across file systems.
   */
  private static void link(Path from, Path to) throws IOException {
    try {
      Files.createLink(to, from);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Points {@code current} at {@code version}: a new link renamed over the old one (atomic). */
  static void switchCurrent(Path repo, Path version) throws IOException {
    Path link = repo.resolve(".current-" + ProcessHandle.current().pid());
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, repo.relativize(version));
    Files.move(link, repo.resolve(RepositoryReader.CURRENT), StandardCopyOption.ATOMIC_MOVE);
  }

  static int nextVersion(Path versions) throws IOException {
    int max = 0;
    for (String v : versionNames(versions)) {
      max = Math.max(max, Integer.parseInt(v));
    }
    return max + 1;
  }

  /** Published version directories, oldest first. */
  public static List<String> versionNames(Path versions) throws IOException {
    if (!Files.isDirectory(versions)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(versions)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.matches("\\d+"))
          .sorted((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)))
          .toList();
    }
  }

  /** Leftovers of a reconcile that was killed while assembling a version. */
  private static void cleanPartials(Path versions) throws IOException {
    try (Stream<Path> s = Files.list(versions)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".partial-")).toList()) {
        FileTrees.deleteRecursively(p);
      }
    }
  }

  /** Keeps the newest {@code keep} versions and the current one. */
  static List<String> prune(Path repo, int keep) throws IOException {
    Path versions = repo.resolve(VERSIONS);
    String current = repo.resolve(RepositoryReader.CURRENT).toRealPath().getFileName().toString();
    List<String> names = new ArrayList<>(versionNames(versions));
    List<String> pruned = new ArrayList<>();
    while (names.size() > Math.max(1, keep)) {
      String oldest = names.remove(0);
      if (oldest.equals(current)) {
        continue;
      }
      FileTrees.deleteRecursively(versions.resolve(oldest));
      pruned.add(oldest);
    }
    return pruned;
  }

  private static String summary(Plan plan, Contents contents) {
    Map<String, Integer> counts = new TreeMap<>();
    counts.put("published", contents.published().size());
    counts.put("removed", contents.removed().size());
    counts.put("degraded", contents.degraded().size());
    counts.put("left out", contents.leftOut().size());
    counts.put("unchanged", (int) plan.count(Action.Unchanged.class));
    StringBuilder sb = new StringBuilder();
    counts.forEach(
        (k, v) -> {
          if (v > 0) {
            sb.append(sb.length() == 0 ? "" : ", ").append(v).append(' ').append(k);
          }
        });
    return sb.toString();
  }

  /** Package checksums by file name, from the primary metadata createrepo_c just wrote. */
  private static Map<String, String> checksums(Path version)
      throws IOException, CorruptRepositoryException {
    Path repomd = version.resolve("repodata/repomd.xml");
    Map<String, String> out = new HashMap<>();
    for (Repodata.MetadataFile m :
        Repodata.parseRepomd(Files.readAllBytes(repomd), repomd.toString())) {
      if (m.type().equals("primary")) {
        byte[] xml = Repodata.uncompress(Files.readAllBytes(version.resolve(m.href())), m.href());
        for (Repodata.RpmEntry e : Repodata.parsePrimary(xml, m.href())) {
          out.put(e.location(), e.checksum());
        }
      }
    }
    return out;
  }
}
