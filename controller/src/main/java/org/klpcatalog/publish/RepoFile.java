package org.klpcatalog.publish;

/**
 * The {@code .repo} file hosts drop into /etc/yum.repos.d/. Signed repositories are checked twice:
 * every package (gpgcheck) and the metadata (repo_gpgcheck, against repomd.xml.asc). Pure.
 */
public final class RepoFile {
  private RepoFile() {}

  public static String write(
      String id, String name, String groupId, String baseUrl, boolean signed) {
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    StringBuilder sb = new StringBuilder();
    sb.append("# Livepatch repository published by klp-catalog.\n")
        .append("# Install: copy to /etc/yum.repos.d/, then: dnf group install ")
        .append(groupId)
        .append('\n')
        .append('[')
        .append(id)
        .append("]\n")
        .append("name=")
        .append(name.replace('\n', ' '))
        .append('\n')
        .append("baseurl=")
        .append(base)
        .append('\n')
        .append("enabled=1\n");
    if (signed) {
      sb.append("gpgcheck=1\nrepo_gpgcheck=1\n")
          .append("gpgkey=")
          .append(base)
          .append("/RPM-GPG-KEY-klp-catalog\n");
    } else {
      sb.append("# This repository is NOT signed (published with --unsigned).\n")
          .append("gpgcheck=0\nrepo_gpgcheck=0\n");
    }
    return sb.toString();
  }
}
