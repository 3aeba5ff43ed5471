package org.klpcatalog.catalog.yaml;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Loads untrusted YAML (catalog files come from pull requests) into a JSON tree with positions.
 *
 * <p>Safety rules: UTF-8 only; a size limit per file; exactly one document; no anchors or aliases
 * (so no "billion laughs"); no tags beyond YAML's standard ones (so no object construction); a
 * nesting limit; mapping keys are plain strings and never repeated. Every violation is reported as
 * a {@link YamlProblem} with its position; nothing is thrown for bad input.
 */
public final class SafeYamlLoader {
  /** Default size limit of one YAML file. A manifest is a few KiB. */
  public static final int DEFAULT_MAX_BYTES = 256 * 1024;

  /** Default nesting limit: the catalog format needs five levels. */
  public static final int DEFAULT_MAX_DEPTH = 20;

  /** Problems reported per file at most; the rest are counted in one last problem. */
  public static final int MAX_PROBLEMS = 100;

  private static final Set<Tag> ALLOWED_TAGS =
      Set.of(Tag.STR, Tag.INT, Tag.FLOAT, Tag.BOOL, Tag.NULL, Tag.MAP, Tag.SEQ, Tag.TIMESTAMP);

  private final int maxBytes;
  private final int maxDepth;

  public SafeYamlLoader() {
    this(DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH);
  }

  public SafeYamlLoader(int maxBytes, int maxDepth) {
    this.maxBytes = maxBytes;
    this.maxDepth = maxDepth;
  }

  /** The outcome of loading: a document, or the problems that prevented it. */
  public record Result(YamlDocument document, List<YamlProblem> problems) {
    public boolean ok() {
      return document != null;
    }
  }

  public Result load(String file, byte[] bytes) {
    if (bytes.length > maxBytes) {
      return fail(
          Mark.START,
          "",
          "file is "
              + bytes.length
              + " bytes; YAML files of a catalog are limited to "
              + maxBytes
              + " bytes");
    }
    String text;
    try {
      text = decodeUtf8(bytes);
    } catch (CharacterCodingException e) {
      return fail(
          markOfByte(bytes, firstInvalidUtf8(bytes)),
          "",
          "file is not valid UTF-8; save it as UTF-8");
    }
    if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
      text = text.substring(1);
    }
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    // A few aliases reach the converter, which rejects them with a position; many are stopped here.
    options.setMaxAliasesForCollections(8);
    options.setAllowRecursiveKeys(false);
    options.setNestingDepthLimit(maxDepth);
    options.setCodePointLimit(maxBytes);
    options.setMergeOnCompose(false);
    options.setProcessComments(false);
    List<Node> docs = new ArrayList<>();
    try {
      Composer composer =
          new Composer(new ParserImpl(new StreamReader(text), options), new Resolver(), options);
      while (composer.checkNode()) {
        Node n = composer.getNode();
        if (n != null) {
          docs.add(n);
        }
        if (docs.size() > 1) {
          Mark m = mark(n.getStartMark());
          return fail(
              m, "", "file holds more than one YAML document; a catalog file holds exactly one");
        }
      }
    } catch (MarkedYAMLException e) {
      org.yaml.snakeyaml.error.Mark pm =
          e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String why = e.getProblem() != null ? e.getProblem() : e.getMessage();
      if (e.getContext() != null && e.getProblem() != null) {
        why = e.getContext() + ": " + e.getProblem();
      }
      String detail = oneLine(why);
      if (detail.contains("Global tag is not allowed")) {
        detail =
            "YAML tag "
                + detail.substring(detail.lastIndexOf(' ') + 1)
                + " is not allowed; use plain strings, numbers, booleans, lists and mappings";
        return fail(pm == null ? Mark.START : mark(pm), "", detail);
      }
      return fail(pm == null ? Mark.START : mark(pm), "", "invalid YAML: " + detail);
    } catch (YAMLException e) {
      String m = oneLine(e.getMessage());
      if (m.contains("Nesting Depth exceeded")) {
        return fail(Mark.START, "", "nesting deeper than " + maxDepth + " levels");
      }
      return fail(Mark.START, "", "invalid YAML: " + m);
    }
    if (docs.isEmpty()) {
      return fail(Mark.START, "", "file is empty");
    }
    Converter c = new Converter(text);
    Node top = docs.get(0);
    YamlPositions positions = new YamlPositions(mark(top.getStartMark()), null);
    JsonNode root = c.convert(top, null, positions, 0);
    if (!c.problems.isEmpty()) {
      return new Result(null, c.problems());
    }
    return new Result(new YamlDocument(file, root, positions), List.of());
  }

  private static Result fail(Mark mark, String path, String message) {
    return new Result(null, List.of(new YamlProblem(mark, path, message)));
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s+", " ").trim();
  }

  static Mark mark(org.yaml.snakeyaml.error.Mark m) {
    return new Mark(m.getLine() + 1, m.getColumn() + 1);
  }

  private static String decodeUtf8(byte[] bytes) throws CharacterCodingException {
    CharsetDecoder dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer cb = dec.decode(ByteBuffer.wrap(bytes));
    return cb.toString();
  }

  private static int firstInvalidUtf8(byte[] bytes) {
    CharsetDecoder dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length + 1);
    dec.decode(in, out, true);
    return in.position();
  }

  private static Mark markOfByte(byte[] bytes, int offset) {
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < offset && i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return new Mark(line, offset - lineStart + 1);
  }

  /**
   * Where a value sits in the document, as a chain to its parent; the YAML path text is only made
   * when a problem is reported (made for every value, the paths could be quadratic in the file).
   */
  private record Where(Where parent, String key, int index) {
    static String path(Where w) {
      if (w == null) {
        return "";
      }
      String parent = path(w.parent);
      return w.key != null ? YamlPath.child(parent, w.key) : YamlPath.index(parent, w.index);
    }
  }

  /** Turns SnakeYAML's node graph into a JSON tree, checking the safety rules on the way. */
  private final class Converter {
    private final List<YamlProblem> problems = new ArrayList<>();
    private int dropped;
    final Map<Node, Boolean> seen = new IdentityHashMap<>();
    final JsonNodeFactory f = JsonNodeFactory.instance;
    final String text;
    String[] lines; // the file's lines, split once when a literal block needs them

    Converter(String text) {
      this.text = text;
    }

    void problem(Mark mark, Where where, String message) {
      if (problems.size() < MAX_PROBLEMS) {
        problems.add(new YamlProblem(mark, Where.path(where), message));
      } else {
        dropped++;
      }
    }

    List<YamlProblem> problems() {
      List<YamlProblem> out = new ArrayList<>(problems);
      if (dropped > 0) {
        out.add(
            new YamlProblem(
                problems.get(problems.size() - 1).mark(),
                "",
                dropped + " more problems like these are not shown; fix the ones above first"));
      }
      return List.copyOf(out);
    }

    /** Converts {@code node} at {@code where}, recording its children's positions in {@code at}. */
    JsonNode convert(Node node, Where where, YamlPositions at, int depth) {
      Mark here = mark(node.getStartMark());
      boolean repeated = seen.put(node, Boolean.TRUE) != null;
      if (repeated || node.getAnchor() != null) {
        if (!repeated) {
          problem(
              here,
              where,
              "YAML anchors and aliases are not allowed in a catalog; write the value out");
        }
        return f.nullNode();
      }
      if (depth > maxDepth) {
        problem(here, where, "nesting deeper than " + maxDepth + " levels");
        return f.nullNode();
      }
      if (!ALLOWED_TAGS.contains(node.getTag())) {
        problem(
            here,
            where,
            "YAML tag "
                + node.getTag().getValue()
                + " is not allowed; use plain strings, numbers, booleans, lists and mappings");
        return f.nullNode();
      }
      if (node instanceof MappingNode map) {
        ObjectNode obj = f.objectNode();
        Map<String, Mark> firstSeen = new HashMap<>();
        for (NodeTuple t : map.getValue()) {
          Node k = t.getKeyNode();
          Mark km = mark(k.getStartMark());
          if (k.getTag().equals(Tag.MERGE)) {
            problem(km, where, "YAML merge keys (<<) are not allowed in a catalog");
            continue;
          }
          if (!(k instanceof ScalarNode ks)
              || !(k.getTag().equals(Tag.STR)
                  || k.getTag().equals(Tag.INT)
                  || k.getTag().equals(Tag.BOOL)
                  || k.getTag().equals(Tag.NULL)
                  || k.getTag().equals(Tag.FLOAT))) {
            problem(km, where, "mapping keys must be plain strings");
            continue;
          }
          String key = ks.getValue();
          Mark prev = firstSeen.putIfAbsent(key, km);
          if (prev != null) {
            problem(
                km,
                new Where(where, key, -1),
                "duplicate key '"
                    + key
                    + "' (first at line "
                    + prev.line()
                    + "); remove one of them");
            continue;
          }
          Node v = t.getValueNode();
          YamlPositions child = at.entry(key, mark(v.getStartMark()), km);
          obj.set(key, convert(v, new Where(where, key, -1), child, depth + 1));
        }
        return obj;
      }
      if (node instanceof SequenceNode seq) {
        ArrayNode arr = f.arrayNode();
        int i = 0;
        for (Node item : seq.getValue()) {
          YamlPositions child = at.item(mark(item.getStartMark()));
          arr.add(convert(item, new Where(where, null, i++), child, depth + 1));
        }
        return arr;
      }
      ScalarNode s = (ScalarNode) node;
      if (s.getScalarStyle() == DumperOptions.ScalarStyle.LITERAL) {
        literalStart(s).ifPresent(at::literalStart);
      }
      return scalar(s);
    }

    /**
     * Where the text of a literal block scalar begins: the line after its indicator, at the
     * indentation of its first non-empty line (the file line minus the text line).
     */
    Optional<Mark> literalStart(ScalarNode s) {
      int headerLine = s.getStartMark().getLine();
      String[] value = s.getValue().split("\n", -1);
      if (lines == null) {
        lines = text.split("\r\n|[\r\n\u0085\u2028\u2029]", -1); // YAML's line breaks
      }
      for (int i = 0; i < value.length && headerLine + 1 + i < lines.length; i++) {
        if (!value[i].isEmpty()) {
          String source = lines[headerLine + 1 + i];
          int indent = source.length() - value[i].length();
          if (indent < 0 || !source.endsWith(value[i])) {
            return Optional.empty();
          }
          return Optional.of(new Mark(headerLine + 2, indent + 1));
        }
      }
      return Optional.empty();
    }

    JsonNode scalar(ScalarNode s) {
      String v = s.getValue();
      Tag tag = s.getTag();
      if (tag.equals(Tag.NULL)) {
        return f.nullNode();
      }
      if (tag.equals(Tag.BOOL)) {
        String l = v.toLowerCase(Locale.ROOT);
        return f.booleanNode(
            l.equals("true") || l.equals("yes") || l.equals("on") || l.equals("y"));
      }
      if (tag.equals(Tag.INT)) {
        BigInteger n = parseInt(v);
        if (n != null) {
          return n.bitLength() < 63 ? f.numberNode(n.longValue()) : f.numberNode(n);
        }
        return f.stringNode(v);
      }
      if (tag.equals(Tag.FLOAT)) {
        try {
          return f.numberNode(new BigDecimal(v.replace("_", "")));
        } catch (NumberFormatException e) {
          return f.stringNode(v);
        }
      }
      return f.stringNode(v);
    }
  }

  private static BigInteger parseInt(String raw) {
    String v = raw.replace("_", "");
    int sign = 1;
    if (v.startsWith("-") || v.startsWith("+")) {
      sign = v.startsWith("-") ? -1 : 1;
      v = v.substring(1);
    }
    try {
      BigInteger n;
      if (v.startsWith("0x")) {
        n = new BigInteger(v.substring(2), 16);
      } else if (v.startsWith("0o")) {
        n = new BigInteger(v.substring(2), 8);
      } else if (v.startsWith("0b")) {
        n = new BigInteger(v.substring(2), 2);
      } else if (v.contains(":")) {
        return null; // YAML 1.1 sexagesimal: keep the text as written
      } else if (v.length() > 1 && v.startsWith("0")) {
        n = new BigInteger(v, 8);
      } else {
        n = new BigInteger(v);
      }
      return sign < 0 ? n.negate() : n;
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
