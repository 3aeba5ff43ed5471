package org.klpcatalog.build;

/** Hears about long work as it goes: which phase, which item, which n of m, done or failed. */
public interface Progress {
  Progress NONE = (n, total, what, status) -> {};

  /** The phases of applying a plan, in order. */
  enum Phase {
    PLAN,
    BUILD,
    QA,
    PUBLISH
  }

  void update(int n, int total, String what, String status);

  /** A new phase starts (a service lets a running publish finish before it stops). */
  default void phase(Phase phase) {}
}
