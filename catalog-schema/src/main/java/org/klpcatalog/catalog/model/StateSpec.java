package org.klpcatalog.catalog.model;

/**
 * A {@code klp_state} a livepatch declares: its id and version (the kernel's compatibility rule).
 */
public record StateSpec(long id, long version) {}
