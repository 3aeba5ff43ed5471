package org.klpcatalog.build;

/** Hears about long work as it goes: which item, which n of m, done or failed. */
public interface Progress {
  Progress NONE = (n, total, what, status) -> { };

  void update(int n, int total, String what, String status);
}
