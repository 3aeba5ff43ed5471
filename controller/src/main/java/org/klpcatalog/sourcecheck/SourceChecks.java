package org.klpcatalog.sourcecheck;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.klpcatalog.catalog.analysis.LivepatchSource;
import org.klpcatalog.catalog.analysis.LivepatchSourceParser;
import org.klpcatalog.catalog.model.Acknowledgement;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelSources;

/**
 * The source checks of one patch variant for one kernel it serves, as builds and the {@code
 * source-check} command run them: the kernel's source prepared with its configuration (cached per
 * source version and configuration), the fix checked against it ({@link SourceChecker}, cached per
 * fix and tree), and the verdict on the variant's module ({@link FixVerdict}). Thread-safe.
 */
public final class SourceChecks {
  /** A report with its verdict. */
  public record Checked(FixReport report, FixVerdict.Verdict verdict) {}

  private final KernelSources sources;
  private final SourceChecker checker;

  public SourceChecks(KernelSources sources, SourceChecker checker) {
    this.sources = sources;
    this.checker = checker;
  }

  /**
   * Whether the sources of {@code kernel} can be had: its provider's type supports them (debian;
   * rpm-repo providers do not yet).
   */
  public boolean supports(Kernel kernel) {
    return sources.hasSources(kernel);
  }

  /**
   * {@code moduleSource} is the variant's livepatch.c (empty for kpatch-build variants); {@code
   * acks} the manifest's acknowledgements.
   */
  public Checked check(
      Kernel kernel, byte[] fix, Optional<byte[]> moduleSource, List<Acknowledgement> acks)
      throws KernelException, IOException, InterruptedException {
    return check(kernel, fix, moduleSource, acks, true);
  }

  /**
   * {@code compile} false runs the first two checks only (the fix applies; its functions), on the
   * unpacked source without preparing it: quick, for a first look on a pull request.
   */
  public Checked check(
      Kernel kernel,
      byte[] fix,
      Optional<byte[]> moduleSource,
      List<Acknowledgement> acks,
      boolean compile)
      throws KernelException, IOException, InterruptedException {
    FixReport report =
        compile
            ? checker.check(sources.prepare(kernel), kernel.release(), fix, true)
            : checker.checkApplies(sources.source(kernel), kernel.release(), fix);
    Optional<LivepatchSource> module =
        moduleSource.map(b -> LivepatchSourceParser.parse(new String(b, StandardCharsets.UTF_8)));
    return new Checked(report, FixVerdict.judge(report, module, acks));
  }
}
