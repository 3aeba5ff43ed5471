package org.klpcatalog.qa;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.SoftReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.klpcatalog.build.BuildCache;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.klp.KernelSymbol;
import org.klpcatalog.klp.KernelSymbols;
import org.klpcatalog.klp.ModuleSymvers;
import org.klpcatalog.klp.SymbolSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A kernel's symbol tables from the kernel itself. vmlinux: the release's bootable kernel is booted
 * in qemu with a tiny busybox initramfs whose {@code /init} copies {@code /proc/kallsyms} (as root,
 * so the addresses show), writes it gzipped to the guest's second serial port (a file on the host)
 * and powers off; the table is kept per kernel identity under the cache directory ({@code
 * symbols/}), so each kernel is booted once. Modules: each {@code .ko} of the image's modules
 * directory, its defined symbols in {@code .symtab} order as the kernel's module kallsyms keeps
 * them. Exports: the headers' {@code Module.symvers}.
 *
 * <p>Debian's image package ships only a placeholder {@code System.map}; the real one is in the
 * {@code -dbg} package (about 850 MB per release). kallsyms is also exactly the table the livepatch
 * core resolves {@code .klp.sym} symbols against.
 */
public final class KallsymsSource implements SymbolSource {
  private static final Logger LOG = LoggerFactory.getLogger(KallsymsSource.class);

  /** Bumped when the cached form or what is kept changes, so cached tables are made again. */
  private static final String FORMAT = "kallsyms 1";

  private static final String HEADER = "# klp-catalog kallsyms 1 ";

  /** The guest's output is refused beyond these sizes (compressed, and as text). */
  private static final long MAX_DUMP = 64L << 20;

  private static final int MAX_TEXT = 256 << 20;
  private static final Duration LIMIT = Duration.ofMinutes(10);
  private static final Duration IDLE = Duration.ofMinutes(3);
  private static final int MEMORY_MB = 256;
  private static final Pattern DUMPED = Pattern.compile("KLP-KALLSYMS lines=(\\d+) rc=0\\b");

  static final String INIT =
      """
      #!/bin/sh
      # klp-catalog: dump the kernel's symbol table to the second serial port, then power off.
      B=/bin/busybox
      $B mount -t proc proc /proc
      [ -c /dev/ttyS1 ] || $B mknod /dev/ttyS1 c 4 65
      $B cat /proc/kallsyms > /kallsyms
      rc=$?
      echo "KLP-KALLSYMS lines=$($B wc -l < /kallsyms) rc=$rc"
      $B stty -F /dev/ttyS1 raw -echo
      $B gzip -c /kallsyms > /dev/ttyS1
      echo "KLP-KALLSYMS-SENT rc=$?"
      $B poweroff -f
      """;

  private final Path dir;
  private final Vm.Accel accel;
  private final AtomicInteger boots = new AtomicInteger();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  /** Tables read in this process, kept while memory allows (a build asks once per module). */
  private final Map<Path, SoftReference<List<KernelSymbol>>> read = new ConcurrentHashMap<>();

  private final Map<Path, Map<String, Path>> moduleIndex = new ConcurrentHashMap<>();

  /** Set once a KVM guest failed here: later automatic choices go straight to emulation. */
  private static volatile boolean kvmFailed;

  /**
   * Tables cached under {@code cacheRoot/symbols}; guests use KVM when {@code /dev/kvm} is usable,
   * and software emulation when it is not or a KVM guest failed.
   */
  public KallsymsSource(Path cacheRoot) {
    this(cacheRoot, Vm.Accel.AUTO);
  }

  public KallsymsSource(Path cacheRoot, Vm.Accel accel) {
    this.dir = cacheRoot.resolve("symbols");
    this.accel = accel;
  }

  /** How many guests this source booted (a table found in the cache boots none). */
  public int boots() {
    return boots.get();
  }

  /** vmlinux and every module of the kernel (reading Debian's 4,000 modules takes about 3 s). */
  @Override
  public KernelSymbols symbols(KernelTree kernel) throws KernelException, InterruptedException {
    return symbols(kernel, null);
  }

  /**
   * vmlinux and the modules among {@code objects} (every module when null): what a build needs,
   * without reading the rest. A named module the kernel does not have is left out.
   */
  @Override
  public KernelSymbols symbols(KernelTree kernel, Set<String> objects)
      throws KernelException, InterruptedException {
    Path image =
        kernel
            .image()
            .orElseThrow(
                () ->
                    new KernelException(
                        "kernel "
                            + kernel.release()
                            + " was provided without its image: its symbol tables come from booting"
                            + " it"));
    Path modules =
        kernel
            .modules()
            .orElseThrow(
                () ->
                    new KernelException(
                        "kernel "
                            + kernel.release()
                            + " was provided without its modules directory"));
    Map<String, List<KernelSymbol>> tables = new LinkedHashMap<>();
    tables.put("vmlinux", vmlinux(kernel, image));
    Map<String, Path> index = moduleIndex.get(modules);
    if (index == null) {
      index = ModuleSymbols.index(kernel.release(), modules);
      moduleIndex.put(modules, index);
    }
    Map<String, Set<String>> loadingOnly = new LinkedHashMap<>();
    tables.putAll(ModuleSymbols.read(kernel.release(), modules, index, objects, loadingOnly));
    Path symvers = kernel.headers().resolve("Module.symvers");
    Map<String, String> exports;
    try {
      exports =
          ModuleSymvers.parse(
              Files.readString(symvers, StandardCharsets.UTF_8),
              "Module.symvers of kernel " + kernel.release());
    } catch (IOException | IllegalArgumentException e) {
      throw new KernelException(
          "kernel " + kernel.release() + ": cannot read " + symvers + ": " + e.getMessage(), e);
    }
    return new KernelSymbols(
        kernel.release(),
        "kallsyms of the booted "
            + kernel.release()
            + ", .symtab of its "
            + "modules, Module.symvers of its headers",
        tables,
        exports,
        loadingOnly);
  }

  /** The cache file of a kernel's vmlinux table. */
  Path cacheFile(KernelTree kernel) {
    String key =
        BuildCache.sha256(
            (FORMAT + "\n" + kernel.release() + "\n" + kernel.identity() + "\n")
                .getBytes(StandardCharsets.UTF_8));
    return dir.resolve(kernel.release() + "-" + key.substring(0, 20) + ".kallsyms.gz");
  }

  /** vmlinux's symbols: from the cache, or from booting the kernel (then cached). */
  List<KernelSymbol> vmlinux(KernelTree kernel, Path image)
      throws KernelException, InterruptedException {
    Path file = cacheFile(kernel);
    synchronized (locks.computeIfAbsent(file.toString(), k -> new Object())) {
      SoftReference<List<KernelSymbol>> kept = read.get(file);
      List<KernelSymbol> known = kept == null ? null : kept.get();
      if (known != null) {
        return known;
      }
      List<KernelSymbol> symbols = cachedOrDumped(kernel, image, file);
      read.put(file, new SoftReference<>(symbols));
      return symbols;
    }
  }

  private List<KernelSymbol> cachedOrDumped(KernelTree kernel, Path image, Path file)
      throws KernelException, InterruptedException {
    if (Files.exists(file)) {
      try {
        return readCache(kernel, file);
      } catch (IOException | KernelException e) {
        LOG.warn(
            "the cached symbol table {} is unusable ({}); booting {} again",
            file,
            e.getMessage(),
            kernel.release());
      }
    }
    String text = dump(kernel, image);
    List<KernelSymbol> symbols = SymbolTables.kallsyms(kernel.release(), text);
    try {
      writeCache(kernel, file, symbols);
    } catch (IOException e) {
      throw new KernelException(
          "kernel "
              + kernel.release()
              + ": cannot cache its symbol table in "
              + file
              + ": "
              + e.getMessage(),
          e);
    }
    return symbols;
  }

  /** The cached form: a header naming the kernel and the count, then one kallsyms line a symbol. */
  static String cacheText(KernelTree kernel, List<KernelSymbol> symbols) {
    StringBuilder b = new StringBuilder(symbols.size() * 40);
    b.append(HEADER)
        .append(kernel.release())
        .append(' ')
        .append(kernel.identity())
        .append(' ')
        .append(symbols.size())
        .append('\n');
    for (KernelSymbol s : symbols) {
      b.append(hex16(s.address()))
          .append(' ')
          .append(s.type())
          .append(' ')
          .append(s.name())
          .append('\n');
    }
    return b.toString();
  }

  private static String hex16(long v) {
    String h = Long.toHexString(v);
    return "0".repeat(16 - h.length()) + h;
  }

  /** The symbols of a cached form; anything not exactly as written is an error. */
  static List<KernelSymbol> fromCacheText(KernelTree kernel, String text) throws KernelException {
    int nl = text.indexOf('\n');
    String expected = HEADER + kernel.release() + ' ' + kernel.identity() + ' ';
    if (nl < 0 || !text.startsWith(expected)) {
      throw new KernelException(
          "the header does not name kernel " + kernel.release() + " and its identity");
    }
    int count;
    try {
      count = Integer.parseInt(text.substring(expected.length(), nl));
    } catch (NumberFormatException e) {
      throw new KernelException("the header's symbol count is not a number");
    }
    List<KernelSymbol> symbols = SymbolTables.kallsyms(kernel.release(), text.substring(nl + 1));
    if (symbols.size() != count) {
      throw new KernelException(
          "the header says " + count + " symbols, the table has " + symbols.size());
    }
    return symbols;
  }

  private static List<KernelSymbol> readCache(KernelTree kernel, Path file)
      throws IOException, KernelException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 65536)) {
      return fromCacheText(kernel, new String(readAtMost(in, MAX_TEXT), StandardCharsets.UTF_8));
    }
  }

  private void writeCache(KernelTree kernel, Path file, List<KernelSymbol> symbols)
      throws IOException {
    Files.createDirectories(dir);
    Path tmp =
        dir.resolve(
            file.getFileName()
                + ".tmp-"
                + ProcessHandle.current().pid()
                + "-"
                + Thread.currentThread().getId());
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(tmp), 65536)) {
      out.write(cacheText(kernel, symbols).getBytes(StandardCharsets.UTF_8));
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Boots the kernel and returns its {@code /proc/kallsyms} as the guest printed it. */
  private String dump(KernelTree kernel, Path image) throws KernelException, InterruptedException {
    Path work =
        dir.resolve(
            kernel.release()
                + ".work-"
                + ProcessHandle.current().pid()
                + "-"
                + Thread.currentThread().getId());
    try {
      FileTrees.deleteRecursively(work);
      Files.createDirectories(work);
      Path initrd = work.resolve("initrd.cpio");
      writeInitrd(initrd);
      boolean kvm = accel == Vm.Accel.KVM || accel == Vm.Accel.AUTO && !kvmFailed && kvmUsable();
      try {
        return boot(kernel, image, initrd, work, kvm);
      } catch (KernelException e) {
        if (!kvm || accel != Vm.Accel.AUTO) {
          throw e;
        }
        kvmFailed = true;
        LOG.warn(
            "dumping the symbols of {} with KVM failed ({}); using software emulation",
            kernel.release(),
            e.getMessage());
        return boot(kernel, image, initrd, work, false);
      }
    } catch (IOException e) {
      throw new KernelException(
          "kernel " + kernel.release() + ": dumping its symbol table failed: " + e.getMessage(), e);
    } finally {
      try {
        FileTrees.deleteRecursively(work);
      } catch (IOException e) {
        LOG.warn("cannot remove {}: {}", work, e.getMessage());
      }
    }
  }

  private String boot(KernelTree kernel, Path image, Path initrd, Path work, boolean kvm)
      throws IOException, KernelException, InterruptedException {
    Path out = work.resolve("kallsyms.gz");
    Files.deleteIfExists(out);
    List<String> argv =
        Vm.command(image, initrd, MEMORY_MB, kvm, List.of("-serial", "file:" + out), "nokaslr");
    boots.incrementAndGet();
    Vm.Boot b = Vm.boot(argv, LIMIT, IDLE, work.resolve("console.log"));
    Matcher m = DUMPED.matcher(b.console());
    String why = null;
    if (!m.find()) {
      why = "the guest did not read /proc/kallsyms";
    } else if (!b.console().contains("KLP-KALLSYMS-SENT rc=0")) {
      why = "the guest did not send the table";
    } else if (!Files.isRegularFile(out)) {
      why = "qemu wrote no table";
    } else if (Files.size(out) > MAX_DUMP) {
      why = "the guest sent more than " + (MAX_DUMP >> 20) + " MiB";
    }
    if (why == null) {
      String text;
      try (InputStream in = new GZIPInputStream(Files.newInputStream(out), 65536)) {
        text = new String(readAtMost(in, MAX_TEXT), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        text = null;
        why = "the table arrived damaged (" + e.getMessage() + ")";
      }
      if (text != null) {
        long lines = text.chars().filter(c -> c == '\n').count();
        if (lines == Long.parseLong(m.group(1))) {
          return text;
        }
        why = "the guest counted " + m.group(1) + " lines, " + lines + " arrived";
      }
    }
    String console = b.console();
    String tail = console.substring(Math.max(0, console.length() - 2000));
    Path qemuLog = work.resolve("console.log.qemu");
    if (Files.isRegularFile(qemuLog)) {
      String q = Files.readString(qemuLog, StandardCharsets.UTF_8).strip();
      if (!q.isEmpty()) {
        tail += "\nqemu said: " + q.substring(Math.max(0, q.length() - 1000));
      }
    }
    throw new KernelException(
        "kernel "
            + kernel.release()
            + ": dumping its symbol table in a VM ("
            + (kvm ? "KVM" : "software emulation")
            + ") failed: "
            + why
            + (b.timedOut()
                ? "; the guest was stopped at the time limit"
                : b.idle() ? "; the guest fell silent" : "")
            + "; qemu exited with "
            + b.exitCode()
            + "; the console ends with:\n"
            + tail);
  }

  /** The guest: a static busybox and {@link #INIT}. */
  static void writeInitrd(Path target) throws IOException {
    Path busybox =
        GuestImage.busybox().orElseThrow(() -> new IOException("no static busybox on this host"));
    try (OutputStream out = Files.newOutputStream(target);
        Cpio cpio = new Cpio(out)) {
      for (String d : List.of("bin", "dev", "proc")) {
        cpio.directory(d);
      }
      cpio.file("bin/busybox", 0755, Files.readAllBytes(busybox));
      cpio.symlink("bin/sh", "busybox");
      cpio.file("init", 0755, INIT.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static boolean kvmUsable() {
    Path dev = Path.of("/dev/kvm");
    return Files.isReadable(dev) && Files.isWritable(dev);
  }

  private static byte[] readAtMost(InputStream in, int limit) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(1 << 20);
    byte[] buf = new byte[65536];
    for (int n; (n = in.read(buf)) > 0; ) {
      if (b.size() + n > limit) {
        throw new IOException("more than " + (limit >> 20) + " MiB of text");
      }
      b.write(buf, 0, n);
    }
    return b.toByteArray();
  }
}
