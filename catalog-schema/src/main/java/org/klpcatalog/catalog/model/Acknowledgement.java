package org.klpcatalog.catalog.model;

/**
 * A maintainer's statement that a flagged change (see the analysis flags) is safe for a livepatch,
 * with the reason. {@code key} names the flagged thing exactly as {@code klp-catalog analyze}
 * prints it; {@code yamlPath} locates the entry in the manifest.
 */
public record Acknowledgement(String flag, String key, String reason, String yamlPath) {}
