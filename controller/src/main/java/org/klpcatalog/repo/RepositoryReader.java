package org.klpcatalog.repo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.klpcatalog.plan.DesiredGroup;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.ReleaseLedger;

/**
 * Reads the published repository's current version: {@code repodata/repomd.xml}, the primary
 * metadata and the group file it lists (each checked against the checksum repomd.xml gives), and
 * the controller's inventory beside them. A repository directory that does not exist, or is empty,
 * is an empty repository; anything else that cannot be read is a {@link
 * CorruptRepositoryException}, never silently empty. Read-only.
 */
public final class RepositoryReader {
  /** The link (or directory) hosts and web servers point at. */
  public static final String CURRENT = "current";

  private RepositoryReader() {}

  public static ObservedState read(Path repo) throws CorruptRepositoryException {
    return read(repo, null);
  }

  /**
   * Like {@link #read(Path)}, remembering what it read in {@code cache}: a published version
   * directory never changes, so the same version with the same repomd.xml is not parsed again.
   */
  public static ObservedState read(Path repo, Map<String, ObservedState> cache)
      throws CorruptRepositoryException {
    try {
      if (!Files.exists(repo)) {
        return ObservedState.EMPTY;
      }
      if (!Files.isDirectory(repo)) {
        throw new CorruptRepositoryException(repo + " is not a directory");
      }
      Path current = repo.resolve(CURRENT);
      if (!Files.exists(current)) {
        // Never published (or killed before its first switch): only our own working entries
        // (the lock, staging, partial or unswitched versions, the history) may be there.
        try (var s = Files.list(repo)) {
          if (s.map(p -> p.getFileName().toString())
              .allMatch(
                  n -> n.startsWith(".") || n.equals("versions") || n.equals("history.jsonl"))) {
            return ObservedState.EMPTY;
          }
        }
        throw new CorruptRepositoryException(
            repo
                + " is not empty but has no '"
                + CURRENT
                + "' version; point --repo at a repository klp-catalog publishes, or at an empty"
                + " directory");
      }
      Path version = current.toRealPath();
      return withNewerLedgers(readVersion(version, cache), version);
    } catch (IOException e) {
      throw new CorruptRepositoryException("cannot read " + repo + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code state} with the release ledgers of the versions newer than {@code version} merged in:
   * after a rollback, what the rolled-back versions published still holds its NEVRAs, so new
   * content never takes one of them (the host tool's releases, and a directory catalog's, come from
   * this ledger).
   */
  private static ObservedState withNewerLedgers(ObservedState state, Path version)
      throws IOException, CorruptRepositoryException {
    Path versions = version.getParent();
    int number;
    try {
      number = Integer.parseInt(version.getFileName().toString());
    } catch (NumberFormatException e) {
      return state;
    }
    ReleaseLedger.Builder merged = null;
    try (Stream<Path> s = Files.list(versions)) {
      for (Path newer :
          s.filter(p -> p.getFileName().toString().matches("[0-9]{1,9}"))
              .filter(p -> Integer.parseInt(p.getFileName().toString()) > number)
              .sorted(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString())))
              .toList()) {
        Path file = newer.resolve(Inventory.FILE);
        if (!Files.isRegularFile(file)) {
          continue;
        }
        Inventory inv;
        try {
          inv = Inventory.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException | CorruptRepositoryException e) {
          throw new CorruptRepositoryException(
              "version "
                  + newer.getFileName()
                  + " (newer than current, after a rollback) has an inventory this klp-catalog"
                  + " cannot read ("
                  + e.getMessage()
                  + "); its releases must not be given again, so upgrade klp-catalog, or remove "
                  + newer
                  + " if nothing of it reached hosts",
              e);
        }
        if (merged == null) {
          merged = state.ledger().toBuilder();
        }
        for (Map.Entry<String, List<ReleaseLedger.Entry>> e : inv.ledger().entries().entrySet()) {
          for (ReleaseLedger.Entry en : e.getValue()) {
            merged.record(e.getKey(), en);
          }
        }
      }
    }
    if (merged == null) {
      return state;
    }
    return new ObservedState(
        state.exists(),
        state.version(),
        state.revision(),
        state.packages(),
        state.group(),
        merged.build());
  }

  /** Reads one version directory, as {@link #read(Path)} reads the current one. */
  public static ObservedState readVersion(Path version, Map<String, ObservedState> cache)
      throws CorruptRepositoryException {
    return readVersion(version, cache, true);
  }

  /**
   * Reads a version's metadata only: what a downloaded copy of a remote repository's metadata holds
   * (its packages are not there to check).
   */
  public static ObservedState readMetadata(Path version) throws CorruptRepositoryException {
    return readVersion(version, null, false);
  }

  private static ObservedState readVersion(
      Path version, Map<String, ObservedState> cache, boolean packages)
      throws CorruptRepositoryException {
    try {
      Path repomdPath = version.resolve("repodata/repomd.xml");
      if (!Files.isRegularFile(repomdPath)) {
        throw new CorruptRepositoryException(repomdPath + " is missing");
      }
      byte[] repomdBytes = Files.readAllBytes(repomdPath);
      String cacheKey =
          version + "\0" + Repodata.digest("sha256", repomdBytes, repomdPath.toString());
      if (cache != null && cache.containsKey(cacheKey)) {
        return cache.get(cacheKey);
      }
      List<Repodata.MetadataFile> metadata =
          Repodata.parseRepomd(repomdBytes, repomdPath.toString());
      Map<String, byte[]> contents = new HashMap<>();
      for (Repodata.MetadataFile m : metadata) {
        Path file = inside(version, m.href(), repomdPath);
        if (!Files.isRegularFile(file)) {
          throw new CorruptRepositoryException(
              repomdPath + " lists " + m.href() + ", which is missing");
        }
        byte[] bytes = Files.readAllBytes(file);
        String actual = Repodata.digest(m.checksumType(), bytes, repomdPath.toString());
        if (!actual.equalsIgnoreCase(m.checksum())) {
          throw new CorruptRepositoryException(
              version.relativize(file)
                  + ": checksum mismatch: repomd.xml lists "
                  + m.checksumType()
                  + " "
                  + m.checksum()
                  + ", the file has "
                  + actual);
        }
        contents.put(m.type(), bytes);
      }
      if (!contents.containsKey("primary")) {
        throw new CorruptRepositoryException(repomdPath + " lists no primary metadata");
      }
      String primaryName = hrefOf(metadata, "primary");
      List<PrimaryPackage> primary = new ArrayList<>();
      for (Repodata.RpmEntry e :
          Repodata.parsePrimary(
              Repodata.uncompress(contents.get("primary"), primaryName),
              version.resolve(primaryName).toString())) {
        int release;
        try {
          release = Integer.parseInt(e.release());
        } catch (NumberFormatException ex) {
          throw new CorruptRepositoryException(
              primaryName
                  + ": package "
                  + e.name()
                  + " has release '"
                  + e.release()
                  + "', which klp-catalog does not write");
        }
        primary.add(
            new PrimaryPackage(
                e.name(),
                e.arch(),
                new Evr(e.epoch(), e.version(), release),
                e.location(),
                e.checksum()));
      }
      Optional<DesiredGroup> group = Optional.empty();
      if (contents.containsKey("group")) {
        group = parseComps(contents.get("group"), hrefOf(metadata, "group"));
      } else if (contents.containsKey("group_gz")) {
        group =
            parseComps(
                Repodata.uncompress(contents.get("group_gz"), hrefOf(metadata, "group_gz")),
                hrefOf(metadata, "group_gz"));
      }
      Path inventoryPath = version.resolve(Inventory.FILE);
      if (!Files.isRegularFile(inventoryPath)) {
        throw new CorruptRepositoryException(
            inventoryPath
                + " is missing: this repository was not published by klp-catalog (or its inventory"
                + " was removed), so its packages' contents are unknown");
      }
      Inventory inventory =
          Inventory.parse(
              Files.readString(inventoryPath, StandardCharsets.UTF_8), inventoryPath.toString());
      List<ObservedPackage> joined = join(primary, inventory, version, packages);
      ObservedState state =
          new ObservedState(
              true,
              version.getFileName().toString(),
              inventory.revision(),
              joined,
              group,
              inventory.ledger());
      if (cache != null) {
        cache.clear();
        cache.put(cacheKey, state);
      }
      return state;
    } catch (IOException e) {
      throw new CorruptRepositoryException("cannot read " + version + ": " + e.getMessage(), e);
    }
  }

  /** A package as primary.xml lists it. */
  record PrimaryPackage(String name, String arch, Evr evr, String location, String checksum) {
    String nevra() {
      return name + "-" + evr + "." + arch;
    }
  }

  /** Repodata and inventory must describe the same packages. */
  private static List<ObservedPackage> join(
      List<PrimaryPackage> primary, Inventory inventory, Path version, boolean packages)
      throws CorruptRepositoryException {
    Map<String, Inventory.Entry> byNevra = new HashMap<>();
    for (Inventory.Entry e : inventory.packages()) {
      byNevra.put(e.pkg().nevra(), e);
    }
    List<ObservedPackage> out = new ArrayList<>();
    for (PrimaryPackage p : primary) {
      Inventory.Entry e = byNevra.remove(p.nevra());
      if (e == null) {
        throw new CorruptRepositoryException(
            version
                + ": repodata lists "
                + p.nevra()
                + ", which the inventory does not; the repository was changed by something other"
                + " than klp-catalog");
      }
      if (packages && !Files.isRegularFile(inside(version, p.location(), version))) {
        throw new CorruptRepositoryException(
            version + ": package file " + p.location() + " is missing");
      }
      ObservedPackage ip = e.pkg();
      out.add(
          new ObservedPackage(
              p.name(),
              p.evr(),
              p.arch(),
              p.location(),
              p.checksum(),
              ip.contentHash(),
              ip.metadataHash(),
              ip.modules(),
              ip.changedIn()));
    }
    if (!byNevra.isEmpty()) {
      throw new CorruptRepositoryException(
          version
              + ": the inventory lists "
              + String.join(", ", byNevra.keySet())
              + ", which repodata does not");
    }
    out.sort(Comparator.comparing(ObservedPackage::name));
    return List.copyOf(out);
  }

  private static String hrefOf(List<Repodata.MetadataFile> metadata, String type) {
    return metadata.stream()
        .filter(m -> m.type().equals(type))
        .findFirst()
        .map(Repodata.MetadataFile::href)
        .orElse(type);
  }

  private static Path inside(Path version, String href, Path where)
      throws CorruptRepositoryException {
    Path p = version.resolve(href).normalize();
    if (!p.startsWith(version)) {
      throw new CorruptRepositoryException(where + ": location " + href + " leaves the repository");
    }
    return p;
  }

  static Optional<DesiredGroup> parseComps(byte[] bytes, String where)
      throws CorruptRepositoryException {
    try {
      XMLStreamReader r = Repodata.xml(bytes);
      String id = null;
      String name = null;
      String description = "";
      List<String> packages = new ArrayList<>();
      String text = "";
      boolean localized = false;
      boolean inGroup = false;
      while (r.hasNext()) {
        int ev = r.next();
        if (ev == XMLStreamConstants.START_ELEMENT) {
          text = "";
          localized = r.getAttributeValue("http://www.w3.org/XML/1998/namespace", "lang") != null;
          if (r.getLocalName().equals("group")) {
            if (inGroup || id != null) {
              continue;
            }
            inGroup = true;
          }
        } else if (ev == XMLStreamConstants.CHARACTERS) {
          text += r.getText();
        } else if (ev == XMLStreamConstants.END_ELEMENT && inGroup) {
          switch (r.getLocalName()) {
            case "id":
              id = text.strip();
              break;
            case "name":
              if (!localized) {
                name = text.strip();
              }
              break;
            case "description":
              if (!localized) {
                description = text.strip();
              }
              break;
            case "packagereq":
              packages.add(text.strip());
              break;
            case "group":
              inGroup = false;
              break;
            default:
              break;
          }
        }
      }
      if (id == null) {
        return Optional.empty();
      }
      packages.sort(null);
      return Optional.of(
          new DesiredGroup(id, name == null ? "" : name, description, List.copyOf(packages)));
    } catch (XMLStreamException e) {
      throw new CorruptRepositoryException(where + ": malformed group file: " + e.getMessage(), e);
    }
  }
}
