package org.klpcatalog.publish;

import org.klpcatalog.plan.DesiredGroup;

/** The comps group file createrepo_c -g takes: one group, every package default. Pure. */
public final class CompsWriter {
  private CompsWriter() {}

  public static String write(DesiredGroup g) {
    StringBuilder sb = new StringBuilder();
    sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .append("<!DOCTYPE comps PUBLIC \"-//Red Hat, Inc.//DTD Comps info//EN\" \"comps.dtd\">\n")
        .append("<comps>\n  <group>\n")
        .append("    <id>")
        .append(xml(g.id()))
        .append("</id>\n")
        .append("    <name>")
        .append(xml(g.name()))
        .append("</name>\n")
        .append("    <description>")
        .append(xml(g.description()))
        .append("</description>\n")
        .append("    <default>true</default>\n    <uservisible>true</uservisible>\n")
        .append("    <packagelist>\n");
    for (String p : g.packages()) {
      sb.append("      <packagereq type=\"default\">").append(xml(p)).append("</packagereq>\n");
    }
    sb.append("    </packagelist>\n  </group>\n</comps>\n");
    return sb.toString();
  }

  static String xml(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
