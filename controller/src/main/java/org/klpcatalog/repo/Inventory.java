package org.klpcatalog.repo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.klpcatalog.plan.DesiredGroup;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ModuleFile;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ReleaseLedger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The controller's record of a published repository version, kept in the version directory as
 * {@value #FILE}: the catalog revision it came from, each package with its content hash and
 * modules, the group, and the release ledger of everything ever published. Format documented in
 * docs/reconcile.md.
 */
public record Inventory(
    int format,
    String catalog,
    Optional<String> revision,
    String publishedAt,
    boolean unsigned,
    DesiredGroup group,
    List<Entry> packages,
    ReleaseLedger ledger) {

  public static final String FILE = "klp-catalog-inventory.json";
  public static final int FORMAT = 1;
  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  /** One published package. */
  public record Entry(ObservedPackage pkg, String file, String patch) {}

  /**
   * The inventory of a desired state published as {@code files} (package name to RPM file name);
   * the host tool package is listed when {@code files} names it (its {@code patch} is "").
   */
  public static Inventory of(
      DesiredState state,
      Map<String, String> files,
      Map<String, String> checksums,
      String publishedAt,
      boolean unsigned,
      ReleaseLedger ledger) {
    List<Entry> entries = new ArrayList<>();
    for (DesiredPackage p : state.packages()) {
      List<ObservedPackage.ObservedModule> modules = new ArrayList<>();
      for (ModuleFile m : p.modules()) {
        modules.add(
            new ObservedPackage.ObservedModule(
                m.kernelRelease(), m.variant(), m.fixSha256(), m.moduleSha256().orElse("-")));
      }
      String file = files.get(p.name());
      entries.add(
          new Entry(
              new ObservedPackage(
                  p.name(),
                  p.evr(),
                  p.arch(),
                  file,
                  checksums.getOrDefault(p.name(), ""),
                  p.contentHash(),
                  p.metadataHash(),
                  List.copyOf(modules),
                  p.changedIn()),
              file,
              p.patch()));
    }
    state
        .hostTool()
        .filter(h -> files.containsKey(h.name()))
        .ifPresent(
            h ->
                entries.add(
                    new Entry(
                        new ObservedPackage(
                            h.name(),
                            h.evr(),
                            HostPackage.ARCH,
                            files.get(h.name()),
                            checksums.getOrDefault(h.name(), ""),
                            h.contentHash(),
                            "",
                            List.of(),
                            ""),
                        files.get(h.name()),
                        "")));
    return new Inventory(
        FORMAT,
        state.catalog(),
        state.revision(),
        publishedAt,
        unsigned,
        state.group(),
        List.copyOf(entries),
        ledger);
  }

  public String toJson() {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("format", format);
    root.put("catalog", catalog);
    root.put("revision", revision.orElse(null));
    root.put("publishedAt", publishedAt);
    root.put("unsigned", unsigned);
    ObjectNode g = root.putObject("group");
    g.put("id", group.id());
    g.put("name", group.name());
    g.put("description", group.description());
    ArrayNode gp = g.putArray("packages");
    group.packages().forEach(gp::add);
    ArrayNode ps = root.putArray("packages");
    for (Entry e : packages) {
      ObservedPackage p = e.pkg();
      ObjectNode o = ps.addObject();
      o.put("name", p.name());
      o.put("patch", e.patch());
      o.put("epoch", p.evr().epoch());
      o.put("version", p.evr().version());
      o.put("release", p.evr().release());
      o.put("arch", p.arch());
      o.put("file", e.file());
      o.put("sha256", p.checksum());
      o.put("contentHash", p.contentHash());
      o.put("metadataHash", p.metadataHash());
      o.put("changedIn", p.changedIn());
      // Modules grouped by what they are built from: kernels of one variant share the hashes.
      ArrayNode ms = o.putArray("modules");
      Map<String, ObjectNode> groups = new LinkedHashMap<>();
      for (ObservedPackage.ObservedModule m : p.modules()) {
        String key = m.variant() + "\0" + m.fixSha256() + "\0" + m.moduleSha256();
        ObjectNode mo =
            groups.computeIfAbsent(
                key,
                k -> {
                  ObjectNode g2 = ms.addObject();
                  g2.put("variant", m.variant());
                  g2.put("fixSha256", m.fixSha256());
                  g2.put("moduleSha256", m.moduleSha256());
                  g2.putArray("kernels");
                  return g2;
                });
        ((ArrayNode) mo.get("kernels")).add(m.kernel());
      }
    }
    ObjectNode l = root.putObject("ledger");
    ledger
        .entries()
        .forEach(
            (name, list) -> {
              ArrayNode a = l.putArray(name);
              for (ReleaseLedger.Entry en : list) {
                ObjectNode eo = a.addObject();
                eo.put("version", en.version());
                eo.put("release", en.release());
                eo.put("contentHash", en.contentHash());
                eo.put("origin", en.origin());
                eo.put("format", en.format());
              }
            });
    return MAPPER.writeValueAsString(root) + "\n";
  }

  /** Parses an inventory; a malformed one is reported as corrupt, with the reason. */
  public static Inventory parse(String json, String where) throws CorruptRepositoryException {
    try {
      JsonNode root = MAPPER.readTree(json);
      int format = root.path("format").asInt(-1);
      if (format != FORMAT) {
        throw new CorruptRepositoryException(
            where
                + ": unknown inventory format "
                + root.path("format")
                + " (this klp-catalog reads format "
                + FORMAT
                + ")");
      }
      JsonNode g = need(root, "group", where);
      List<String> groupPackages = new ArrayList<>();
      need(g, "packages", where).values().forEach(n -> groupPackages.add(n.asString()));
      DesiredGroup group =
          new DesiredGroup(
              text(g, "id", where),
              text(g, "name", where),
              g.path("description").asString(""),
              List.copyOf(groupPackages));
      List<Entry> entries = new ArrayList<>();
      for (JsonNode o : need(root, "packages", where).values()) {
        List<ObservedPackage.ObservedModule> modules = new ArrayList<>();
        for (JsonNode m : need(o, "modules", where).values()) {
          for (JsonNode k : need(m, "kernels", where).values()) {
            modules.add(
                new ObservedPackage.ObservedModule(
                    k.asString(),
                    text(m, "variant", where),
                    text(m, "fixSha256", where),
                    text(m, "moduleSha256", where)));
          }
        }
        Evr evr =
            new Evr(
                o.path("epoch").asInt(0),
                text(o, "version", where),
                need(o, "release", where).asInt());
        String file = text(o, "file", where);
        entries.add(
            new Entry(
                new ObservedPackage(
                    text(o, "name", where),
                    evr,
                    text(o, "arch", where),
                    file,
                    o.path("sha256").asString(""),
                    text(o, "contentHash", where),
                    text(o, "metadataHash", where),
                    List.copyOf(modules),
                    o.path("changedIn").asString("")),
                file,
                text(o, "patch", where)));
      }
      Map<String, List<ReleaseLedger.Entry>> ledger = new TreeMap<>();
      JsonNode l = root.path("ledger");
      for (String name : l.propertyNames()) {
        List<ReleaseLedger.Entry> list = new ArrayList<>();
        for (JsonNode e : l.get(name).values()) {
          list.add(
              new ReleaseLedger.Entry(
                  text(e, "version", where),
                  text(e, "contentHash", where),
                  need(e, "release", where).asInt(),
                  e.path("origin").asString(""),
                  e.path("format").asInt(1)));
        }
        ledger.put(name, list);
      }
      JsonNode rev = root.get("revision");
      return new Inventory(
          format,
          root.path("catalog").asString(""),
          rev == null || rev.isNull() ? Optional.empty() : Optional.of(rev.asString()),
          root.path("publishedAt").asString(""),
          root.path("unsigned").asBoolean(false),
          group,
          List.copyOf(entries),
          ReleaseLedger.of(ledger));
    } catch (CorruptRepositoryException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CorruptRepositoryException(where + ": not a valid inventory: " + e.getMessage(), e);
    }
  }

  private static JsonNode need(JsonNode n, String field, String where)
      throws CorruptRepositoryException {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new CorruptRepositoryException(where + ": inventory lacks '" + field + "'");
    }
    return v;
  }

  private static String text(JsonNode n, String field, String where)
      throws CorruptRepositoryException {
    return need(n, field, where).asString();
  }
}
