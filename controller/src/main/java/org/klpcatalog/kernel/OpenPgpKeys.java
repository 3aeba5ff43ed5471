package org.klpcatalog.kernel;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * OpenPGP public key files as operators have them (armored, possibly several blocks, or binary),
 * turned into what the verifiers take: gpgv a binary keyring, rpmkeys armored blocks. Pure: no key
 * is interpreted beyond its packet framing; gpgv and rpm do the cryptography.
 */
public final class OpenPgpKeys {
  private static final String BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
  private static final String END = "-----END PGP PUBLIC KEY BLOCK-----";

  private OpenPgpKeys() {}

  /** A key file's content is not an OpenPGP public key. */
  public static final class NotAKeyException extends Exception {
    private static final long serialVersionUID = 1L;

    NotAKeyException(String message) {
      super(message);
    }
  }

  /**
   * The binary key blocks of a key file: each armored public key block decoded, or the file itself
   * when it is a binary key (its first packet a public key packet).
   */
  public static List<byte[]> blocks(byte[] file) throws NotAKeyException {
    if (file.length == 0) {
      throw new NotAKeyException("the file is empty");
    }
    if (isBinaryPublicKey(file)) {
      return List.of(file);
    }
    String text = new String(file, StandardCharsets.ISO_8859_1);
    List<byte[]> out = new ArrayList<>();
    int at = 0;
    while (true) {
      int begin = text.indexOf(BEGIN, at);
      if (begin < 0) {
        break;
      }
      int end = text.indexOf(END, begin);
      if (end < 0) {
        throw new NotAKeyException("an armored key block has no end line (" + END + ")");
      }
      out.add(decodeArmor(text.substring(begin + BEGIN.length(), end)));
      at = end + END.length();
    }
    if (out.isEmpty()) {
      throw new NotAKeyException(
          "it holds no OpenPGP public key (armored '"
              + BEGIN
              + "', or binary as gpg --export"
              + " writes it)");
    }
    for (byte[] b : out) {
      if (!isBinaryPublicKey(b)) {
        throw new NotAKeyException("an armored block does not start with a public key");
      }
    }
    return out;
  }

  /** A binary block in ASCII armor, as rpmkeys --import takes it. */
  public static String armor(byte[] block) {
    StringBuilder sb = new StringBuilder(BEGIN).append("\n\n");
    String b64 = Base64.getEncoder().encodeToString(block);
    for (int i = 0; i < b64.length(); i += 64) {
      sb.append(b64, i, Math.min(b64.length(), i + 64)).append('\n');
    }
    int crc = crc24(block);
    byte[] c = {(byte) (crc >> 16), (byte) (crc >> 8), (byte) crc};
    sb.append('=')
        .append(Base64.getEncoder().encodeToString(c))
        .append('\n')
        .append(END)
        .append('\n');
    return sb.toString();
  }

  /** Whether the bytes start with an OpenPGP public key packet (tag 6), old or new format. */
  static boolean isBinaryPublicKey(byte[] b) {
    if (b.length < 2 || (b[0] & 0x80) == 0) {
      return false;
    }
    int tag = (b[0] & 0x40) != 0 ? b[0] & 0x3f : (b[0] >> 2) & 0x0f;
    return tag == 6;
  }

  private static byte[] decodeArmor(String body) throws NotAKeyException {
    // Armor headers (Version:, Comment:) hold a colon, which base64 never does.
    String[] lines = body.split("\r?\n", -1);
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    Integer expectedCrc = null;
    for (String line : lines) {
      String l = line.strip();
      if (l.isEmpty() || l.contains(":")) {
        continue;
      }
      try {
        if (l.startsWith("=") && l.length() == 5) {
          byte[] c = Base64.getDecoder().decode(l.substring(1));
          expectedCrc = ((c[0] & 0xff) << 16) | ((c[1] & 0xff) << 8) | (c[2] & 0xff);
          continue;
        }
        data.writeBytes(Base64.getDecoder().decode(l));
      } catch (IllegalArgumentException e) {
        throw new NotAKeyException("an armored key block is not valid base64");
      }
    }
    byte[] out = data.toByteArray();
    if (expectedCrc != null && expectedCrc != crc24(out)) {
      throw new NotAKeyException("an armored key block fails its checksum (the file is damaged)");
    }
    return out;
  }

  /** The CRC-24 of RFC 4880, section 6.1. */
  static int crc24(byte[] data) {
    int crc = 0xB704CE;
    for (byte b : data) {
      crc ^= (b & 0xff) << 16;
      for (int i = 0; i < 8; i++) {
        crc <<= 1;
        if ((crc & 0x1000000) != 0) {
          crc ^= 0x1864CFB;
        }
      }
    }
    return crc & 0xFFFFFF;
  }
}
