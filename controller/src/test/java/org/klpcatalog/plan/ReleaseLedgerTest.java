package org.klpcatalog.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReleaseLedgerTest {
  private static final int OLD = DesiredStateBuilder.FORMAT - 1;

  @Test
  void aHistoryLedgerIsUnchangedWhenTheRepositoryHasNothingFromAnOlderFormat() {
    ReleaseLedger history =
        ReleaseLedger.of(Map.of("kpatch-a", List.of(new ReleaseLedger.Entry("1", "h2", 1, "c1"))));
    ReleaseLedger published =
        ReleaseLedger.of(Map.of("kpatch-a", List.of(new ReleaseLedger.Entry("1", "h2", 1, "c1"))));
    assertThat(history.following(published)).isSameAs(history);
    assertThat(history.following(ReleaseLedger.EMPTY)).isSameAs(history);
  }

  @Test
  void contentPublishedUnderAnOlderFormatKeepsItsReleaseAndNewContentGoesAboveIt() {
    ReleaseLedger history =
        ReleaseLedger.of(
            Map.of(
                "kpatch-a",
                List.of(
                    new ReleaseLedger.Entry("1", "a1-new", 1, "c1"),
                    new ReleaseLedger.Entry("1", "a2-new", 2, "c2"),
                    new ReleaseLedger.Entry("2", "a3-new", 1, "c3")),
                "kpatch-b",
                List.of(new ReleaseLedger.Entry("1", "b1-new", 1, "c1"))));
    ReleaseLedger published =
        ReleaseLedger.of(
            Map.of(
                "kpatch-a",
                List.of(
                    new ReleaseLedger.Entry("1", "a1-old", 1, "c1", OLD),
                    new ReleaseLedger.Entry("1", "a2-old", 2, "c2", OLD)),
                "kpatch-gone",
                List.of(new ReleaseLedger.Entry("3", "g-old", 4, "c0", OLD))));
    ReleaseLedger merged = history.following(published);

    // What hosts have keeps its NEVRA and its content.
    assertThat(merged.contentOf("kpatch-a", "1", 1)).contains("a1-old");
    assertThat(merged.contentOf("kpatch-a", "1", 2)).contains("a2-old");
    assertThat(merged.contentOf("kpatch-gone", "3", 4)).contains("g-old");
    // The same content under the new format gets releases above them, in the history's order.
    assertThat(merged.known("kpatch-a", "1", "a1-new").orElseThrow().release()).isEqualTo(3);
    assertThat(merged.known("kpatch-a", "1", "a2-new").orElseThrow().release()).isEqualTo(4);
    // Other versions and packages the repository never had under the old format are untouched.
    assertThat(merged.known("kpatch-a", "2", "a3-new").orElseThrow().release()).isEqualTo(1);
    assertThat(merged.known("kpatch-b", "1", "b1-new").orElseThrow().release()).isEqualTo(1);
    // The latest entry is still the history's latest.
    assertThat(merged.last("kpatch-a").orElseThrow().contentHash()).isEqualTo("a3-new");
    // New content of version 1 goes above everything.
    assertThat(merged.toBuilder().assign("kpatch-a", "1", "a5-new", "c5").release()).isEqualTo(5);
  }
}
