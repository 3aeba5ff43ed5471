package org.klpcatalog.qa;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes initramfs archives: cpio "newc" (the format the kernel unpacks), with fixed owners and
 * times so the same tree gives the same bytes. Directories come before what they contain.
 */
final class Cpio implements AutoCloseable {
  private static final int DIR = 0040000;
  private static final int FILE = 0100000;
  private static final int LINK = 0120000;

  private final OutputStream out;
  private long written;
  private int inode = 1;

  Cpio(OutputStream out) {
    this.out = out;
  }

  void directory(String name) throws IOException {
    entry(name, DIR | 0755, new byte[0]);
  }

  void file(String name, int perm, byte[] content) throws IOException {
    entry(name, FILE | perm, content);
  }

  void symlink(String name, String target) throws IOException {
    entry(name, LINK | 0777, target.getBytes(StandardCharsets.UTF_8));
  }

  /** Adds a directory tree from disk under {@code prefix} ("" for the archive's root). */
  void tree(Path root) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = s.sorted().toList();
    }
    for (Path p : all) {
      String name = root.relativize(p).toString();
      if (name.isEmpty()) {
        continue;
      }
      if (Files.isSymbolicLink(p)) {
        symlink(name, Files.readSymbolicLink(p).toString());
      } else if (Files.isDirectory(p)) {
        directory(name);
      } else {
        file(name, Files.isExecutable(p) ? 0755 : 0644, Files.readAllBytes(p));
      }
    }
  }

  private void entry(String name, int mode, byte[] data) throws IOException {
    byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
    StringBuilder h = new StringBuilder("070701");
    for (long v :
        new long[] {
          inode++, mode, 0, 0, (mode & DIR) == DIR ? 2 : 1, 0, data.length, 0, 0, 0, 0, n.length, 0
        }) {
      h.append(String.format("%08x", v));
    }
    write(h.toString().getBytes(StandardCharsets.US_ASCII));
    write(n);
    pad();
    write(data);
    pad();
  }

  private void write(byte[] b) throws IOException {
    out.write(b);
    written += b.length;
  }

  private void pad() throws IOException {
    while (written % 4 != 0) {
      out.write(0);
      written++;
    }
  }

  @Override
  public void close() throws IOException {
    entry("TRAILER!!!", 0, new byte[0]);
    out.flush();
  }
}
