package org.klpcatalog.catalog.version;

import java.util.Comparator;

/**
 * rpm's version comparison ({@code rpmvercmp} of rpm 4.15 and later), so that kernel releases and
 * package versions order here exactly as rpm and dnf order them on a host.
 *
 * <p>The string is split into runs of ASCII digits and runs of ASCII letters; every other character
 * only separates runs. Runs compare pairwise: numbers numerically (leading zeros ignored), letters
 * by byte value, and a number is newer than letters. {@code ~} sorts before everything, even the
 * end of the string ({@code 1.0~rc1 < 1.0}); {@code ^} sorts after the end of the string but before
 * any further run ({@code 1.0 < 1.0^git1 < 1.0.1}). If all runs are equal, the string with runs
 * left over is newer.
 */
public final class RpmVersion {
  private RpmVersion() {}

  /** Orders strings as rpm does; not consistent with equals ("1.01" equals "1.1" here). */
  public static final Comparator<String> ORDER = RpmVersion::compare;

  /** Returns a negative number, zero or a positive number as {@code a} is older, equal or newer. */
  public static int compare(String a, String b) {
    if (a.equals(b)) {
      return 0;
    }
    int i = 0;
    int j = 0;
    int la = a.length();
    int lb = b.length();
    while (i < la || j < lb) {
      while (i < la && !isAlnum(a.charAt(i)) && a.charAt(i) != '~' && a.charAt(i) != '^') {
        i++;
      }
      while (j < lb && !isAlnum(b.charAt(j)) && b.charAt(j) != '~' && b.charAt(j) != '^') {
        j++;
      }
      char ca = i < la ? a.charAt(i) : '\0';
      char cb = j < lb ? b.charAt(j) : '\0';
      if (ca == '~' || cb == '~') {
        if (ca != '~') {
          return 1;
        }
        if (cb != '~') {
          return -1;
        }
        i++;
        j++;
        continue;
      }
      if (ca == '^' || cb == '^') {
        if (i >= la) {
          return -1;
        }
        if (j >= lb) {
          return 1;
        }
        if (ca != '^') {
          return 1;
        }
        if (cb != '^') {
          return -1;
        }
        i++;
        j++;
        continue;
      }
      if (!(i < la && j < lb)) {
        break;
      }
      int si = i;
      int sj = j;
      boolean numeric = isDigit(ca);
      if (numeric) {
        while (i < la && isDigit(a.charAt(i))) {
          i++;
        }
        while (j < lb && isDigit(b.charAt(j))) {
          j++;
        }
      } else {
        while (i < la && isAlpha(a.charAt(i))) {
          i++;
        }
        while (j < lb && isAlpha(b.charAt(j))) {
          j++;
        }
      }
      if (sj == j) {
        // Segments of different kinds: numbers are newer than letters.
        return numeric ? 1 : -1;
      }
      if (numeric) {
        while (si < i && a.charAt(si) == '0') {
          si++;
        }
        while (sj < j && b.charAt(sj) == '0') {
          sj++;
        }
        int lenA = i - si;
        int lenB = j - sj;
        if (lenA != lenB) {
          return lenA > lenB ? 1 : -1;
        }
      }
      int rc = compareRegion(a, si, i, b, sj, j);
      if (rc != 0) {
        return rc;
      }
    }
    if (i >= la && j >= lb) {
      return 0;
    }
    return i >= la ? -1 : 1;
  }

  /** strcmp of a[ai, aEnd) and b[bi, bEnd), as -1, 0 or 1. */
  private static int compareRegion(String a, int ai, int aEnd, String b, int bi, int bEnd) {
    while (ai < aEnd && bi < bEnd) {
      char x = a.charAt(ai++);
      char y = b.charAt(bi++);
      if (x != y) {
        return x < y ? -1 : 1;
      }
    }
    int ra = aEnd - ai;
    int rb = bEnd - bi;
    return ra == rb ? 0 : (ra < rb ? -1 : 1);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  private static boolean isAlnum(char c) {
    return isDigit(c) || isAlpha(c);
  }
}
