package org.klpcatalog.repo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Parsing of yum repository metadata (repomd.xml and primary.xml), shared by the published
 * repository's reader and the rpm-repo kernel provider. XML is read with DTDs and external entities
 * off.
 */
public final class Repodata {
  private Repodata() {}

  /** One {@code <data>} entry of repomd.xml. */
  public record MetadataFile(String type, String href, String checksumType, String checksum) {}

  public static byte[] uncompress(byte[] bytes, String name) throws CorruptRepositoryException {
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
    throw new CorruptRepositoryException(
        name + ": unsupported compression; klp-catalog publishes gzip metadata");
  }

  public static String digest(String type, byte[] bytes, String where)
      throws CorruptRepositoryException {
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

  static XMLStreamReader xml(byte[] bytes) throws XMLStreamException {
    XMLInputFactory f = XMLInputFactory.newFactory();
    f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    f.setProperty(XMLInputFactory.IS_COALESCING, true);
    return f.createXMLStreamReader(new ByteArrayInputStream(bytes));
  }

  public static List<MetadataFile> parseRepomd(byte[] bytes, String where)
      throws CorruptRepositoryException {
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
              throw new CorruptRepositoryException(
                  where + ": a <data> entry lacks its type, location or checksum");
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

  /** A package entry of primary.xml. */
  public record RpmEntry(
      String name,
      String arch,
      int epoch,
      String version,
      String release,
      String checksumType,
      String checksum,
      String location) {
    /** {@code version-release.arch}, as {@code uname -r} spells a kernel package's release. */
    public String versionReleaseArch() {
      return version + "-" + release + "." + arch;
    }
  }

  public static List<RpmEntry> parsePrimary(byte[] bytes, String where)
      throws CorruptRepositoryException {
    List<RpmEntry> out = new ArrayList<>();
    try {
      XMLStreamReader r = xml(bytes);
      String name = null;
      String arch = null;
      String[] evr = null;
      String location = null;
      String checksum = null;
      String checksumType = null;
      StringBuilder text = new StringBuilder();
      int depth = 0;
      int packageDepth = -1;
      while (r.hasNext()) {
        int ev = r.next();
        if (ev == XMLStreamConstants.START_ELEMENT) {
          depth++;
          String ln = r.getLocalName();
          text.setLength(0);
          if (ln.equals("package")) {
            packageDepth = depth;
            name = arch = location = checksum = checksumType = null;
            evr = null;
          } else if (depth == packageDepth + 1 && ln.equals("version")) {
            evr =
                new String[] {
                  r.getAttributeValue(null, "epoch"),
                  r.getAttributeValue(null, "ver"),
                  r.getAttributeValue(null, "rel")
                };
          } else if (depth == packageDepth + 1 && ln.equals("location")) {
            location = r.getAttributeValue(null, "href");
          } else if (depth == packageDepth + 1 && ln.equals("checksum")) {
            checksumType = r.getAttributeValue(null, "type");
          }
        } else if (ev == XMLStreamConstants.CHARACTERS
            && packageDepth > 0
            && depth == packageDepth + 1) {
          text.append(r.getText());
        } else if (ev == XMLStreamConstants.END_ELEMENT) {
          String ln = r.getLocalName();
          if (depth == packageDepth + 1) {
            if (ln.equals("name")) {
              name = text.toString().strip();
            } else if (ln.equals("arch")) {
              arch = text.toString().strip();
            } else if (ln.equals("checksum")) {
              checksum = text.toString().strip();
            }
          }
          if (ln.equals("package") && depth == packageDepth) {
            if (name == null
                || arch == null
                || evr == null
                || evr[1] == null
                || evr[2] == null
                || location == null) {
              throw new CorruptRepositoryException(
                  where + ": a package entry lacks its name, arch, version or location");
            }
            int epoch;
            try {
              epoch = evr[0] == null ? 0 : Integer.parseInt(evr[0]);
            } catch (NumberFormatException e) {
              throw new CorruptRepositoryException(
                  where + ": package " + name + " has epoch '" + evr[0] + "'");
            }
            out.add(
                new RpmEntry(
                    name,
                    arch,
                    epoch,
                    evr[1],
                    evr[2],
                    checksumType == null ? "sha256" : checksumType,
                    checksum == null ? "" : checksum,
                    location));
            packageDepth = -1;
          }
          depth--;
        }
      }
    } catch (XMLStreamException e) {
      throw new CorruptRepositoryException(
          where + ": malformed or truncated XML: " + e.getMessage(), e);
    }
    return out;
  }
}
