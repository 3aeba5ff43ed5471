package org.klpcatalog.service;

import java.util.List;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.PlanText;
import org.klpcatalog.reconcile.Reconciler;

/**
 * The pull-request comment: whether the head is a valid catalog and what merging it would publish.
 * Text from the catalog (file names, messages, summaries) only ever appears inside a fenced block
 * whose fence is longer than any backtick run in it, so it cannot become markup, links or mentions.
 * Pure.
 */
public final class PlanComment {
  /** The hidden marker the service finds its own comment by. */
  public static final String MARKER = "<!-- klp-catalog:plan -->";

  /** Diagnostics listed at most; the count says how many more there are. */
  static final int MAX_DIAGNOSTICS = 50;

  private PlanComment() {}

  /** A one-line summary for the commit status. */
  public static String statusLine(Reconciler.Outcome outcome) {
    if (outcome.plan().isEmpty()) {
      return "invalid catalog: " + outcome.revision().report().errorCount() + " error(s)";
    }
    Plan p = outcome.plan().get();
    return "valid; merging "
        + (p.hasChanges() ? "publishes: " + PlanText.summary(p) : "changes nothing published");
  }

  public static String render(
      Reconciler.Outcome outcome, String repository, String branch, String sha) {
    StringBuilder sb = new StringBuilder();
    sb.append(MARKER).append('\n');
    if (outcome.plan().isEmpty()) {
      List<Diagnostic> errors = outcome.revision().report().diagnostics();
      sb.append("### klp-catalog: invalid catalog\n\n");
      sb.append("Commit `")
          .append(sha, 0, 12)
          .append("` is not a valid catalog (")
          .append(outcome.revision().report().errorCount())
          .append(
              " error(s)); merging it would publish nothing. Run `klp-catalog validate` to see them"
                  + " locally.\n\n");
      StringBuilder text = new StringBuilder();
      errors.stream().limit(MAX_DIAGNOSTICS).forEach(d -> text.append(d.format("")).append('\n'));
      if (errors.size() > MAX_DIAGNOSTICS) {
        text.append("... and ").append(errors.size() - MAX_DIAGNOSTICS).append(" more\n");
      }
      fenced(sb, text.toString());
    } else {
      Plan plan = outcome.plan().get();
      sb.append("### klp-catalog: what merging publishes\n\n");
      sb.append("Commit `")
          .append(sha, 0, 12)
          .append("` is a valid catalog")
          .append(
              outcome.revision().report().warningCount() > 0
                  ? " (" + outcome.revision().report().warningCount() + " warning(s))"
                  : "")
          .append(". Merged into `")
          .append(branch)
          .append("` now, it would change the repository like this")
          .append(" (release numbers as they would be on merge):\n\n");
      fenced(sb, PlanText.render(plan, repository, false, PlanText.Painter.PLAIN));
    }
    sb.append("\n<sub>Updated for ").append(sha, 0, 12).append(" by klp-catalog.</sub>\n");
    return sb.toString();
  }

  /**
   * A fenced block that the text cannot close: the fence is longer than its longest backtick run.
   */
  static void fenced(StringBuilder sb, String text) {
    int longest = 0;
    int run = 0;
    for (int i = 0; i < text.length(); i++) {
      run = text.charAt(i) == '`' ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    String fence = "`".repeat(Math.max(3, longest + 1));
    String clean = text.replaceAll("[\\p{Cntrl}&&[^\n\t]]", "?");
    sb.append(fence).append("text\n").append(clean);
    if (!clean.endsWith("\n")) {
      sb.append('\n');
    }
    sb.append(fence).append('\n');
  }
}
