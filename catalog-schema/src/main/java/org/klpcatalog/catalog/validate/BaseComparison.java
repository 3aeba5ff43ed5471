package org.klpcatalog.catalog.validate;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.diag.Diagnostics;
import org.klpcatalog.catalog.load.Codes;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.Variant;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.catalog.source.Paths;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.version.RpmVersion;
import org.klpcatalog.catalog.yaml.Mark;
import tools.jackson.databind.JsonNode;

/**
 * Compares a catalog revision with an older one, like chart-testing's version check: a patch whose
 * content changed must raise {@code spec.version}; versions never go down; a patch removed without
 * being superseded stays installed on hosts, which deserves a warning. A patch's content is its
 * directory (tests excepted: they change QA, not the package) with the manifest compared as data,
 * so comments and key order do not count. Pure.
 */
public final class BaseComparison {
  private BaseComparison() {}

  public static List<Diagnostic> compare(
      ValidationReport base,
      CatalogTree baseTree,
      ValidationReport head,
      CatalogTree headTree,
      String baseName) {
    Diagnostics d = new Diagnostics();
    Set<String> supersededInHead = new TreeSet<>();
    for (PatchReport p : head.patches().values()) {
      supersededInHead.addAll(p.patch().supersedes());
    }
    String prefix = head.spec().map(s -> s.packagePrefix()).orElse("kpatch-");
    for (PatchReport b : base.patches().values()) {
      String name = b.patch().name();
      PatchReport h = head.patches().get(name);
      if (h == null) {
        if (!supersededInHead.contains(name)) {
          d.warning(
              Codes.REMOVED_UNSUPERSEDED,
              b.patch().dir(),
              0,
              0,
              "",
              "patch "
                  + name
                  + " was removed since "
                  + baseName
                  + " without being superseded: hosts that installed "
                  + prefix
                  + name
                  + " keep it; if another patch replaces it, list "
                  + name
                  + " in that patch's"
                  + " spec.supersedes so hosts move to it");
        }
        continue;
      }
      Livepatch hp = h.patch();
      int cmp = RpmVersion.compare(hp.version(), b.patch().version());
      if (cmp < 0) {
        versionNotBumped(
            d,
            hp,
            "spec.version went down from "
                + b.patch().version()
                + " to "
                + hp.version()
                + " since "
                + baseName
                + "; versions only go up, or hosts would not upgrade");
        continue;
      }
      List<String> changed = changedFiles(b.patch(), baseTree, hp, headTree);
      if (!changed.isEmpty() && cmp == 0) {
        versionNotBumped(
            d,
            hp,
            "the patch changed since "
                + baseName
                + " ("
                + String.join(", ", changed)
                + ") but spec.version is still "
                + hp.version()
                + "; raise it so the new package gets a new version");
      }
    }
    return d.sorted();
  }

  /**
   * Files of the patch that differ, relative to its directory; the manifest compared without its
   * version.
   */
  private static void versionNotBumped(Diagnostics d, Livepatch p, String message) {
    Mark at = p.source().markOf("spec.version");
    d.error(
        Codes.VERSION_NOT_BUMPED,
        p.manifestPath(),
        at.line(),
        at.column(),
        "spec.version",
        message);
  }

  static List<String> changedFiles(
      Livepatch base, CatalogTree baseTree, Livepatch head, CatalogTree headTree) {
    Map<String, String> a = digests(base, baseTree);
    Map<String, String> b = digests(head, headTree);
    Set<String> names = new TreeSet<>(a.keySet());
    names.addAll(b.keySet());
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (!Objects.equals(a.get(n), b.get(n))) {
        out.add(n);
      }
    }
    return out;
  }

  private static Map<String, String> digests(Livepatch p, CatalogTree tree) {
    Set<String> testDirs = new TreeSet<>();
    for (Variant v : p.variants()) {
      Paths.join(p.dir(), v.tests()).ifPresent(testDirs::add);
    }
    Map<String, String> out = new TreeMap<>();
    for (String path : tree.listRecursive(p.dir())) {
      if (testDirs.stream().anyMatch(t -> Paths.isWithin(path, t))) {
        continue;
      }
      String rel = path.substring(p.dir().length() + 1);
      if (rel.equals("manifest.yaml")) {
        out.put(
            rel,
            sha256(canonicalWithoutVersion(p.source().root()).getBytes(StandardCharsets.UTF_8)));
        continue;
      }
      TreeEntry e = tree.get(path).orElseThrow();
      if (e instanceof TreeEntry.File f) {
        out.put(rel, sha256(f.content()));
      } else if (e instanceof TreeEntry.Symlink l) {
        out.put(rel, "link:" + l.target());
      } else if (e instanceof TreeEntry.Oversized o) {
        out.put(rel, "oversized:" + o.size());
      }
    }
    return out;
  }

  /** The manifest as data: keys sorted, spec.version left out. */
  static String canonicalWithoutVersion(JsonNode root) {
    StringBuilder sb = new StringBuilder();
    canonical(root, "", sb);
    return sb.toString();
  }

  private static void canonical(JsonNode n, String path, StringBuilder sb) {
    if (n.isObject()) {
      sb.append('{');
      for (String k : new TreeSet<>(n.propertyNames())) {
        if ((path + "/" + k).equals("/spec/version")) {
          continue;
        }
        sb.append('"').append(k).append("\":");
        canonical(n.get(k), path + "/" + k, sb);
        sb.append(',');
      }
      sb.append('}');
    } else if (n.isArray()) {
      sb.append('[');
      int i = 0;
      for (JsonNode v : n.values()) {
        canonical(v, path + "/" + i++, sb);
        sb.append(',');
      }
      sb.append(']');
    } else {
      sb.append(n.toString());
    }
  }

  private static String sha256(byte[] b) {
    return Digests.sha256(b);
  }
}
