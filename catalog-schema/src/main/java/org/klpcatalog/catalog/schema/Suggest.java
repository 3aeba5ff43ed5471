package org.klpcatalog.catalog.schema;

import java.util.Collection;
import java.util.Locale;

/** "Did you mean" suggestions for misspelt keys. */
public final class Suggest {
  private Suggest() {}

  /** The candidate within a small edit distance of {@code word}, or null when none is close. */
  public static String closest(String word, Collection<String> candidates) {
    if (word == null) {
      return null;
    }
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    int limit = Math.max(1, Math.min(3, word.length() / 3));
    String w = word.toLowerCase(Locale.ROOT);
    for (String c : candidates) {
      String lower = c.toLowerCase(Locale.ROOT);
      // The distance is at least the difference in length: a word that long is not close, and
      // comparing it would cost its length times the candidate's.
      if (Math.abs(w.length() - lower.length()) > limit) {
        continue;
      }
      int d = distance(w, lower);
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    return bestDistance <= limit ? best : null;
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
