package org.klpcatalog.qa;

import java.nio.file.Path;
import java.util.List;

/**
 * One VM boot: a kernel, the packages under test, their tests, and which parts of the protocol to
 * run. A {@link Kind#PATCH} job tests one package (install, remove, late module patching, upgrade
 * from its previous version, stress); a {@link Kind#TOGETHER} job installs every package of the
 * kernel in one transaction, runs every test, and removes them all. {@code targetModules} are the
 * modules the patches change: the guest has them; a PATCH job also tests late patching of them.
 */
public record QaJob(
    String id,
    Kind kind,
    String kernel,
    List<Pkg> packages,
    List<QaTest> tests,
    List<String> targetModules,
    List<Path> previous,
    int stress) {

  public enum Kind {
    PATCH,
    TOGETHER
  }

  /**
   * A package under test: its name, the RPM file, the livepatch module it loads on this kernel, and
   * the patch it comes from.
   */
  public record Pkg(String name, String patch, String nevra, Path rpm, String module) {}

  /** The name in reports: the patch for a PATCH job, "all-together" for a TOGETHER one. */
  public String subject() {
    return kind == Kind.PATCH ? packages.get(0).patch() : "all-together";
  }
}
