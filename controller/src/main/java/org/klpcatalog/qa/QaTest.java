package org.klpcatalog.qa;

/**
 * One test script run in the guest. {@code group} is the patch it belongs to, or {@link #CATALOG}
 * for the catalog-wide suite ({@code qa/*.test}); {@code name} ends in {@code .test} and is made of
 * letters, digits, '.', '_' and '-' (the validator's rule), so it is inert in a path and in sh. A
 * {@code <name>-LOADED.test} must pass only while its patch is loaded; every other test is a
 * regression test and must pass with and without the patch.
 */
public record QaTest(String group, String name, String origin, byte[] content) {
  public static final String CATALOG = "@catalog";

  public boolean loaded() {
    return name.endsWith("-LOADED.test");
  }

  /** The test's id in markers and reports: {@code group/name}. */
  public String id() {
    return group + "/" + name;
  }
}
