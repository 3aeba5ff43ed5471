package org.klpcatalog.catalog.version;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RpmVersionTest {

  /** rpm's own test vectors (tests/rpmvercmp.at), covering digits, letters, '~' and '^'. */
  static Stream<Arguments> rpmVectors() {
    return Stream.of(
        Arguments.of("1.0", "1.0", 0),
        Arguments.of("1.0", "2.0", -1),
        Arguments.of("2.0", "1.0", 1),
        Arguments.of("2.0.1", "2.0.1", 0),
        Arguments.of("2.0", "2.0.1", -1),
        Arguments.of("2.0.1", "2.0", 1),
        Arguments.of("2.0.1a", "2.0.1a", 0),
        Arguments.of("2.0.1a", "2.0.1", 1),
        Arguments.of("2.0.1", "2.0.1a", -1),
        Arguments.of("5.5p1", "5.5p1", 0),
        Arguments.of("5.5p1", "5.5p2", -1),
        Arguments.of("5.5p2", "5.5p1", 1),
        Arguments.of("5.5p10", "5.5p10", 0),
        Arguments.of("5.5p1", "5.5p10", -1),
        Arguments.of("5.5p10", "5.5p1", 1),
        Arguments.of("10xyz", "10.1xyz", -1),
        Arguments.of("10.1xyz", "10xyz", 1),
        Arguments.of("xyz10", "xyz10", 0),
        Arguments.of("xyz10", "xyz10.1", -1),
        Arguments.of("xyz10.1", "xyz10", 1),
        Arguments.of("xyz.4", "xyz.4", 0),
        Arguments.of("xyz.4", "8", -1),
        Arguments.of("8", "xyz.4", 1),
        Arguments.of("xyz.4", "2", -1),
        Arguments.of("2", "xyz.4", 1),
        Arguments.of("5.5p2", "5.6p1", -1),
        Arguments.of("5.6p1", "5.5p2", 1),
        Arguments.of("5.6p1", "6.5p1", -1),
        Arguments.of("6.5p1", "5.6p1", 1),
        Arguments.of("6.0.rc1", "6.0", 1),
        Arguments.of("6.0", "6.0.rc1", -1),
        Arguments.of("10b2", "10a1", 1),
        Arguments.of("10a2", "10b2", -1),
        Arguments.of("1.0aa", "1.0aa", 0),
        Arguments.of("1.0a", "1.0aa", -1),
        Arguments.of("1.0aa", "1.0a", 1),
        Arguments.of("10.0001", "10.0001", 0),
        Arguments.of("10.0001", "10.1", 0),
        Arguments.of("10.1", "10.0001", 0),
        Arguments.of("10.0001", "10.0039", -1),
        Arguments.of("10.0039", "10.0001", 1),
        Arguments.of("4.999.9", "5.0", -1),
        Arguments.of("5.0", "4.999.9", 1),
        Arguments.of("20101121", "20101121", 0),
        Arguments.of("20101121", "20101122", -1),
        Arguments.of("20101122", "20101121", 1),
        Arguments.of("2_0", "2_0", 0),
        Arguments.of("2.0", "2_0", 0),
        Arguments.of("2_0", "2.0", 0),
        Arguments.of("a", "a", 0),
        Arguments.of("a+", "a+", 0),
        Arguments.of("a+", "a_", 0),
        Arguments.of("a_", "a+", 0),
        Arguments.of("+a", "+a", 0),
        Arguments.of("+a", "_a", 0),
        Arguments.of("_a", "+a", 0),
        Arguments.of("+_", "+_", 0),
        Arguments.of("_+", "+_", 0),
        Arguments.of("_+", "_+", 0),
        Arguments.of("+", "_", 0),
        Arguments.of("_", "+", 0),
        Arguments.of("1.0~rc1", "1.0~rc1", 0),
        Arguments.of("1.0~rc1", "1.0", -1),
        Arguments.of("1.0", "1.0~rc1", 1),
        Arguments.of("1.0~rc1", "1.0~rc2", -1),
        Arguments.of("1.0~rc2", "1.0~rc1", 1),
        Arguments.of("1.0~rc1~git123", "1.0~rc1~git123", 0),
        Arguments.of("1.0~rc1~git123", "1.0~rc1", -1),
        Arguments.of("1.0~rc1", "1.0~rc1~git123", 1),
        Arguments.of("1.0^", "1.0^", 0),
        Arguments.of("1.0^", "1.0", 1),
        Arguments.of("1.0", "1.0^", -1),
        Arguments.of("1.0^git1", "1.0^git1", 0),
        Arguments.of("1.0^git1", "1.0", 1),
        Arguments.of("1.0", "1.0^git1", -1),
        Arguments.of("1.0^git1", "1.0^git2", -1),
        Arguments.of("1.0^git2", "1.0^git1", 1),
        Arguments.of("1.0^git1", "1.01", -1),
        Arguments.of("1.01", "1.0^git1", 1),
        Arguments.of("1.0^20160101", "1.0^20160101", 0),
        Arguments.of("1.0^20160101", "1.0.1", -1),
        Arguments.of("1.0.1", "1.0^20160101", 1),
        Arguments.of("1.0^20160101^git1", "1.0^20160101^git1", 0),
        Arguments.of("1.0^20160102", "1.0^20160101^git1", 1),
        Arguments.of("1.0^20160101^git1", "1.0^20160102", -1),
        Arguments.of("1.0~rc1^git1", "1.0~rc1^git1", 0),
        Arguments.of("1.0~rc1^git1", "1.0~rc1", 1),
        Arguments.of("1.0~rc1", "1.0~rc1^git1", -1),
        Arguments.of("1.0^git1~pre", "1.0^git1~pre", 0),
        Arguments.of("1.0^git1", "1.0^git1~pre", 1),
        Arguments.of("1.0^git1~pre", "1.0^git1", -1));
  }

  @ParameterizedTest(name = "{0} vs {1} = {2}")
  @MethodSource("rpmVectors")
  void comparesLikeRpm(String a, String b, int expected) {
    assertThat(Integer.signum(RpmVersion.compare(a, b))).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} < {1}")
  @MethodSource("kernelOrder")
  void ordersDebianAndElKernelReleases(String older, String newer) {
    assertThat(RpmVersion.compare(older, newer)).isNegative();
    assertThat(RpmVersion.compare(newer, older)).isPositive();
  }

  static Stream<Arguments> kernelOrder() {
    return Stream.of(
        Arguments.of("6.1.0-9", "6.1.0-50"),
        Arguments.of("6.1.0-50", "6.1.0-53"),
        Arguments.of("6.1.0-56", "6.2.0-1"),
        Arguments.of("5.14.0-427.13.1.el9_4", "5.14.0-427.18.1.el9_4"),
        Arguments.of("5.14.0-427.el9", "5.14.0-503.11.1.el9_5"),
        Arguments.of("6.1.0-50~bpo", "6.1.0-50"));
  }
}
