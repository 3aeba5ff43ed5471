package org.klpcatalog.repo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.klpcatalog.plan.ObservedState;

/**
 * A published repository read over HTTP(S), for dry runs in a catalog's CI: the metadata of the
 * version a URL serves (repomd.xml, the files it lists, the inventory; never the packages) is
 * downloaded into a directory laid out as a local repository, which {@link RepositoryReader} then
 * reads and checks as usual. A URL that serves no repomd.xml (404) is a repository not published
 * yet.
 */
public final class RemoteRepository {
  private static final long MAX_FILE = 256L * 1024 * 1024;

  private RemoteRepository() {}

  /** Whether a --repo value names a remote repository. */
  public static boolean isRemote(String repo) {
    return repo.startsWith("http://") || repo.startsWith("https://");
  }

  /**
   * What the repository at {@code url} (the URL hosts use, ending in {@code current} or a version)
   * has published: its metadata is downloaded into a temporary directory, read, and removed.
   */
  public static ObservedState observe(String url) throws CorruptRepositoryException {
    Path dir;
    try {
      dir = Files.createTempDirectory("klp-repo");
    } catch (IOException e) {
      throw new CorruptRepositoryException(
          "cannot make a temporary directory: " + e.getMessage(), e);
    }
    try {
      Path version = download(url, dir);
      return Files.isDirectory(version)
          ? RepositoryReader.readMetadata(version)
          : ObservedState.EMPTY;
    } finally {
      try (var s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // A temporary directory left behind is harmless.
      }
    }
  }

  /**
   * Downloads the metadata {@code url} serves into a directory below {@code dir} and returns it (a
   * directory that does not exist when nothing is published there).
   */
  static Path download(String url, Path dir) throws CorruptRepositoryException {
    String base = url.replaceAll("/+$", "");
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectTimeout(15, TimeUnit.SECONDS)
            .readTimeout(60, TimeUnit.SECONDS)
            .build();
    try {
      String name = base.substring(base.lastIndexOf('/') + 1);
      Path version =
          dir.resolve(
              name.matches("[A-Za-z0-9._-]{1,100}") && !name.startsWith(".") ? name : "current");
      byte[] repomd = get(http, base + "/repodata/repomd.xml", true);
      if (repomd == null) {
        return dir.resolve("not-published");
      }
      Files.createDirectories(version.resolve("repodata"));
      Files.write(version.resolve("repodata/repomd.xml"), repomd);
      List<Repodata.MetadataFile> files =
          Repodata.parseRepomd(repomd, base + "/repodata/repomd.xml");
      for (Repodata.MetadataFile f : files) {
        // Only plain names inside repodata/: a hostile repomd.xml cannot write elsewhere.
        if (!f.href().matches("repodata/[A-Za-z0-9][A-Za-z0-9._+-]{0,200}")) {
          throw new CorruptRepositoryException(
              base
                  + "/repodata/repomd.xml lists '"
                  + f.href()
                  + "', which is not a file in repodata/");
        }
        Files.write(version.resolve(f.href()), get(http, base + "/" + f.href(), false));
      }
      byte[] inventory = get(http, base + "/" + Inventory.FILE, true);
      if (inventory != null) {
        Files.write(version.resolve(Inventory.FILE), inventory);
      }
      return version;
    } catch (IOException e) {
      throw new CorruptRepositoryException(
          "cannot download the repository at " + base + ": " + e.getMessage(), e);
    } finally {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }

  private static byte[] get(OkHttpClient http, String url, boolean optional) throws IOException {
    try (Response r =
        http.newCall(new Request.Builder().url(url).header("User-Agent", "klp-catalog").build())
            .execute()) {
      if (optional && r.code() == 404) {
        return null;
      }
      if (!r.isSuccessful() || r.body() == null) {
        throw new IOException(url + ": HTTP " + r.code());
      }
      if (r.body().contentLength() > MAX_FILE) {
        throw new IOException(url + " is larger than " + MAX_FILE + " bytes");
      }
      return r.body().bytes();
    }
  }
}
