package org.klpcatalog.qa;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Writes the guest's {@code /init}: the QA protocol of one job as a busybox sh script. Pure.
 *
 * <p>Everything the host needs comes back on the serial console as marker lines, {@code @@KLPQA
 * <nonce> <WHAT> <phase> ...}; program output follows its marker with every line prefixed by {@code
 * "| "}, so nothing a test prints can pass for a marker. The nonce is read from a file the script
 * deletes before any test runs and is never exported, so a test cannot forge markers. Every name
 * put in the script (packages, modules, tests, kernel releases) is checked against {@link #SAFE}:
 * the catalog schema already restricts them to characters inert in sh.
 */
public final class GuestScript {
  /** What a name must look like to be written into the script. */
  static final Pattern SAFE = Pattern.compile("[A-Za-z0-9@][A-Za-z0-9._+@/-]*");

  /** Where the guest's files are (the overlay the runner adds to the base image). */
  public static final String TESTS = "/qa/tests";

  public static final String NEW = "/qa/new";
  public static final String OLD = "/qa/old";
  public static final String NONCE = "/qa/nonce";

  /** Limits inside the guest: per test, and for a livepatch transition (kpatch's wait). */
  public record Limits(int testSeconds, int transitionSeconds, int outputBytes) {
    public static final Limits DEFAULT = new Limits(60, 30, 16384);

    /** The defaults with another time limit per test. */
    public static Limits withTestSeconds(int seconds) {
      return new Limits(seconds, DEFAULT.transitionSeconds(), DEFAULT.outputBytes());
    }
  }

  private GuestScript() {}

  public static String write(QaJob job, Limits limits) {
    List<String> names = new ArrayList<>();
    job.packages()
        .forEach(
            p -> {
              names.add(p.name());
              names.add(p.module());
              names.add(p.nevra());
            });
    job.tests().forEach(t -> names.add(t.id()));
    names.addAll(job.targetModules());
    names.add(job.kernel());
    job.previous().forEach(p -> names.add(p.getFileName().toString()));
    for (String n : names) {
      if (!SAFE.matcher(n).matches()) {
        throw new IllegalArgumentException("not a safe name for the guest script: " + n);
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        PRELUDE
            .replace("@TEST_SECONDS@", Integer.toString(limits.testSeconds()))
            .replace("@TRANSITION@", Integer.toString(limits.transitionSeconds()))
            .replace("@OUTPUT_BYTES@", Integer.toString(limits.outputBytes())));
    String news =
        job.packages().stream()
            .map(p -> NEW + "/" + p.nevra() + ".rpm")
            .reduce((a, b) -> a + " " + b)
            .orElseThrow();
    String pkgNames =
        job.packages().stream().map(QaJob.Pkg::name).reduce((a, b) -> a + " " + b).orElseThrow();
    sb.append("m BEGIN boot ").append(job.kernel()).append('\n');
    sb.append("state boot\n");
    sb.append("suite baseline\n");
    sb.append("state baseline\n");
    rpmStep(sb, "install", "-i " + news);
    sb.append("suite loaded\n");
    rpmStep(sb, "remove", "-e " + pkgNames);
    sb.append("suite removed\n");
    if (job.kind() == QaJob.Kind.PATCH) {
      if (!job.targetModules().isEmpty()) {
        // Late module patching: the patch loaded while its target modules are absent, then the
        // modules loaded (the kernel patches them as they come), then everything removed.
        String mods = String.join(" ", job.targetModules());
        sb.append("unload_targets late-unload ").append(mods).append('\n');
        rpmStep(sb, "late-install", "-i " + news);
        sb.append("load_targets late-load ").append(mods).append('\n');
        sb.append("state late-load\n");
        sb.append("suite late\n");
        rpmStep(sb, "late-remove", "-e " + pkgNames);
      }
      if (!job.previous().isEmpty()) {
        String olds =
            job.previous().stream()
                .map(p -> OLD + "/" + p.getFileName())
                .reduce((a, b) -> a + " " + b)
                .orElseThrow();
        rpmStep(sb, "upgrade-old", "-i " + olds);
        rpmStep(sb, "upgrade", "-U " + news);
        sb.append("suite upgraded\n");
        rpmStep(sb, "upgrade-remove", "-e " + pkgNames);
      }
      for (int i = 1; i <= job.stress(); i++) {
        rpmStep(sb, "stress-" + i + "-install", "-i " + news);
        rpmStep(sb, "stress-" + i + "-remove", "-e " + pkgNames);
      }
      if (job.stress() > 0) {
        sb.append("suite stress-after\n");
      }
    }
    sb.append("state end\n");
    sb.append("m END end\n");
    sb.append("poweroff -f\n");
    return sb.toString();
  }

  /** An rpm transaction, then the state with rpm's database read back. */
  private static void rpmStep(StringBuilder sb, String phase, String args) {
    sb.append("rpmstep ").append(phase).append(' ').append(args).append('\n');
    sb.append("state ").append(phase).append(" rpm\n");
  }

  private static final String PRELUDE =
      """
      #!/bin/sh
      # /init of a klp-catalog QA guest: the protocol of one job. Markers go to the console.
      export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
      mount -t proc proc /proc
      mount -t sysfs sysfs /sys
      mount -t devtmpfs devtmpfs /dev 2>/dev/null
      mount -t tmpfs tmpfs /tmp
      mount -t tmpfs tmpfs /run
      mkdir -p /var/lib/kpatch /root
      N=$(cat /qa/nonce)
      rm -f /qa/nonce
      export KPATCH_TRANSITION_TIMEOUT=@TRANSITION@
      m() { echo "@@KLPQA $N $*"; }
      # Output after a marker: every line prefixed, the last one ended even when cut short.
      out() { head -c @OUTPUT_BYTES@ "$1" | awk '{ print "| " $0 }'; }
      # The kernel's messages since the last call that matter: problems (with the lines after
      # them: the trace) and livepatch's own, after a DMESG marker. dmesg -c empties the ring
      # buffer, so each call sees only new messages even once the buffer has wrapped.
      kmsg() {
      	dmesg -c > /tmp/.new 2>/dev/null
      	{ grep -E -A 20 '@PROBLEMS@' /tmp/.new; grep -E 'livepatch|kpatch' /tmp/.new; } > /tmp/.kmsg
      	if [ -s /tmp/.kmsg ]; then
      		m DMESG "$1"
      		out /tmp/.kmsg
      	fi
      }
      # The livepatch state: each patch's enabled and transition, each object's patched flag,
      # the modules kpatch has installed, the test packages rpm has installed ("state PHASE rpm"),
      # the taint flags.
      state() {
      	for d in /sys/kernel/livepatch/*/; do
      		[ -d "$d" ] || continue
      		p=$(basename "$d")
      		m LP "$1" "$p" "$(cat "$d/enabled")" "$(cat "$d/transition")"
      		for o in "$d"*/; do
      			[ -f "$o/patched" ] && m OBJ "$1" "$p" "$(basename "$o")" "$(cat "$o/patched")"
      		done
      	done
      	for f in /var/lib/kpatch/*/*.ko; do
      		[ -f "$f" ] && m KPATCH "$1" "${f#/var/lib/kpatch/}"
      	done
      	# rpm's database only after rpm changed it: rpm takes a while to start without KVM.
      	if [ "$2" = rpm ]; then
      		/usr/bin/rpm -qa --qf '%{NAME}\\n' > /tmp/.rpmqa 2>/tmp/.rpmerr
      		m RPMQ "$1" "$?"
      		grep -vxE 'kpatch|qa-guest-shell|gpg-pubkey' /tmp/.rpmqa | while read -r n; do m RPMDB "$1" "$n"; done
      	fi
      	m TAINT "$1" "$(cat /proc/sys/kernel/tainted)"
      	kmsg "$1"
      }
      # One test in a fresh directory, with a time limit.
      runtest() {
      	d=$(mktemp -d /tmp/qa.XXXXXX)
      	(cd "$d" && TMPDIR="$d" KLP_QA_PHASE="$1" timeout -s KILL @TEST_SECONDS@ sh "$2") > /tmp/.out 2>&1
      	rc=$?
      	rm -rf "$d"
      	m TEST "$1" "${2#@TESTS@/}" "$rc"
      	out /tmp/.out
      }
      suite() {
      	for t in @TESTS@/*/*.test; do
      		[ -f "$t" ] && runtest "$1" "$t"
      	done
      	kmsg "$1"
      }
      rpmstep() {
      	phase=$1
      	shift
      	/usr/bin/rpm "$@" > /tmp/.out 2>&1
      	m RPM "$phase" "$?"
      	grep -v -e 'should not be used directly' -e 'assuming you know what you are doing' /tmp/.out > /tmp/.out2
      	out /tmp/.out2
      }
      # Target modules out of the way: their filesystems unmounted, the modules removed.
      unload_targets() {
      	phase=$1
      	shift
      	for mod in "$@"; do
      		grep " $mod " /proc/mounts | while read -r _ mnt _; do umount "$mnt"; done
      		if [ -e "/sys/module/$mod/initstate" ]; then
      			rmmod "$mod" > /tmp/.out 2>&1
      			m UNLOAD "$phase" "$mod" "$?"
      			out /tmp/.out
      		else
      			m UNLOAD "$phase" "$mod" absent
      		fi
      	done
      }
      load_targets() {
      	phase=$1
      	shift
      	for mod in "$@"; do
      		modprobe "$mod" > /tmp/.out 2>&1
      		m MODPROBE "$phase" "$mod" "$?"
      		out /tmp/.out
      	done
      }
      """
          .replace("@TESTS@", TESTS)
          .replace("@PROBLEMS@", Verdict.KERNEL_PROBLEM.pattern());
}
