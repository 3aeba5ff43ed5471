package org.klpcatalog.revision;

import java.util.Optional;
import org.klpcatalog.source.GitOptions;

/**
 * The catalog a command names: a directory, or a Git repository (a local repository, {@code
 * file://}, {@code git://}, {@code https://}, {@code ssh://}) with an optional revision.
 */
public record CatalogRef(String location, Optional<String> rev, GitOptions git) {}
