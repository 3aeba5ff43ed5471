package org.klpcatalog.kernel;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A kernel provider as whoever runs klp-catalog configured it ({@code kernels.providers} of the
 * configuration file): its name, which catalogs use in {@code kernels[].provider}, its type, and
 * where the type gets kernels from. A catalog only names a provider; it never says where kernels
 * come from.
 */
public sealed interface ProviderSpec permits ProviderSpec.Debian, ProviderSpec.RpmRepo {
  /** The names of the types, as the configuration's {@code type} key writes them. */
  List<String> TYPES = List.of("debian", "rpm-repo");

  /** The name catalogs use. */
  String name();

  /** The type, one of {@link #TYPES}. */
  String type();

  /**
   * Debian kernels through apt: the machine's configuration, or the apt configuration file {@code
   * aptConfig} (APT_CONFIG: its own sources, keys and lists). apt's sources and the keys it trusts
   * decide where packages come from and that they are authentic.
   */
  record Debian(String name, Optional<Path> aptConfig) implements ProviderSpec {
    public Debian {
      Objects.requireNonNull(name);
      Objects.requireNonNull(aptConfig);
    }

    /** Through the machine's apt configuration. */
    public Debian(String name) {
      this(name, Optional.empty());
    }

    @Override
    public String type() {
      return "debian";
    }
  }

  /**
   * Kernels from a yum repository at {@code url} (https://, file://, or http:// when {@code
   * allowHttp}), whose repomd.xml must carry a detached signature and whose packages must be
   * signed, both by a key of {@code gpgKeys} (OpenPGP public key files, armored or binary).
   */
  record RpmRepo(String name, URI url, List<Path> gpgKeys, boolean allowHttp)
      implements ProviderSpec {
    public RpmRepo {
      Objects.requireNonNull(name);
      Objects.requireNonNull(url);
      gpgKeys = List.copyOf(gpgKeys);
    }

    @Override
    public String type() {
      return "rpm-repo";
    }

    /** The URL with a trailing slash, to resolve repodata/ and package locations against. */
    public String base() {
      String s = url.toString();
      return s.endsWith("/") ? s : s + "/";
    }
  }
}
