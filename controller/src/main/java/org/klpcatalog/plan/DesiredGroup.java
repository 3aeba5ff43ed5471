package org.klpcatalog.plan;

import java.util.List;

/** The comps group the repository publishes: every active package, all default. */
public record DesiredGroup(String id, String name, String description, List<String> packages) {}
