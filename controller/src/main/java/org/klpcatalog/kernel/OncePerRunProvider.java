package org.klpcatalog.kernel;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.klpcatalog.catalog.model.Kernel;

/**
 * A provider that provides each (release, with or without image) once per instance: concurrent
 * calls for one release wait for the first instead of downloading it twice, and later calls get the
 * same tree.
 */
abstract class OncePerRunProvider implements KernelProvider {
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private final Map<String, KernelTree> provided = new ConcurrentHashMap<>();

  @Override
  public final KernelTree provide(Kernel kernel, boolean withImage)
      throws KernelException, InterruptedException {
    String release = kernel.release();
    String memo = release + (withImage ? " with image" : "");
    KernelTree done = provided.get(memo);
    if (done != null) {
      return done;
    }
    synchronized (locks.computeIfAbsent(release, r -> new Object())) {
      done = provided.get(memo);
      if (done != null) {
        return done;
      }
      try {
        KernelTree tree = fetch(release, withImage);
        provided.put(memo, tree);
        return tree;
      } catch (IOException e) {
        throw new KernelException(where(release) + ": " + e.getMessage(), e);
      }
    }
  }

  /** Obtains, verifies and caches the release's tree: called once per release and image choice. */
  abstract KernelTree fetch(String release, boolean withImage)
      throws IOException, KernelException, InterruptedException;

  /** The kernel and this provider, as messages name them. */
  abstract String where(String release);
}
