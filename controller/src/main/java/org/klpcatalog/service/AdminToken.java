package org.klpcatalog.service;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * The token that every state-changing endpoint other than webhooks ({@code POST /suspend}, {@code
 * /resume}) demands, whoever the caller is: the one in {@code server.adminTokenFile}, or, when none
 * is configured, one generated at first start into {@code <stateDir>/admin-token} (mode 0600) and
 * reused after. The token itself is never logged; where it is, is.
 */
public final class AdminToken {
  /** The file a generated token is kept in, inside the state directory. */
  public static final String FILE_NAME = "admin-token";

  /** Tokens shorter than this are refused in {@code server.adminTokenFile}: they can be guessed. */
  public static final int MIN_LENGTH = 16;

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  private final byte[] digest;
  private final Path file;
  private final boolean generated;

  private AdminToken(String token, Path file, boolean generated) {
    this.digest = sha256(token.getBytes(StandardCharsets.UTF_8));
    this.file = file;
    this.generated = generated;
  }

  /** Where a token is generated when the configuration names none. */
  public static Path generatedFile(Path stateDir) {
    return stateDir.resolve(FILE_NAME);
  }

  /**
   * The token of a configuration: the configured one, else the one in {@code
   * <stateDir>/admin-token}, made now (32 random bytes, hex) if that file does not exist yet.
   *
   * @throws IOException when the file cannot be made or read, or is not the service's own (a
   *     symbolic link, readable by others, empty): the message says what to do
   */
  public static AdminToken of(ServiceConfig config) throws IOException {
    if (config.server().adminToken().isPresent()) {
      return new AdminToken(
          config.server().adminToken().get(),
          config.server().adminTokenFile().orElseThrow(),
          false);
    }
    Path file = generatedFile(config.stateDir().toAbsolutePath().normalize());
    Optional<String> existing = readGenerated(file);
    if (existing.isPresent()) {
      return new AdminToken(existing.get(), file, false);
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String token = HexFormat.of().formatHex(random);
    Files.createDirectories(file.getParent());
    // Written whole under another name with owner-only permissions from the start, then linked in:
    // a link never replaces a file, so two starts at once agree on the one that got there first.
    Path tmp =
        Files.createTempFile(
            file.getParent(),
            "." + FILE_NAME,
            ".tmp",
            PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    try {
      Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
      Files.createLink(file, tmp);
    } catch (FileAlreadyExistsException e) {
      return new AdminToken(readGenerated(file).orElseThrow(() -> e), file, false);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return new AdminToken(token, file, true);
  }

  /** A generated token file's token, if the file exists; refused unless it is the service's own. */
  static Optional<String> readGenerated(Path file) throws IOException {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(
          file + " is not a regular file; remove it, and a new admin token is generated at start");
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
    if (!OWNER_ONLY.containsAll(perms)) {
      throw new IOException(
          file
              + " holds the admin token but has mode "
              + PosixFilePermissions.toString(perms)
              + "; make it readable by the service's user only (chmod 600 "
              + file
              + "), or remove it to have a new"
              + " token generated");
    }
    String token = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (token.length() < MIN_LENGTH) {
      throw new IOException(
          file + " does not hold an admin token; remove it, and a new one is generated at start");
    }
    return Optional.of(token);
  }

  /**
   * Whether an {@code Authorization} header value carries this token ({@code Bearer <token>}). Both
   * sides are hashed first, so the comparison takes the same time whatever was sent.
   */
  public boolean accepts(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = sha256(authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8));
    return MessageDigest.isEqual(digest, given);
  }

  /** The file the token is in. */
  public Path file() {
    return file;
  }

  /** Whether this start made the token (the first start without {@code server.adminTokenFile}). */
  public boolean generated() {
    return generated;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
