package org.klpcatalog.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code --patch} option: work on these patches of the catalog only. */
final class PatchSelection {
  @Option(names = "--patch", paramLabel = "NAME", description = "Only this patch (repeatable).")
  List<String> patches = new ArrayList<>();
}
