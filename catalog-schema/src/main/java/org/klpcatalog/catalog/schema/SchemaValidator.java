package org.klpcatalog.catalog.schema;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.diag.Severity;
import org.klpcatalog.catalog.yaml.Mark;
import org.klpcatalog.catalog.yaml.YamlDocument;
import org.klpcatalog.catalog.yaml.YamlPath;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Validates loaded YAML documents against the catalog's JSON Schemas (draft 2020-12) and turns the
 * validator's findings into located, readable {@link Diagnostic}s. Thread-safe once built.
 */
public final class SchemaValidator {
  /** Diagnostic code of every schema finding. */
  public static final String CODE = "schema";

  /** Findings reported per document at most (a hostile file could have one per value). */
  public static final int MAX_FINDINGS = 100;

  /** The two kinds of catalog file. */
  public enum Kind {
    CATALOG("catalog.schema.json"),
    LIVEPATCH("livepatch.schema.json");

    final String resource;

    Kind(String resource) {
      this.resource = resource;
    }

    /** The schema's text, for tools that publish it. */
    public String resourceName() {
      return "/org/klpcatalog/catalog/schema/" + resource;
    }
  }

  private final Schema catalogSchema;
  private final Schema livepatchSchema;
  private final JsonNode catalogJson;
  private final JsonNode livepatchJson;

  public SchemaValidator() {
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    ObjectMapper mapper = new ObjectMapper();
    this.catalogJson = read(mapper, Kind.CATALOG);
    this.livepatchJson = read(mapper, Kind.LIVEPATCH);
    this.catalogSchema = registry.getSchema(catalogJson);
    this.livepatchSchema = registry.getSchema(livepatchJson);
    catalogSchema.initializeValidators();
    livepatchSchema.initializeValidators();
  }

  private static JsonNode read(ObjectMapper mapper, Kind kind) {
    try (InputStream in = SchemaValidator.class.getResourceAsStream(kind.resourceName())) {
      if (in == null) {
        throw new IllegalStateException("schema resource missing: " + kind.resourceName());
      }
      return mapper.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The schema document itself, as shipped. */
  public JsonNode schemaJson(Kind kind) {
    return kind == Kind.CATALOG ? catalogJson : livepatchJson;
  }

  /** All schema findings for one document, each located in the YAML source. */
  public List<Diagnostic> validate(Kind kind, YamlDocument doc) {
    Schema schema = kind == Kind.CATALOG ? catalogSchema : livepatchSchema;
    List<Error> errors = schema.validate(doc.root());
    // A oneOf/anyOf finding already says the value fits none of the alternatives; the findings
    // of each alternative at the same place only repeat it in pieces.
    Set<String> alternatives = new HashSet<>();
    for (Error e : errors) {
      if ("oneOf".equals(e.getKeyword()) || "anyOf".equals(e.getKeyword())) {
        alternatives.add(toYamlPath(e.getInstanceLocation()));
      }
    }
    List<Diagnostic> out = new ArrayList<>();
    int dropped = 0;
    for (Error e : errors) {
      String path = toYamlPath(e.getInstanceLocation());
      boolean alternative = "oneOf".equals(e.getKeyword()) || "anyOf".equals(e.getKeyword());
      if (!alternative && alternatives.contains(path)) {
        continue;
      }
      if (out.size() == MAX_FINDINGS) {
        dropped++;
        continue;
      }
      String message = describe(kind, e, path);
      boolean unknownKey = "additionalProperties".equals(e.getKeyword()) && e.getProperty() != null;
      String target = unknownKey ? YamlPath.child(path, e.getProperty()) : path;
      Mark m =
          unknownKey
              ? doc.keyMarkOf(target).orElseGet(() -> doc.markOf(target))
              : doc.markOf(target);
      out.add(
          new Diagnostic(Severity.ERROR, CODE, doc.file(), m.line(), m.column(), target, message));
    }
    if (dropped > 0) {
      Diagnostic last = out.get(out.size() - 1);
      out.add(
          new Diagnostic(
              Severity.ERROR,
              CODE,
              doc.file(),
              last.line(),
              last.column(),
              "",
              dropped
                  + " more schema problems in this file are not shown; fix the ones above first"));
    }
    return out;
  }

  static String toYamlPath(NodePath p) {
    String path = "";
    if (p == null) {
      return path;
    }
    for (int i = 0; i < p.getNameCount(); i++) {
      Object el = p.getElement(i);
      if (el instanceof Integer idx) {
        path = YamlPath.index(path, idx);
      } else {
        path = YamlPath.child(path, String.valueOf(el));
      }
    }
    return path;
  }

  private String describe(Kind kind, Error e, String path) {
    String where = path.isEmpty() ? "the document" : path;
    JsonNode node = e.getInstanceNode();
    String keyword = e.getKeyword() == null ? "" : e.getKeyword();
    switch (keyword) {
      case "required":
        {
          String prop = e.getProperty() != null ? e.getProperty() : argument(e, 0);
          String hint = "";
          if ("patch".equals(prop) && path.equals("spec")) {
            hint = " (give spec.patch, or spec.variants with a patch each)";
          }
          return "missing required key '" + prop + "' in " + where + hint;
        }
      case "additionalProperties":
        {
          String prop = e.getProperty();
          if (kind == Kind.CATALOG
              && "repository".equals(prop)
              && path.matches("spec\\.kernels\\[\\d+]")) {
            return "kernel repositories are configured by whoever runs klp-catalog, not by the"
                + " catalog: move the URL to the configuration's kernels.providers (with the"
                + " keys its packages are signed with) and name that provider here"
                + " (provider: NAME); see docs/configuration.md";
          }
          String suggestion = Suggest.closest(prop, knownProperties(kind, e));
          return "unknown key '"
              + prop
              + "' in "
              + where
              + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : "");
        }
      case "type":
        return where + " must be " + expectedType(e) + ", not " + typeOf(node);
      case "const":
        return where + " must be '" + constValue(e) + "'" + foundSuffix(node);
      case "enum":
        return where + " must be one of " + enumValues(e) + foundSuffix(node);
      case "pattern":
        return where + " has an invalid value" + foundSuffix(node) + ": " + patternHint(path);
      case "minLength":
        return where + " must not be empty";
      case "maxLength":
        return where + " is too long (at most " + argument(e, 0) + " characters)";
      case "minItems":
        return where + " must list at least " + argument(e, 0) + " item(s)";
      case "maxItems":
        return where + " lists more than " + argument(e, 0) + " items";
      case "uniqueItems":
        return where + " lists the same item twice";
      case "minimum":
        return where + " must be at least " + argument(e, 0) + foundSuffix(node);
      case "maximum":
        return where + " must be at most " + argument(e, 0) + foundSuffix(node);
      case "minProperties":
        return where + " must not be empty";
      case "oneOf":
        if (path.endsWith("version")) {
          return where
              + " must be a positive integer or a dotted number such as 1.2"
              + foundSuffix(node);
        }
        return where + ": " + stripLocation(e.getMessage());
      default:
        return where + ": " + stripLocation(e.getMessage());
    }
  }

  /** Property names the schema allows next to the one an additionalProperties error names. */
  private List<String> knownProperties(Kind kind, Error e) {
    List<String> names = new ArrayList<>();
    if (e.getSchemaLocation() == null) {
      return names;
    }
    String loc = e.getSchemaLocation().toString();
    int hash = loc.indexOf('#');
    if (hash < 0) {
      return names;
    }
    String pointer = loc.substring(hash + 1);
    int slash = pointer.lastIndexOf('/');
    if (slash < 0) {
      return names;
    }
    JsonNode root = kind == Kind.CATALOG ? catalogJson : livepatchJson;
    JsonNode props = root.at(pointer.substring(0, slash) + "/properties");
    if (props != null && props.isObject()) {
      names.addAll(props.propertyNames());
    }
    return names;
  }

  private static String patternHint(String path) {
    String leaf = path.contains(".") ? path.substring(path.lastIndexOf('.') + 1) : path;
    leaf = leaf.replaceAll("\\[\\d+]$", "");
    if (path.matches(".*\\.symbols\\[\\d+]\\.(name|object)")) {
      return leaf.equals("name")
          ? "a kernel symbol name as /proc/kallsyms prints it: a C identifier, optionally followed"
              + " by the compiler's suffixes such as .constprop.0, .isra.0, .part.0 or .cold (no"
              + " ',', no leading '.')"
          : "vmlinux or a module name of spec.modules (letters, digits, '_' and '-', at most 55"
              + " characters)";
    }
    switch (leaf) {
      case "name":
        return "names use lowercase letters, digits, '.', '_' and '-', start and end with a letter"
            + " or digit, at most 48 characters";
      case "supersedes":
        return "list patch names (lowercase letters, digits, '.', '_', '-')";
      case "release":
      case "releases":
        return "a kernel release as uname -r prints it, e.g. 6.1.0-50-amd64";
      case "from":
      case "to":
        return "a kernel version without flavour, e.g. 6.1.0-50";
      case "flavours":
      case "flavour":
        return "a flavour such as amd64 or cloud-amd64";
      case "provider":
        return "the name of a kernel provider of the configuration (kernels.providers), such as"
            + " debian or el9: lowercase letters, digits, '_' and '-'";
      case "patch":
      case "module":
      case "tests":
        return "a relative path inside the patch directory (letters, digits, '.', '_', '+', '-',"
            + " '/')";
      case "extraFunctions":
        return "write path/file.c:function";
      case "packagePrefix":
        return "letters, digits, '.', '_', '+', '-'";
      case "license":
        return "an SPDX license expression such as GPL-2.0-only";
      case "id":
        return "lowercase letters, digits, '_' and '-'";
      default:
        return "see the schema for the allowed form";
    }
  }

  private static String foundSuffix(JsonNode node) {
    if (node == null || (node.isObject() || node.isArray())) {
      return "";
    }
    String text = node.isString() ? "'" + node.stringValue() + "'" : node.toString();
    if (text.length() > 60) {
      text = text.substring(0, 57) + "...'";
    }
    return " (found " + text.replaceAll("[\\p{Cntrl}]", "?") + ")";
  }

  private static String argument(Error e, int i) {
    Object[] args = e.getArguments();
    return args != null && args.length > i ? String.valueOf(args[i]) : "?";
  }

  private static String expectedType(Error e) {
    JsonNode s = e.getSchemaNode();
    String t = s != null && s.isString() ? s.stringValue() : argument(e, 1);
    return article(t);
  }

  private static String article(String type) {
    switch (type) {
      case "object":
        return "a mapping";
      case "array":
        return "a list";
      case "string":
        return "a string";
      case "integer":
        return "an integer";
      case "boolean":
        return "true or false";
      case "number":
        return "a number";
      default:
        return type;
    }
  }

  private static String typeOf(JsonNode node) {
    if (node == null || node.isNull()) {
      return "empty";
    }
    if (node.isObject()) {
      return "a mapping";
    }
    if (node.isArray()) {
      return "a list";
    }
    if (node.isString()) {
      return "a string";
    }
    if (node.isBoolean()) {
      return "a boolean";
    }
    if (node.isIntegralNumber()) {
      return "an integer";
    }
    return "a number";
  }

  private static String constValue(Error e) {
    JsonNode s = e.getSchemaNode();
    return s != null && s.isString() ? s.stringValue() : argument(e, 0);
  }

  private static String enumValues(Error e) {
    JsonNode s = e.getSchemaNode();
    if (s != null && s.isArray()) {
      List<String> vals = new ArrayList<>();
      for (JsonNode v : s.values()) {
        vals.add(v.isString() ? v.stringValue() : v.toString());
      }
      return String.join(", ", vals);
    }
    return argument(e, 0);
  }

  private static String stripLocation(String message) {
    if (message == null) {
      return "invalid value";
    }
    return message.replaceFirst("^\\$[^ ]*: ", "");
  }
}
