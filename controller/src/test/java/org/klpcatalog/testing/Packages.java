package org.klpcatalog.testing;

import java.util.Arrays;
import java.util.List;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ObservedPackage;

/** Packages as plain values, for tests of what is done with a plan. */
public final class Packages {
  private Packages() {}

  /** A desired package of patch {@code name}-patch with no modules, capabilities or hashes. */
  public static DesiredPackage desired(String name, Evr evr) {
    return new DesiredPackage(
        name,
        name + "-patch",
        evr,
        "x86_64",
        "",
        "",
        "GPL-2.0-only",
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        "",
        "",
        "");
  }

  /** A published package at NEVRA.rpm, with one module per kernel in {@code kernels}. */
  public static ObservedPackage published(String name, Evr evr, String... kernels) {
    return new ObservedPackage(
        name,
        evr,
        "x86_64",
        name + "-" + evr + ".x86_64.rpm",
        "",
        "",
        "",
        Arrays.stream(kernels)
            .map(k -> new ObservedPackage.ObservedModule(k, "default", "", ""))
            .toList(),
        "");
  }
}
