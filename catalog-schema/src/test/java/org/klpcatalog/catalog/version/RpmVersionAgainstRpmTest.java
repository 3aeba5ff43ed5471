package org.klpcatalog.catalog.version;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.testing.Tools;

/**
 * Compares {@link RpmVersion} with rpm itself (its Lua {@code rpm.vercmp}) on thousands of random
 * version strings built from the characters that matter: digits, letters, separators, '~', '^'.
 */
class RpmVersionAgainstRpmTest {

  @Test
  void agreesWithRealRpmOnRandomVersions() throws IOException, InterruptedException {
    Tools.require("rpm");
    Random random = new Random(20261122);
    String alphabet = "0123456789012345abcXYZ..._~^+";
    List<String[]> pairs = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      pairs.add(new String[] {randomVersion(random, alphabet), randomVersion(random, alphabet)});
    }
    StringBuilder lua = new StringBuilder("%{lua:\nlocal t = {}\n");
    for (String[] p : pairs) {
      lua.append("t[#t+1] = rpm.vercmp('").append(p[0]).append("','").append(p[1]).append("')\n");
    }
    lua.append("print(table.concat(t, ' '))\n}");
    Process proc =
        new ProcessBuilder("rpm", "--eval", lua.toString()).redirectErrorStream(true).start();
    String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(proc.waitFor()).as(out).isZero();
    String[] results = out.strip().split("\\s+");
    assertThat(results).hasSize(pairs.size());
    for (int i = 0; i < pairs.size(); i++) {
      int expected = Integer.signum(Integer.parseInt(results[i]));
      String[] p = pairs.get(i);
      assertThat(Integer.signum(RpmVersion.compare(p[0], p[1])))
          .as("rpmvercmp(%s, %s)", p[0], p[1])
          .isEqualTo(expected);
    }
  }

  private static String randomVersion(Random r, String alphabet) {
    int len = 1 + r.nextInt(8);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < len; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
