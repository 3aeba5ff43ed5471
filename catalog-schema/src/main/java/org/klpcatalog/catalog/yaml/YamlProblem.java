package org.klpcatalog.catalog.yaml;

/** Why a YAML file could not be loaded, and where. */
public record YamlProblem(Mark mark, String yamlPath, String message) {}
