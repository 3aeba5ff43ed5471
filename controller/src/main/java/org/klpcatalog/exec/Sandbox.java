package org.klpcatalog.exec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every step that touches catalog content runs (kbuild of a livepatch.c, the module checks,
 * rpmbuild): a bubblewrap sandbox with no network, no other processes, a fresh private {@code
 * /tmp}, the toolchain ({@code /usr}) read-only, the mounts a step asks for (its kernel's headers
 * read-only, one writable scratch directory), nothing else of the host (no home directories, keys,
 * repositories or caches), a non-root user without capabilities, and CPU, memory and file-size
 * limits ({@code prlimit}). The wall-clock limit is the {@link Command}'s timeout.
 *
 * <p>{@link #unconfined} is the documented opt-out for machines that cannot run bubblewrap: the
 * same steps with the same limits and paths, but with the host's file system and network. The
 * commands warn about it on every run.
 */
public final class Sandbox {
  /** Resource limits of one sandboxed program and each of its children. */
  public record Limits(Duration cpu, long memoryBytes, long fileBytes) {
    /** 10 minutes of CPU, 4 GiB of address space, 1 GiB per written file. */
    public static final Limits DEFAULT = new Limits(Duration.ofMinutes(10), 4L << 30, 1L << 30);

    public Limits withCpu(Duration d) {
      return new Limits(d, memoryBytes, fileBytes);
    }
  }

  /** The sandbox cannot run here. */
  public static final class UnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
      super(message);
    }
  }

  /** The user and group sandboxed programs run as (nobody). */
  static final int UID = 65534;

  private final boolean confined;
  private final Limits limits;
  private volatile Path etc;

  private Sandbox(boolean confined, Limits limits) {
    this.confined = confined;
    this.limits = limits;
  }

  /** The bubblewrap sandbox. */
  public static Sandbox bubblewrap(Limits limits) {
    return new Sandbox(true, limits);
  }

  /** No confinement: the opt-out for machines that cannot run bubblewrap (unsafe; warned about). */
  public static Sandbox unconfined(Limits limits) {
    return new Sandbox(false, limits);
  }

  public boolean confined() {
    return confined;
  }

  public Limits limits() {
    return limits;
  }

  /** The same sandbox with other limits. */
  public Sandbox withLimits(Limits l) {
    return new Sandbox(confined, l);
  }

  /**
   * Checks that the sandbox works here by running {@code true} in it; the message says how to fix
   * what is missing. Called when a command starts, so a machine without bubblewrap fails at once
   * instead of falling back silently.
   */
  public void probe() throws UnavailableException, InterruptedException {
    if (!confined) {
      return;
    }
    for (String tool : List.of("bwrap", "prlimit")) {
      if (Command.which(tool).isEmpty()) {
        throw new UnavailableException(
            tool
                + " is not installed: builds run in a bubblewrap sandbox; install "
                + (tool.equals("bwrap") ? "bubblewrap" : "util-linux")
                + " (bin/klp-catalog installs it; see"
                + " 'klp-catalog check')");
      }
    }
    Command.Result r;
    try {
      r = new Run(this).command("true").timeout(Duration.ofSeconds(30)).run();
    } catch (IOException e) {
      throw new UnavailableException("the bubblewrap sandbox cannot start: " + e.getMessage());
    }
    if (!r.ok()) {
      throw new UnavailableException(
          "the bubblewrap sandbox cannot start here: "
              + r.output().strip()
              + "\n"
              + "  bubblewrap needs unprivileged user namespaces (sysctl"
              + " kernel.unprivileged_userns_clone=1 on Debian; user.max_user_namespaces > 0); a"
              + " container may forbid them. See docs/security.md.");
    }
  }

  /** A step to run in this sandbox: say what it may see, then give its command line. */
  public Run run() {
    return new Run(this);
  }

  /** One sandboxed program: its mounts, working directory and environment. */
  public static final class Run {
    private record Mount(Path host, String inside, boolean writable) {}

    private final Sandbox sandbox;
    private final List<Mount> mounts = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private String chdir = "/tmp";
    private boolean proc;

    private Run(Sandbox sandbox) {
      this.sandbox = sandbox;
      env.put("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
      env.put("HOME", "/tmp");
      env.put("TMPDIR", "/tmp");
      env.put("LC_ALL", "C");
      env.put("TZ", "UTC");
    }

    /**
     * {@code host} read-only, at its real path inside (links resolved, so absolute paths the tree
     * holds, such as a Makefile's includes, lead where they lead outside).
     */
    public Run readOnly(Path host) {
      Path real = real(host);
      return mount(real, real.toString(), false);
    }

    /** {@code host} read-only at {@code inside}. */
    public Run readOnly(Path host, String inside) {
      return mount(real(host), inside, false);
    }

    /** {@code host} writable at {@code inside}: the step's one scratch directory. */
    public Run writable(Path host, String inside) {
      return mount(real(host), inside, true);
    }

    private static Path real(Path p) {
      Path abs = p.toAbsolutePath().normalize();
      try {
        return Files.exists(abs) ? abs.toRealPath() : abs;
      } catch (IOException e) {
        return abs;
      }
    }

    private Run mount(Path host, String inside, boolean writable) {
      if (!inside.startsWith("/")) {
        throw new IllegalArgumentException("sandbox paths are absolute: " + inside);
      }
      mounts.add(new Mount(host, inside, writable));
      return this;
    }

    /** A /proc of the sandbox's own processes (some tools need it; kbuild and rpmbuild do not). */
    public Run withProc() {
      this.proc = true;
      return this;
    }

    public Run chdir(String inside) {
      this.chdir = inside;
      return this;
    }

    public Run env(String key, String value) {
      env.put(key, value);
      return this;
    }

    /**
     * The path a program in the sandbox sees for {@code host} (which must be inside a mount): the
     * mount's inside path when confined, the host path itself when not.
     */
    public String inside(Path host) {
      Path abs = real(host);
      for (int i = mounts.size() - 1; i >= 0; i--) {
        Mount m = mounts.get(i);
        if (abs.startsWith(m.host())) {
          if (!sandbox.confined) {
            return abs.toString();
          }
          String rest = m.host().relativize(abs).toString();
          return rest.isEmpty() ? m.inside() : m.inside().replaceAll("/$", "") + "/" + rest;
        }
      }
      throw new IllegalArgumentException(abs + " is not mounted in the sandbox");
    }

    /** The command line, wrapped: prlimit, then bwrap with this step's view of the machine. */
    public Command command(String... argv) {
      return command(List.of(argv));
    }

    public Command command(List<String> argv) {
      ToolRegistry.checkDeclared(argv.get(0));
      Limits l = sandbox.limits;
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "prlimit",
                  "--cpu=" + Math.max(1, l.cpu().toSeconds()),
                  "--as=" + l.memoryBytes(),
                  "--fsize=" + l.fileBytes(),
                  "--core=0",
                  "--"));
      if (!sandbox.confined) {
        cmd.addAll(argv);
        Command c = Command.of(cmd);
        env.forEach(c::env);
        Path dir = hostDirectory();
        return dir == null ? c : c.in(dir);
      }
      cmd.addAll(
          List.of(
              "bwrap",
              "--unshare-all",
              "--unshare-user",
              "--disable-userns",
              "--die-with-parent",
              "--new-session",
              "--cap-drop",
              "ALL",
              "--uid",
              Integer.toString(UID),
              "--gid",
              Integer.toString(UID),
              "--ro-bind",
              "/usr",
              "/usr"));
      // Of /usr, only the distribution's toolchain: locally installed software and source trees
      // (a kernel source under /usr/src, say) are not part of it.
      for (String masked : List.of("/usr/local", "/usr/src")) {
        if (Files.isDirectory(Path.of(masked))) {
          cmd.addAll(List.of("--tmpfs", masked));
        }
      }
      // Merged-/usr systems have these as links into /usr; others have real directories.
      for (String top : List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")) {
        Path p = Path.of(top);
        if (Files.isSymbolicLink(p)) {
          try {
            cmd.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), top));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          cmd.addAll(List.of("--ro-bind", top, top));
        }
      }
      // Of /etc, what the toolchain needs to run: Debian's alternatives (awk, cc), the linker
      // cache, rpm's configuration, and a passwd/group of our own.
      for (String e : List.of("/etc/alternatives", "/etc/ld.so.cache", "/etc/rpm")) {
        if (Files.exists(Path.of(e))) {
          cmd.addAll(List.of("--ro-bind", e, e));
        }
      }
      Path etcDir = sandbox.etc();
      cmd.addAll(
          List.of(
              "--ro-bind",
              etcDir.resolve("passwd").toString(),
              "/etc/passwd",
              "--ro-bind",
              etcDir.resolve("group").toString(),
              "/etc/group",
              "--dev",
              "/dev",
              "--tmpfs",
              "/tmp",
              "--tmpfs",
              "/var/tmp"));
      if (proc) {
        cmd.addAll(List.of("--proc", "/proc"));
      }
      for (Mount m : mounts) {
        cmd.addAll(List.of(m.writable() ? "--bind" : "--ro-bind", m.host().toString(), m.inside()));
      }
      cmd.addAll(List.of("--chdir", chdir, "--clearenv"));
      env.forEach((k, v) -> cmd.addAll(List.of("--setenv", k, v)));
      cmd.add("--");
      cmd.addAll(argv);
      return Command.of(cmd);
    }

    private Path hostDirectory() {
      for (int i = mounts.size() - 1; i >= 0; i--) {
        Mount m = mounts.get(i);
        if (chdir.equals(m.inside()) || chdir.startsWith(m.inside().replaceAll("/$", "") + "/")) {
          String rest = chdir.substring(m.inside().length()).replaceAll("^/", "");
          return rest.isEmpty() ? m.host() : m.host().resolve(rest);
        }
      }
      return null;
    }
  }

  /** passwd and group for the sandbox, made once per process. */
  private Path etc() {
    Path e = etc;
    // A long-running service outlives files in the system's temporary directory (tmpfiles ages
    // them): make them again when they are gone.
    if (e != null
        && !(Files.isRegularFile(e.resolve("passwd")) && Files.isRegularFile(e.resolve("group")))) {
      synchronized (this) {
        etc = null;
      }
      e = null;
    }
    if (e == null) {
      synchronized (this) {
        if (etc == null) {
          try {
            Path dir = Files.createTempDirectory("klp-catalog-sandbox");
            Files.writeString(
                dir.resolve("passwd"),
                "root:x:0:0:root:/root:/bin/sh\nnobody:x:"
                    + UID
                    + ":"
                    + UID
                    + ":nobody:/tmp:/usr/sbin/nologin\n",
                StandardCharsets.UTF_8);
            Files.writeString(
                dir.resolve("group"),
                "root:x:0:\nnogroup:x:" + UID + ":\n",
                StandardCharsets.UTF_8);
            dir.toFile().deleteOnExit();
            dir.resolve("passwd").toFile().deleteOnExit();
            dir.resolve("group").toFile().deleteOnExit();
            etc = dir;
          } catch (IOException ex) {
            throw new UncheckedIOException(ex);
          }
        }
        e = etc;
      }
    }
    return e;
  }
}
