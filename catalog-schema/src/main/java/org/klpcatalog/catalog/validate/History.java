package org.klpcatalog.catalog.validate;

import java.util.Map;
import java.util.Optional;

/**
 * What the catalog's past says about patches no longer in it: the last version of each patch
 * that was removed (read from Git history by the controller). A directory without history has
 * none.
 */
public record History(Map<String, String> removedPatchVersions) {
  public static final History NONE = new History(Map.of());

  public Optional<String> lastVersion(String patch) {
    return Optional.ofNullable(removedPatchVersions.get(patch));
  }
}
