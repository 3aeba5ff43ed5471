package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PlanCommentTest {
  @Test
  void catalogTextCannotCloseItsFence() {
    StringBuilder sb = new StringBuilder();
    String hostile =
        "summary ```\n</details> @maintainers [x](https://evil.example) ````` end\u0007";
    PlanComment.fenced(sb, hostile);
    String out = sb.toString();
    String fence = out.substring(0, out.indexOf("text\n"));
    assertThat(fence).isEqualTo("``````");
    // The block ends only at its last line: nothing inside it is as long as the fence.
    assertThat(out.indexOf(fence, fence.length())).isEqualTo(out.length() - fence.length() - 1);
    assertThat(out).doesNotContain("\u0007");
  }

  @Test
  void shortTextGetsTheUsualFence() {
    StringBuilder sb = new StringBuilder();
    PlanComment.fenced(sb, "+ add kpatch-x-1-1.x86_64");
    assertThat(sb.toString()).isEqualTo("```text\n+ add kpatch-x-1-1.x86_64\n```\n");
  }
}
