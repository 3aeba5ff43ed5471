package org.klpcatalog.source;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.klpcatalog.exec.Command;

/**
 * Git objects written with the real git's plumbing (hash-object, ls-tree, commit-tree), including
 * trees git itself would never write: duplicate names, entries out of order.
 */
final class GitObjects {
  private final Path repo;

  GitObjects(Path repo) {
    this.repo = repo;
  }

  /** One tree entry: mode (as ls-tree prints it), name and object id. */
  record Entry(String mode, String name, String id) {
    boolean isTree() {
      return mode.equals("040000") || mode.equals("40000");
    }
  }

  private String git(String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("git", "-C", repo.toString()));
    argv.addAll(List.of(args));
    return Command.of(argv)
        .env("GIT_AUTHOR_NAME", "Catalog Maintainer")
        .env("GIT_AUTHOR_EMAIL", "maintainer@example.org")
        .env("GIT_COMMITTER_NAME", "Catalog Maintainer")
        .env("GIT_COMMITTER_EMAIL", "maintainer@example.org")
        .env("GIT_AUTHOR_DATE", "2026-01-02T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-02T00:00:00Z")
        .check()
        .strip();
  }

  /** Writes a blob of these bytes. */
  String blob(byte[] content) throws Exception {
    Path f = Files.createTempFile("klp-blob", ".bin");
    try {
      Files.write(f, content);
      return git("hash-object", "-w", f.toString());
    } finally {
      Files.delete(f);
    }
  }

  /** The entries of a tree-ish (a commit's tree, or {@code commit:dir}). */
  List<Entry> ls(String treeish) throws Exception {
    List<Entry> out = new ArrayList<>();
    for (String line : git("ls-tree", "-z", "--full-tree", treeish).split("\0")) {
      if (line.isEmpty()) {
        continue;
      }
      int tab = line.indexOf('\t');
      String[] meta = line.substring(0, tab).split(" ");
      out.add(new Entry(meta[0], line.substring(tab + 1), meta[2]));
    }
    return out;
  }

  /** Writes a tree of exactly these entries, in this order, duplicates and all. */
  String tree(List<Entry> entries) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (Entry e : entries) {
      String mode = e.isTree() ? "40000" : e.mode();
      bytes.writeBytes((mode + " " + e.name()).getBytes(StandardCharsets.UTF_8));
      bytes.write(0);
      bytes.writeBytes(HexFormat.of().parseHex(e.id()));
    }
    Path f = Files.createTempFile("klp-tree", ".bin");
    try {
      Files.write(f, bytes.toByteArray());
      return git("hash-object", "-t", "tree", "--literally", "-w", f.toString());
    } finally {
      Files.delete(f);
    }
  }

  /**
   * The tree {@code treeish} (a commit's "c^{tree}" or a tree id) with the entries of directory
   * {@code dir} ("" for the root) changed by {@code edit}; the directories above it are rewritten
   * to hold the new tree.
   */
  String editTree(String treeish, String dir, UnaryOperator<List<Entry>> edit) throws Exception {
    if (dir.isEmpty()) {
      return tree(edit.apply(new ArrayList<>(ls(treeish))));
    }
    int slash = dir.indexOf('/');
    String first = slash < 0 ? dir : dir.substring(0, slash);
    String rest = slash < 0 ? "" : dir.substring(slash + 1);
    List<Entry> entries = new ArrayList<>(ls(treeish));
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      if (e.name().equals(first) && e.isTree()) {
        entries.set(i, new Entry(e.mode(), e.name(), editTree(e.id(), rest, edit)));
      }
    }
    return tree(entries);
  }

  /**
   * {@code entries} with {@code extra} added after the last entry of the same name, or at the end.
   */
  static List<Entry> with(List<Entry> entries, Entry extra) {
    List<Entry> out = new ArrayList<>(entries);
    int at = out.size();
    for (int i = 0; i < out.size(); i++) {
      if (out.get(i).name().equals(extra.name())) {
        at = i + 1;
      }
    }
    out.add(at, extra);
    return out;
  }

  /** {@code entries} with the one named {@code name} pointing at {@code id} instead. */
  static List<Entry> replaced(List<Entry> entries, String name, String id) {
    return entries.stream()
        .map(e -> e.name().equals(name) ? new Entry(e.mode(), e.name(), id) : e)
        .toList();
  }

  /** A commit of this tree on top of {@code parent}. */
  String commit(String tree, String parent, String message) throws Exception {
    return git("commit-tree", tree, "-p", parent, "-m", message);
  }
}
