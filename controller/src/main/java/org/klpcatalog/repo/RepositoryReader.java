package org.klpcatalog.repo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.klpcatalog.plan.DesiredGroup;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;

/**
 * Reads the published repository's current version: {@code repodata/repomd.xml}, the primary
 * metadata and the group file it lists (each checked against the checksum repomd.xml gives), and
 * the controller's inventory beside them. A repository directory that does not exist, or is
 * empty, is an empty repository; anything else that cannot be read is a {@link
 * CorruptRepositoryException}, never silently empty. Read-only.
 */
public final class RepositoryReader {
  /** The link (or directory) hosts and web servers point at. */
  public static final String CURRENT = "current";

  private RepositoryReader() {}

  /** One {@code <data>} entry of repomd.xml. */
  record MetadataFile(String type, String href, String checksumType, String checksum) {}

  public static ObservedState read(Path repo) throws CorruptRepositoryException {
    return read(repo, null);
  }

  /**
   * Like {@link #read(Path)}, remembering what it read in {@code cache}: a published version
   * directory never changes, so the same version with the same repomd.xml is not parsed again.
   */
  public static ObservedState read(Path repo, Map<String, ObservedState> cache) throws CorruptRepositoryException {
    try {
      if (!Files.exists(repo)) {
        return ObservedState.EMPTY;
      }
      if (!Files.isDirectory(repo)) {
        throw new CorruptRepositoryException(repo + " is not a directory");
      }
      Path current = repo.resolve(CURRENT);
      if (!Files.exists(current)) {
        try (var s = Files.list(repo)) {
          if (s.findAny().isEmpty()) {
            return ObservedState.EMPTY;
          }
        }
        throw new CorruptRepositoryException(repo + " is not empty but has no '" + CURRENT
            + "' version; point --repo at a repository klp-catalog publishes, or at an empty directory");
      }
      Path version = current.toRealPath();
      Path repomdPath = version.resolve("repodata/repomd.xml");
      if (!Files.isRegularFile(repomdPath)) {
        throw new CorruptRepositoryException(repomdPath + " is missing");
      }
      byte[] repomdBytes = Files.readAllBytes(repomdPath);
      String cacheKey = version + "\0" + digest("sha256", repomdBytes, repomdPath);
      if (cache != null && cache.containsKey(cacheKey)) {
        return cache.get(cacheKey);
      }
      List<MetadataFile> metadata = parseRepomd(repomdBytes, repomdPath.toString());
      Map<String, byte[]> contents = new HashMap<>();
      for (MetadataFile m : metadata) {
        Path file = inside(version, m.href(), repomdPath);
        if (!Files.isRegularFile(file)) {
          throw new CorruptRepositoryException(repomdPath + " lists " + m.href() + ", which is missing");
        }
        byte[] bytes = Files.readAllBytes(file);
        String actual = digest(m.checksumType(), bytes, repomdPath);
        if (!actual.equalsIgnoreCase(m.checksum())) {
          throw new CorruptRepositoryException(version.relativize(file) + ": checksum mismatch: repomd.xml lists "
              + m.checksumType() + " " + m.checksum() + ", the file has " + actual);
        }
        contents.put(m.type(), bytes);
      }
      if (!contents.containsKey("primary")) {
        throw new CorruptRepositoryException(repomdPath + " lists no primary metadata");
      }
      List<PrimaryPackage> primary = parsePrimary(uncompress(contents.get("primary"), hrefOf(metadata, "primary")),
          version.resolve(hrefOf(metadata, "primary")).toString());
      Optional<DesiredGroup> group = Optional.empty();
      if (contents.containsKey("group")) {
        group = parseComps(contents.get("group"), hrefOf(metadata, "group"));
      } else if (contents.containsKey("group_gz")) {
        group = parseComps(uncompress(contents.get("group_gz"), hrefOf(metadata, "group_gz")), hrefOf(metadata, "group_gz"));
      }
      Path inventoryPath = version.resolve(Inventory.FILE);
      if (!Files.isRegularFile(inventoryPath)) {
        throw new CorruptRepositoryException(inventoryPath + " is missing: this repository was not published by"
            + " klp-catalog (or its inventory was removed), so its packages' contents are unknown");
      }
      Inventory inventory = Inventory.parse(Files.readString(inventoryPath, StandardCharsets.UTF_8), inventoryPath.toString());
      List<ObservedPackage> packages = join(primary, inventory, version);
      ObservedState state = new ObservedState(true, version.getFileName().toString(), inventory.revision(), packages,
          group, inventory.ledger());
      if (cache != null) {
        cache.clear();
        cache.put(cacheKey, state);
      }
      return state;
    } catch (IOException e) {
      throw new CorruptRepositoryException("cannot read " + repo + ": " + e.getMessage(), e);
    }
  }

  /** A package as primary.xml lists it. */
  record PrimaryPackage(String name, String arch, Evr evr, String location, String checksum) {
    String nevra() {
      return name + "-" + evr + "." + arch;
    }
  }

  /** Repodata and inventory must describe the same packages. */
  private static List<ObservedPackage> join(List<PrimaryPackage> primary, Inventory inventory, Path version)
      throws CorruptRepositoryException {
    Map<String, Inventory.Entry> byNevra = new HashMap<>();
    for (Inventory.Entry e : inventory.packages()) {
      byNevra.put(e.pkg().nevra(), e);
    }
    List<ObservedPackage> out = new ArrayList<>();
    for (PrimaryPackage p : primary) {
      Inventory.Entry e = byNevra.remove(p.nevra());
      if (e == null) {
        throw new CorruptRepositoryException(version + ": repodata lists " + p.nevra()
            + ", which the inventory does not; the repository was changed by something other than klp-catalog");
      }
      if (!Files.isRegularFile(inside(version, p.location(), version))) {
        throw new CorruptRepositoryException(version + ": package file " + p.location() + " is missing");
      }
      ObservedPackage ip = e.pkg();
      out.add(new ObservedPackage(p.name(), p.evr(), p.arch(), p.location(), p.checksum(), ip.contentHash(),
          ip.metadataHash(), ip.modules(), ip.changedIn()));
    }
    if (!byNevra.isEmpty()) {
      throw new CorruptRepositoryException(version + ": the inventory lists " + String.join(", ", byNevra.keySet())
          + ", which repodata does not");
    }
    out.sort(java.util.Comparator.comparing(ObservedPackage::name));
    return List.copyOf(out);
  }

  private static String hrefOf(List<MetadataFile> metadata, String type) {
    return metadata.stream().filter(m -> m.type().equals(type)).findFirst().map(MetadataFile::href).orElse(type);
  }

  private static Path inside(Path version, String href, Path where) throws CorruptRepositoryException {
    Path p = version.resolve(href).normalize();
    if (!p.startsWith(version)) {
      throw new CorruptRepositoryException(where + ": location " + href + " leaves the repository");
    }
    return p;
  }

  static byte[] uncompress(byte[] bytes, String name) throws CorruptRepositoryException {
    if (name.endsWith(".gz")) {
      try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
        return in.readAllBytes();
      } catch (IOException e) {
        throw new CorruptRepositoryException(name + ": cannot decompress: " + e.getMessage(), e);
      }
    }
    if (name.endsWith(".xml")) {
      return bytes;
    }
    throw new CorruptRepositoryException(name + ": unsupported compression; klp-catalog publishes gzip metadata");
  }

  private static String digest(String type, byte[] bytes, Path where) throws CorruptRepositoryException {
    String algorithm;
    switch (type) {
      case "sha256":
        algorithm = "SHA-256";
        break;
      case "sha512":
        algorithm = "SHA-512";
        break;
      case "sha1":
      case "sha":
        algorithm = "SHA-1";
        break;
      default:
        throw new CorruptRepositoryException(where + ": unsupported checksum type " + type);
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static XMLStreamReader xml(byte[] bytes) throws XMLStreamException {
    XMLInputFactory f = XMLInputFactory.newFactory();
    f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    f.setProperty(XMLInputFactory.IS_COALESCING, true);
    return f.createXMLStreamReader(new ByteArrayInputStream(bytes));
  }

  static List<MetadataFile> parseRepomd(byte[] bytes, String where) throws CorruptRepositoryException {
    List<MetadataFile> out = new ArrayList<>();
    try {
      XMLStreamReader r = xml(bytes);
      String type = null;
      String href = null;
      String ctype = null;
      String checksum = null;
      boolean inChecksum = false;
      while (r.hasNext()) {
        int ev = r.next();
        if (ev == XMLStreamConstants.START_ELEMENT) {
          switch (r.getLocalName()) {
            case "data":
              type = r.getAttributeValue(null, "type");
              href = null;
              checksum = null;
              break;
            case "checksum":
              ctype = r.getAttributeValue(null, "type");
              inChecksum = true;
              checksum = "";
              break;
            case "location":
              href = r.getAttributeValue(null, "href");
              break;
            default:
              break;
          }
        } else if (ev == XMLStreamConstants.CHARACTERS && inChecksum) {
          checksum += r.getText().strip();
        } else if (ev == XMLStreamConstants.END_ELEMENT) {
          if (r.getLocalName().equals("checksum")) {
            inChecksum = false;
          } else if (r.getLocalName().equals("data")) {
            if (type == null || href == null || checksum == null || ctype == null) {
              throw new CorruptRepositoryException(where + ": a <data> entry lacks its type, location or checksum");
            }
            out.add(new MetadataFile(type, href, ctype, checksum));
          }
        }
      }
    } catch (XMLStreamException e) {
      throw new CorruptRepositoryException(where + ": malformed XML: " + e.getMessage(), e);
    }
    return out;
  }

  static List<PrimaryPackage> parsePrimary(byte[] bytes, String where) throws CorruptRepositoryException {
    List<PrimaryPackage> out = new ArrayList<>();
    try {
      XMLStreamReader r = xml(bytes);
      String name = null;
      String arch = null;
      Evr evr = null;
      String location = null;
      String checksum = null;
      String text = "";
      int depth = 0;
      int packageDepth = -1;
      while (r.hasNext()) {
        int ev = r.next();
        if (ev == XMLStreamConstants.START_ELEMENT) {
          depth++;
          String ln = r.getLocalName();
          text = "";
          if (ln.equals("package")) {
            packageDepth = depth;
            name = arch = location = checksum = null;
            evr = null;
          } else if (depth == packageDepth + 1 && ln.equals("version")) {
            String epoch = r.getAttributeValue(null, "epoch");
            String rel = r.getAttributeValue(null, "rel");
            try {
              evr = new Evr(epoch == null ? 0 : Integer.parseInt(epoch), r.getAttributeValue(null, "ver"), Integer.parseInt(rel));
            } catch (NumberFormatException e) {
              throw new CorruptRepositoryException(where + ": package release '" + rel + "' is not a number klp-catalog writes");
            }
          } else if (depth == packageDepth + 1 && ln.equals("location")) {
            location = r.getAttributeValue(null, "href");
          }
        } else if (ev == XMLStreamConstants.CHARACTERS) {
          text += r.getText();
        } else if (ev == XMLStreamConstants.END_ELEMENT) {
          String ln = r.getLocalName();
          if (depth == packageDepth + 1) {
            if (ln.equals("name")) {
              name = text.strip();
            } else if (ln.equals("arch")) {
              arch = text.strip();
            } else if (ln.equals("checksum")) {
              checksum = text.strip();
            }
          }
          if (ln.equals("package") && depth == packageDepth) {
            if (name == null || arch == null || evr == null || location == null) {
              throw new CorruptRepositoryException(where + ": a package entry lacks its name, arch, version or location");
            }
            out.add(new PrimaryPackage(name, arch, evr, location, checksum == null ? "" : checksum));
            packageDepth = -1;
          }
          depth--;
        }
      }
    } catch (XMLStreamException e) {
      throw new CorruptRepositoryException(where + ": malformed or truncated XML: " + e.getMessage(), e);
    }
    return out;
  }

  static Optional<DesiredGroup> parseComps(byte[] bytes, String where) throws CorruptRepositoryException {
    try {
      XMLStreamReader r = xml(bytes);
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
      return Optional.of(new DesiredGroup(id, name == null ? "" : name, description, List.copyOf(packages)));
    } catch (XMLStreamException e) {
      throw new CorruptRepositoryException(where + ": malformed group file: " + e.getMessage(), e);
    }
  }
}
