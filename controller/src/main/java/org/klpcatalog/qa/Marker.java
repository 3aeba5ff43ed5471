package org.klpcatalog.qa;

import java.util.Arrays;
import java.util.Optional;

/**
 * What a marker line of the guest says: {@code @@KLPQA <nonce> <MARKER> <phase> <args...>}, the
 * guest's only way to report. The guest script's shell functions print them, {@link Transcript}
 * reads them back, {@link Verdict} judges them; {@link Phase} says which phase reports which.
 */
public enum Marker {
  /** The guest is up: {@code <kernel release>}. */
  BEGIN,
  /** The guest reached the end of the protocol. */
  END,
  /** A test ran: {@code <group/name> <exit status>}, its output after. */
  TEST,
  /** An rpm transaction ended: {@code <exit status>}, rpm's output after. */
  RPM,
  /** A target module removed: {@code <module> <rmmod exit status | absent>}, rmmod's output. */
  UNLOAD,
  /** A target module loaded: {@code <module> <exit status>}, modprobe's output after. */
  MODPROBE,
  /** A livepatch in sysfs: {@code <livepatch> <enabled> <transition>}. */
  LP,
  /** An object of a livepatch: {@code <livepatch> <object> <patched>}. */
  OBJ,
  /** A module kpatch has installed: {@code <kernel release>/<module>.ko}. */
  KPATCH,
  /** rpm read its database: {@code <exit status>}. */
  RPMQ,
  /** A package rpm lists (besides the guest's own): {@code <name>}. */
  RPMDB,
  /** The kernel's taint mask: {@code <mask>}; the last marker of every state report. */
  TAINT,
  /** Kernel messages that matter, after it. */
  DMESG;

  /** What every marker line starts with, before the run's nonce. */
  public static final String PREFIX = "@@KLPQA";

  /** The marker a line names, if it is one. */
  public static Optional<Marker> named(String name) {
    return Arrays.stream(values()).filter(m -> m.name().equals(name)).findFirst();
  }
}
