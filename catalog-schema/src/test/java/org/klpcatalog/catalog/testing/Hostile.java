package org.klpcatalog.catalog.testing;

/**
 * Big inputs for tests that catch a return to quadratic parsing without timing the code. Each is
 * about {@link #SIZE} characters: a linear parser reads it in tens of milliseconds, a quadratic one
 * needs in the order of 10^12 steps (minutes to hours). Tests run under {@link #BOUND_SECONDS}, a
 * bound far above the linear cost even on a loaded machine and far below the quadratic one, so it
 * trips only on a regression; the tests' assertions check the result is still right at that size.
 */
public final class Hostile {
  private Hostile() {}

  /** The size of one hostile input, in characters. */
  public static final int SIZE = 4 << 20;

  /** The generous bound a test of a linear parser on {@link #SIZE} characters runs under. */
  public static final int BOUND_SECONDS = 30;

  /** {@code unit} repeated to about {@link #SIZE} characters. */
  public static String fill(String unit) {
    return unit.repeat(Math.max(1, SIZE / unit.length()));
  }
}
