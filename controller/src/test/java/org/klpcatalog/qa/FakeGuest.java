package org.klpcatalog.qa;

import java.util.ArrayList;
import java.util.List;

/**
 * A well-behaved guest without a VM: reads the protocol lines of a generated guest script (the
 * shell functions after the prelude) and prints the markers a guest whose packages and tests all
 * work would print for them, nonce {@link #NONCE}.
 */
final class FakeGuest {
  static final String NONCE = "0123abcd";

  private enum Loaded {
    NONE,
    PREVIOUS,
    NEW
  }

  private FakeGuest() {}

  static List<String> console(QaJob job) {
    List<String> l = new ArrayList<>();
    l.add("SeaBIOS (version 1.16)");
    Loaded loaded = Loaded.NONE;
    boolean targetsLoaded = true;
    for (String line : GuestScript.write(job, GuestScript.Limits.DEFAULT).split("\n")) {
      String[] f = line.split(" ");
      String phase = f.length > 1 ? f[1] : "";
      switch (f[0]) {
        case "m" -> m(l, line.substring(2));
        case "suite" -> {
          for (QaTest t : job.tests()) {
            m(
                l,
                "TEST "
                    + phase
                    + " "
                    + t.id()
                    + " "
                    + (!t.loaded() || loaded == Loaded.NEW ? 0 : 1));
            l.add("| ran " + t.name());
          }
        }
        case "rpmstep" -> {
          loaded =
              switch (f[2]) {
                case "-e" -> Loaded.NONE;
                case "-i" -> f[3].startsWith(GuestScript.OLD) ? Loaded.PREVIOUS : Loaded.NEW;
                default -> Loaded.NEW;
              };
          m(l, "RPM " + phase + " 0");
        }
        case "unload_targets", "load_targets" -> {
          targetsLoaded = f[0].equals("load_targets");
          for (int i = 2; i < f.length; i++) {
            m(l, (targetsLoaded ? "MODPROBE " : "UNLOAD ") + phase + " " + f[i] + " 0");
          }
        }
        case "state" -> state(l, job, phase, loaded, targetsLoaded, f.length > 2);
        default -> {}
      }
    }
    return l;
  }

  private static void state(
      List<String> l, QaJob job, String phase, Loaded loaded, boolean targetsLoaded, boolean rpm) {
    for (QaJob.Pkg p : job.packages()) {
      if (loaded == Loaded.PREVIOUS) {
        m(l, "LP " + phase + " " + p.module() + "_old 1 0");
      } else if (loaded == Loaded.NEW) {
        m(l, "LP " + phase + " " + p.module() + " 1 0");
        m(l, "OBJ " + phase + " " + p.module() + " vmlinux 1");
        for (String target : job.targetModules()) {
          m(l, "OBJ " + phase + " " + p.module() + " " + target + " " + (targetsLoaded ? 1 : 0));
        }
        m(l, "KPATCH " + phase + " " + job.kernel() + "/" + p.module() + ".ko");
      }
    }
    if (rpm) {
      m(l, "RPMQ " + phase + " 0");
      if (loaded != Loaded.NONE) {
        job.packages().forEach(p -> m(l, "RPMDB " + phase + " " + p.name()));
      }
    }
    m(l, "TAINT " + phase + " " + (loaded == Loaded.NONE ? 0 : 45056));
    if (loaded != Loaded.NONE) {
      m(l, "DMESG " + phase);
      l.add("| [    4.2] livepatch: enabling patch");
    }
  }

  private static void m(List<String> l, String marker) {
    l.add(Marker.PREFIX + " " + NONCE + " " + marker);
  }
}
