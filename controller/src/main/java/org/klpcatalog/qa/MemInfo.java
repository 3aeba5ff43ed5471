package org.klpcatalog.qa;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The host's available memory, from /proc/meminfo. */
final class MemInfo {
  private MemInfo() {}

  static long availableMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
