package org.klpcatalog.catalog.model;

/** The comps group hosts install: {@code dnf group install <id>}. */
public record GroupSpec(String id, String name, String description) {}
