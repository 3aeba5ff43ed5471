package org.klpcatalog.catalog.analysis;

/**
 * A flagged change: its kind, the {@code key} a manifest uses to acknowledge it (a function key,
 * {@code file:symbol}, or a file path), the diff line it starts at, and what it means.
 */
public record Flag(FlagKind kind, String key, int patchLine, String message) {}
