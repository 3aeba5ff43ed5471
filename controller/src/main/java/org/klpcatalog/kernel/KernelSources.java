package org.klpcatalog.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.exec.ToolRegistry;
import org.klpcatalog.files.FileTrees;

/**
 * Kernel sources for the configured providers of one run (like {@link KernelCache}), and trees
 * prepared from them for compiling single translation units.
 *
 * <p>{@link #prepare} configures a source with a release's {@code .config} (from the headers tree
 * {@link KernelCache} provides) and runs {@code make O=out olddefconfig} and {@code
 * modules_prepare} in the {@link Sandbox}: the source read-only at {@link #SOURCE_INSIDE}, the
 * output directory writable at {@link #OUT_INSIDE}, so every command kbuild records names those
 * fixed paths, wherever the cache is. A prepared tree is cached per (source identity, {@code
 * .config} SHA-256, compiler), made in a {@code .partial} directory renamed into place under a lock
 * that other threads and processes wait for. Preparing needs the bubblewrap sandbox: the same trees
 * compile catalog content.
 *
 * <p>Cache layout under the cache root: {@code sources/debian/apt-HASH/} (the private deb-src
 * lists, package lists and caches), {@code sources/debian/SOURCE_VERSION/source-HASH/src} (an
 * unpacked source), {@code prepared/HASH/out} (kbuild's output directory) with {@code units/} (the
 * recorded compile command of each translation unit asked for).
 */
public final class KernelSources {
  /** Where the source tree is inside the sandbox. */
  public static final String SOURCE_INSIDE = "/klp/src";

  /** Where kbuild's output directory is inside the sandbox. */
  public static final String OUT_INSIDE = "/klp/out";

  /** Bumped when the layout or the steps of a prepared tree change. */
  static final int PREPARED_FORMAT = 1;

  private static final Pattern CC_TEXT =
      Pattern.compile("(?m)^CONFIG_CC_VERSION_TEXT=\"(gcc(?:-\\d+)?) ");

  private final Path root;
  private final KernelProviders configured;
  private final KernelCache kernels;
  private final Sandbox sandbox;
  private final int jobs;
  private final Map<String, SourceProvider> providers = new LinkedHashMap<>();

  public KernelSources(Path cacheRoot, KernelProviders configured, Sandbox sandbox) {
    this(cacheRoot, configured, sandbox, Runtime.getRuntime().availableProcessors());
  }

  /** {@code jobs}: make's -j when preparing (the build's jobs). */
  public KernelSources(Path cacheRoot, KernelProviders configured, Sandbox sandbox, int jobs) {
    this.root = cacheRoot;
    this.configured = configured;
    this.kernels = new KernelCache(cacheRoot, configured);
    this.sandbox = sandbox;
    this.jobs = Math.max(1, jobs);
    Path sources = cacheRoot.resolve("sources");
    for (ProviderSpec spec : configured.byName().values()) {
      if (spec instanceof ProviderSpec.Debian d) {
        providers.put(spec.name(), new DebianSourceProvider(d, sources));
      } else {
        providers.put(
            spec.name(),
            kernel -> {
              throw new KernelException(
                  "kernel "
                      + kernel.release()
                      + ": provider '"
                      + spec.name()
                      + "' is of type "
                      + spec.type()
                      + ", for which klp-catalog cannot fetch kernel sources yet (source analysis"
                      + " is available for debian providers, or for a tree of your own with analyze"
                      + " --source TREE --config FILE)");
            });
      }
    }
  }

  /**
   * Whether klp-catalog can fetch the sources of {@code kernel}'s provider (debian providers; not
   * rpm-repo ones yet, nor a provider that is not configured).
   */
  public boolean hasSources(Kernel kernel) {
    return providers.get(kernel.provider()) instanceof DebianSourceProvider;
  }

  /** The provider serving {@code kernel}, or a KernelException naming the configured ones. */
  SourceProvider provider(Kernel kernel) throws KernelException {
    SourceProvider p = providers.get(kernel.provider());
    if (p == null) {
      throw new KernelException(configured.unknownMessage(kernel));
    }
    return p;
  }

  /** The source {@code kernel} was built from, verified, unpacked and cached. */
  public SourceTree source(Kernel kernel) throws KernelException, InterruptedException {
    return provider(kernel).source(kernel);
  }

  /** The source of {@code kernel} prepared with that release's own {@code .config}. */
  public PreparedTree prepare(Kernel kernel) throws KernelException, InterruptedException {
    SourceTree source = source(kernel);
    KernelTree headers = kernels.provide(kernel, false);
    return prepare(source, headers.headers().resolve(".config"), "kernel " + kernel.release());
  }

  /**
   * A tree of the user's own (a kernel source checkout, not configured in place) prepared with
   * {@code config}. Its identity is taken from the files' names, sizes and modification times, so
   * changing the tree prepares it again.
   */
  public PreparedTree prepareLocal(Path tree, Path config)
      throws KernelException, InterruptedException {
    try {
      Path src = tree.toRealPath();
      if (!Files.isRegularFile(src.resolve("Makefile"))
          || !Files.isDirectory(src.resolve("scripts/kconfig"))) {
        throw new KernelException(
            tree + " is not a kernel source tree (no Makefile and scripts/kconfig)");
      }
      if (Files.exists(src.resolve(".config")) || Files.exists(src.resolve("include/config"))) {
        throw new KernelException(
            tree
                + " has been configured in place (.config or include/config); kbuild builds in a"
                + " separate directory only from a clean tree: run 'make mrproper' there first");
      }
      String version =
          kernelVersion(Files.readString(src.resolve("Makefile"), StandardCharsets.UTF_8));
      SourceTree local = new SourceTree("local", version, src, localIdentity(src));
      return prepare(local, config, "the tree " + tree);
    } catch (IOException e) {
      throw new KernelException("the tree " + tree + ": " + e.getMessage(), e);
    }
  }

  /**
   * VERSION.PATCHLEVEL.SUBLEVEL and EXTRAVERSION of a kernel's top Makefile ("unknown" without
   * them).
   */
  static String kernelVersion(String makefile) {
    Map<String, String> v = new LinkedHashMap<>();
    Matcher m =
        Pattern.compile("(?m)^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\\s*=[ \\t]*(\\S*)")
            .matcher(makefile);
    while (m.find()) {
      v.putIfAbsent(m.group(1), m.group(2));
    }
    if (!v.containsKey("VERSION") || !v.containsKey("PATCHLEVEL")) {
      return "unknown";
    }
    return v.get("VERSION")
        + "."
        + v.get("PATCHLEVEL")
        + "."
        + v.getOrDefault("SUBLEVEL", "0")
        + v.getOrDefault("EXTRAVERSION", "");
  }

  private static String localIdentity(Path src) throws IOException {
    var md = Digests.sha256Digest();
    md.update(("local " + src + "\n").getBytes(StandardCharsets.UTF_8));
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.sorted().toList()) {
        BasicFileAttributes a =
            Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        md.update(
            (src.relativize(p) + " " + a.size() + " " + a.lastModifiedTime().toMillis() + "\n")
                .getBytes(StandardCharsets.UTF_8));
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private PreparedTree prepare(SourceTree source, Path config, String what)
      throws KernelException, InterruptedException {
    if (!sandbox.confined()) {
      throw new KernelException(
          what
              + ": preparing a kernel source for compiling translation units needs the bubblewrap"
              + " sandbox (the same tree compiles catalog content), not the unconfined opt-out");
    }
    try {
      if (!Files.isRegularFile(config) || Files.size(config) > (16 << 20)) {
        throw new KernelException(what + ": " + config + " is not a kernel configuration file");
      }
      String configText = Files.readString(config, StandardCharsets.UTF_8);
      String configSha = Digests.sha256(configText);
      String cc = compiler(configText);
      String ccVersion = Command.of(cc, "--version").check().lines().findFirst().orElse(cc);
      String identity =
          Digests.sha256(
              "klp-catalog prepared tree "
                  + PREPARED_FORMAT
                  + "\nsource "
                  + source.identity()
                  + "\nconfig "
                  + configSha
                  + "\ncompiler "
                  + cc
                  + " "
                  + ccVersion
                  + "\n");
      Path dir = root.resolve("prepared").resolve(identity.substring(0, 32));
      try (FileTrees.Lock l = FileTrees.lock(dir)) {
        if (!Files.isRegularFile(dir.resolve("STAMP"))) {
          make(source, configText, cc, dir, what);
        }
      }
      return new PreparedTree(source, dir.resolve("out"), configSha, identity);
    } catch (IOException e) {
      throw new KernelException(what + ": " + e.getMessage(), e);
    }
  }

  /**
   * The compiler the configuration was made with ({@code CONFIG_CC_VERSION_TEXT}, such as Debian's
   * gcc-12) when it is declared and installed, else gcc: with another compiler than the
   * configuration's, kbuild would configure the tree again on every build.
   */
  static String compiler(String configText) {
    Matcher m = CC_TEXT.matcher(configText);
    if (m.find()
        && ToolRegistry.get().tool(m.group(1)).isPresent()
        && Command.which(m.group(1)).isPresent()) {
      return m.group(1);
    }
    return "gcc";
  }

  /** The compiler a prepared tree was made with (its units compile with the same). */
  static String compilerOf(PreparedTree tree) throws IOException {
    return Files.readString(tree.out().resolveSibling("CC"), StandardCharsets.UTF_8).strip();
  }

  private void make(SourceTree source, String configText, String cc, Path dir, String what)
      throws IOException, InterruptedException, KernelException {
    Path work = FileTrees.fresh(dir);
    Path out = work.resolve("out");
    Files.createDirectories(out);
    Files.writeString(out.resolve(".config"), configText, StandardCharsets.UTF_8);
    Path log = work.resolve("prepare.log");
    Duration limit = Duration.ofMinutes(30);
    for (List<String> target :
        List.of(List.of("olddefconfig"), List.of("-j" + jobs, "modules_prepare"))) {
      Sandbox.Run run =
          sandbox
              .withLimits(sandbox.limits().withCpu(limit))
              .run()
              .readOnly(source.source(), SOURCE_INSIDE)
              .writable(out, OUT_INSIDE)
              .chdir(OUT_INSIDE)
              .env("KBUILD_BUILD_TIMESTAMP", "");
      List<String> argv =
          new ArrayList<>(List.of("make", "-C", SOURCE_INSIDE, "O=" + OUT_INSIDE, "CC=" + cc));
      argv.addAll(target);
      Command.Result r = run.command(argv).timeout(limit).log(log).run();
      if (!r.ok()) {
        throw new KernelException(
            what
                + ": make "
                + String.join(" ", target)
                + (r.timedOut() ? " timed out" : " failed")
                + " (the log is "
                + log
                + "):\n"
                + Command.tail(r.output(), 15));
      }
    }
    Files.writeString(
        out.resolve(PreparedTree.CONFIG_CHANGES),
        String.join(
            "\n",
            configChanges(
                configText, Files.readString(out.resolve(".config"), StandardCharsets.UTF_8))),
        StandardCharsets.UTF_8);
    Files.writeString(work.resolve("CC"), cc + "\n", StandardCharsets.UTF_8);
    Files.writeString(
        work.resolve("STAMP"),
        "source "
            + source.provider()
            + " "
            + source.sourceVersion()
            + " "
            + source.identity()
            + "\nconfig sha256:"
            + Digests.sha256(configText)
            + "\ncompiler "
            + cc
            + "\n",
        StandardCharsets.UTF_8);
    FileTrees.commit(work, dir);
  }

  /**
   * The options of {@code before} whose value {@code after} changed, as {@code CONFIG_X: old ->
   * new}.
   */
  static List<String> configChanges(String before, String after) {
    Map<String, String> a = options(before);
    Map<String, String> b = options(after);
    List<String> out = new ArrayList<>();
    a.forEach(
        (k, v) -> {
          String now = b.getOrDefault(k, "n");
          if (!now.equals(v)) {
            out.add(k + ": " + v + " -> " + now);
          }
        });
    return out;
  }

  private static Map<String, String> options(String config) {
    Map<String, String> out = new LinkedHashMap<>();
    Pattern set = Pattern.compile("^(CONFIG_[A-Za-z0-9_]+)=(.*)$");
    Pattern unset = Pattern.compile("^# (CONFIG_[A-Za-z0-9_]+) is not set$");
    for (String l : config.split("\n")) {
      Matcher m = set.matcher(l);
      Matcher u = unset.matcher(l);
      if (m.matches()) {
        out.put(m.group(1), m.group(2));
      } else if (u.matches()) {
        out.put(u.group(1), "n");
      }
    }
    return out;
  }
}
