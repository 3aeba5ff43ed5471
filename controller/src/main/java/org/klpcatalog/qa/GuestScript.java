package org.klpcatalog.qa;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Writes the guest's {@code /init}: the QA protocol of one job as a busybox sh script, one or two
 * lines per {@link Phase} the job runs (the phase's shell function, then its state report), after a
 * prelude defining those functions. Pure.
 *
 * <p>Everything the host needs comes back on the serial console as {@link Marker} lines,
 * {@code @@KLPQA <nonce> <MARKER> <phase> ...}; program output follows its marker with every line
 * prefixed by {@code "| "}, so nothing a test prints can pass for a marker. The nonce is read from
 * a file the script deletes before any test runs and is never exported, so a test cannot forge
 * markers. Every name put in the script (packages, modules, tests, kernel releases) is checked
 * against {@link #SAFE}: the catalog schema already restricts them to characters inert in sh.
 */
public final class GuestScript {
  /** What a name must look like to be written into the script. */
  static final Pattern SAFE = Pattern.compile("[A-Za-z0-9@][A-Za-z0-9._+@/-]*");

  /** Where the guest's files are (the overlay the runner adds to the base image). */
  public static final String TESTS = "/qa/tests";

  public static final String NEW = "/qa/new";
  public static final String OLD = "/qa/old";
  public static final String NONCE = "/qa/nonce";

  /**
   * Limits inside the guest: per test, for a livepatch transition (kpatch's wait), for a program's
   * output; and from them and the job's phases, the VM's.
   */
  public record Limits(int testSeconds, int transitionSeconds, int outputBytes) {
    public static final Limits DEFAULT = new Limits(60, 30, 16384);

    /** The defaults with another time limit per test. */
    public static Limits withTestSeconds(int seconds) {
      return new Limits(seconds, DEFAULT.transitionSeconds(), DEFAULT.outputBytes());
    }

    /**
     * The longest a guest that is not hung can take: boot, then each phase the job's fields ask for
     * its share ({@link Phase.Action#seconds}); doubled without KVM. A TOGETHER job runs only the
     * phases of every job, but the target modules it has still count their late-module share:
     * margin for its one transaction of every package.
     */
    public Duration vm(QaJob job, boolean kvm) {
      long seconds = 120;
      for (Phase phase : Phase.values()) {
        seconds += phase.asked(job) * phase.action.seconds(job, this);
      }
      return Duration.ofSeconds(kvm ? seconds : seconds * 2);
    }

    /**
     * The longest a guest may print nothing: it prints a marker at least after every test and rpm
     * step, so silence longer than the longest of those means it hangs; doubled without KVM.
     */
    public Duration idle(QaJob job, boolean kvm) {
      return Duration.ofSeconds(
          (long) (testSeconds + transitionSeconds * job.packages().size() + 60) * (kvm ? 1 : 2));
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
    for (Phase.Run run : Phase.runs(job)) {
      // A phase's shell function, then the state after it; the END marker comes after the state.
      Phase.Action action = run.phase().action;
      String call = action.function + " " + actionArgs(job, run) + "\n";
      String state =
          run.phase().reportsState()
              ? "state " + run.name() + (action.rpm() ? " rpm" : "") + "\n"
              : "";
      sb.append(action == Phase.Action.END ? state + call : call + state);
    }
    sb.append("poweroff -f\n");
    return sb.toString();
  }

  /** The arguments of a phase's shell function: its name, then what the action works on. */
  private static String actionArgs(QaJob job, Phase.Run run) {
    String phase = run.name();
    return switch (run.phase().action) {
      case BEGIN -> Marker.BEGIN + " " + phase + " " + job.kernel();
      case END -> Marker.END + " " + phase;
      case TESTS, TESTS_PATCHED -> phase;
      case INSTALL -> phase + " -i " + newPackages(job);
      case INSTALL_PREVIOUS ->
          phase
              + " -i "
              + job.previous().stream()
                  .map(p -> OLD + "/" + p.getFileName())
                  .collect(Collectors.joining(" "));
      case UPGRADE -> phase + " -U " + newPackages(job);
      case REMOVE ->
          phase
              + " -e "
              + job.packages().stream().map(QaJob.Pkg::name).collect(Collectors.joining(" "));
      case UNLOAD_TARGETS, LOAD_TARGETS -> phase + " " + String.join(" ", job.targetModules());
    };
  }

  private static String newPackages(QaJob job) {
    return job.packages().stream()
        .map(p -> NEW + "/" + p.nevra() + ".rpm")
        .collect(Collectors.joining(" "));
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
      m() { echo "@PREFIX@ $N $*"; }
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
          .replace("@PREFIX@", Marker.PREFIX)
          .replace("@TESTS@", TESTS)
          .replace("@PROBLEMS@", Verdict.KERNEL_PROBLEM.pattern());
}
