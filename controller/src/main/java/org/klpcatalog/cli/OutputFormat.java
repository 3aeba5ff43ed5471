package org.klpcatalog.cli;

/** How a command prints its result: for people, or as JSON for scripts. */
public enum OutputFormat {
  text,
  json
}
