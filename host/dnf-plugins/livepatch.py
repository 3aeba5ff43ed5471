# -*- coding: utf-8 -*-
# livepatch.py: the dnf plugin and the `dnf livepatch` command of the klp-catalog host tool.
#
# A klp-catalog repository publishes one package per kernel livepatch. Each package:
#   - provides `kpatch-kernel(<release>)` for every kernel release it carries a module for,
#   - provides `kpatch-cve(<CVE id>)` for every CVE its patch fixes,
#   - installs its module as /usr/lib/kpatch/<release>/<module>.ko (one module name a package);
#     the loaded module appears as <sysfs>/kernel/livepatch/<module>.
# This plugin reads only those capabilities, the packages' file lists, and two kernel interfaces
# (<procfs>/sys/kernel/osrelease and <sysfs>/kernel/livepatch). It never runs a program and never
# reads a package's scriptlets; loading and unloading stay the packages' kpatch scriptlets' job.
#
# Design choices (the issue left these open):
#   - Installed kernels are the installed packages that provide `kernel-uname-r`; a kernel's
#     release is that provide's version, verbatim. The running kernel is the first line of
#     <procfs>/sys/kernel/osrelease. It need not be installed (a container, a removed package).
#   - A package serves kernel K iff it provides `kpatch-kernel(K)` (unversioned, exact string).
#   - One version per package name: `install`/`upgrade` pick, for each name, the latest version
#     that serves the running kernel if the running kernel is targeted and that name serves it,
#     else the latest version that serves any targeted kernel. (A newer version may drop an old
#     kernel; the running kernel's fix wins.)
#   - Packages some other package obsoletes (a superseded livepatch) are never chosen; their
#     replacement is, and dnf's obsoletes processing removes the old one.
#   - `install` only adds names not installed yet; `upgrade` also moves installed names to the
#     chosen version when it is newer. Neither removes anything nor touches comps groups.
#   - Nothing installed that serves the running kernel is replaced by a version, or a
#     superseding package, that does not serve it: that would unload the live fix (the old
#     package's scriptlets unload its module). It is kept, with a message, until the host
#     runs a kernel the newer package serves.
#   - A kernel no package serves is reported and skipped; with --kernel it is an error.
#   - auto mode: in the `resolved` hook, every package the transaction installs that provides
#     `kernel-uname-r` gets its serving livepatches added (as `install` would for that kernel;
#     an installed livepatch whose installed version does not serve the new kernel is upgraded
#     to the latest that does, unless that would unload the running kernel's fix, below), and
#     the transaction is resolved again, so kernel and
#     livepatches land in one transaction. The added jobs are optional: a livepatch that cannot
#     be installed is left out and never blocks the kernel.
#   - status: a package serving the running kernel is `live` (enabled 1, transition 0 or no
#     transition file: kernels before the consistency model), `transition` (enabled 1,
#     transition 1), `disabled` (loaded, enabled anything else or unreadable), and when not
#     loaded `module-missing` (its module file for the running kernel is not under the
#     installroot) or `not-loaded`. A loaded module's state comes from sysfs even when its file
#     is gone (kpatch keeps its own copy for boot). A loaded livepatch whose module name no
#     installed package carries is `unknown`.
#   - status exit: 0 when every livepatch available for the running kernel is installed and every
#     installed one serving it is live; otherwise 2 (something available and not installed or
#     newer, transition, disabled, not-loaded or module-missing, or no repository enabled, so
#     what is available is not known). `unknown` patches are reported but do not change the
#     exit status: they are not this repository's to judge (another vendor's livepatch can be
#     loaded alongside). dnf's own errors exit 1.
#   - sysfs and procfs describe the running system and are not prefixed with the installroot;
#     module files are looked up under the installroot.
#   - Text from packages and from sysfs (names, provides, directory names) is data: it is shown
#     with non-printable characters escaped and is never used as a path component unless it is
#     a plain file name.
#
# Written for dnf 4's Python API and Python 3.6 or later. The pure part (everything above the
# dnf layer at the end) needs no dnf and is what the unit tests exercise.

from __future__ import absolute_import, print_function, unicode_literals

import errno
import json
import logging
import os
import re
import tempfile

try:
    import dnf
    import dnf.cli
    import dnf.exceptions
    import dnf.plugin
except ImportError:  # the pure part stays importable (and testable) without dnf
    dnf = None

VERSION = '1.0'
JSON_FORMAT = 1
PLUGIN_NAME = 'livepatch'

KERNEL_PROVIDE = 'kernel-uname-r'
SERVES_PREFIX = 'kpatch-kernel('
SERVES_GLOB = SERVES_PREFIX + '*'
_SERVES = re.compile(r'\Akpatch-kernel\((.+)\)\Z', re.S)
_CVE = re.compile(r'\Akpatch-cve\((.+)\)\Z', re.S)
_MODULE_PATH = re.compile(r'\A/usr/lib/kpatch/([^/]+)/([^/]+)\.ko\Z', re.S)
_KERNEL_PROVIDE_PREFIX = KERNEL_PROVIDE + ' = '

LIVE = 'live'
TRANSITION = 'transition'
DISABLED = 'disabled'
NOT_LOADED = 'not-loaded'
MODULE_MISSING = 'module-missing'
UNKNOWN = 'unknown'
STATES = (LIVE, TRANSITION, DISABLED, NOT_LOADED, MODULE_MISSING, UNKNOWN)

EXIT_OK = 0
EXIT_ACTION_NEEDED = 2

DEFAULT_SYSFS = '/sys'
DEFAULT_PROCFS = '/proc'

NO_REPOSITORY = ("no repository is enabled; install the livepatch repository's .repo file "
                 "into /etc/yum.repos.d and try again")
NO_LIVEPATCH_REPOSITORY = ("no enabled repository provides livepatches (packages providing "
                           "kpatch-kernel(...)); install the livepatch repository's .repo file "
                           "into /etc/yum.repos.d and try again")

logger = logging.getLogger('dnf.plugin.livepatch')


class LivepatchError(Exception):
    """A problem the user can fix; the dnf layer turns it into dnf.exceptions.Error."""


# ---------------------------------------------------------------------------------------------
# Text: everything shown comes from packages or from the kernel and is escaped for display.

def printable(text):
    """`text` for a terminal: backslash and non-printable characters as escapes. A byte that was
    not UTF-8 (a surrogate escape from os.listdir) is shown as \\xNN."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append('\\x%02x' % (code - 0xDC00))
        elif ch == '\\':
            out.append('\\\\')
        elif ch.isprintable() and not 0xD800 <= code <= 0xDFFF:
            out.append(ch)
        elif code < 0x100:
            out.append('\\x%02x' % code)
        elif code < 0x10000:
            out.append('\\u%04x' % code)
        else:
            out.append('\\U%08x' % code)
    return ''.join(out)


def json_text(text):
    """`text` as a JSON string value can carry it: bytes that were not UTF-8 become \\xNN.
    json.dumps escapes control characters itself."""
    if text is None:
        return None
    try:
        raw = text.encode('utf-8', 'surrogateescape')
    except UnicodeEncodeError:
        return text.encode('utf-8', 'backslashreplace').decode('utf-8')
    return raw.decode('utf-8', 'backslashreplace')


def natural_key(text):
    """Sort key that orders digit runs by value: CVE-2024-9999 before CVE-2024-10000."""
    return [(0, int(part), '') if part.isdigit() else (1, 0, part)
            for part in re.split(r'(\d+)', text) if part != '']


# ---------------------------------------------------------------------------------------------
# Version comparison, as rpm does it (used when no dnf sack is at hand).

def rpmvercmp(a, b):
    """rpm's version segment comparison (rpmvercmp), including ~ (sorts before anything) and ^
    (sorts after the base but before any other suffix). Returns -1, 0 or 1."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not a[i].isalnum() and a[i] not in '~^':
            i += 1
        while j < lb and not b[j].isalnum() and b[j] not in '~^':
            j += 1
        ca = a[i] if i < la else ''
        cb = b[j] if j < lb else ''
        if ca == '~' or cb == '~':
            if ca != '~':
                return 1
            if cb != '~':
                return -1
            i += 1
            j += 1
            continue
        if ca == '^' or cb == '^':
            if i >= la:
                return -1
            if j >= lb:
                return 1
            if ca != '^':
                return 1
            if cb != '^':
                return -1
            i += 1
            j += 1
            continue
        if not (i < la and j < lb):
            break
        si, sj = i, j
        if a[i].isdigit():
            while i < la and a[i].isdigit():
                i += 1
            while j < lb and b[j].isdigit():
                j += 1
            isnum = True
        else:
            while i < la and a[i].isalpha():
                i += 1
            while j < lb and b[j].isalpha():
                j += 1
            isnum = False
        sa, sb = a[si:i], b[sj:j]
        if not sb:
            return 1 if isnum else -1
        if isnum:
            sa = sa.lstrip('0')
            sb = sb.lstrip('0')
            if len(sa) != len(sb):
                return 1 if len(sa) > len(sb) else -1
        if sa != sb:
            return 1 if sa > sb else -1
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


def _split_evr(evr):
    epoch = '0'
    if ':' in evr:
        epoch, evr = evr.split(':', 1)
    version, _, release = evr.rpartition('-') if '-' in evr else (evr, '', '')
    return epoch or '0', version, release


def evr_cmp(a, b):
    """Compare two 'E:V-R' strings as rpm does; -1, 0 or 1."""
    ea, va, ra = _split_evr(a)
    eb, vb, rb = _split_evr(b)
    for x, y in ((ea, eb), (va, vb), (ra, rb)):
        c = rpmvercmp(x, y)
        if c:
            return c
    return 0


def _cmp_key(vercmp):
    class Key(object):
        __slots__ = ('evr',)

        def __init__(self, evr):
            self.evr = evr

        def __lt__(self, other):
            return vercmp(self.evr, other.evr) < 0

        def __eq__(self, other):
            return vercmp(self.evr, other.evr) == 0
    return Key


# ---------------------------------------------------------------------------------------------
# Packages as plain values.

def serving_kernels(provides):
    """The kernel releases a package serves, from its provides as strings."""
    out = set()
    for p in provides:
        m = _SERVES.match(p)
        if m:
            out.add(m.group(1))
    return out


def cve_ids(provides):
    """The CVE ids of a package's `kpatch-cve(...)` provides, naturally sorted."""
    out = set()
    for p in provides:
        m = _CVE.match(p)
        if m:
            out.add(m.group(1))
    return sorted(out, key=natural_key)


def kernel_releases(provides):
    """The releases in a package's `kernel-uname-r = <release>` provides, verbatim."""
    return [p[len(_KERNEL_PROVIDE_PREFIX):] for p in provides
            if p.startswith(_KERNEL_PROVIDE_PREFIX) and len(p) > len(_KERNEL_PROVIDE_PREFIX)]


def module_files(files):
    """{release: module name} from a package's file list (/usr/lib/kpatch/<release>/<mod>.ko)."""
    out = {}
    for f in files:
        m = _MODULE_PATH.match(f)
        if m:
            out.setdefault(m.group(1), m.group(2))
    return out


class Pkg(object):
    """A livepatch package as plain values; `ref` is the dnf package it stands for, if any."""

    __slots__ = ('name', 'evr', 'arch', 'kernels', 'cves', 'modules', 'installed', 'obsoleted',
                 'ref', 'obsoletes')

    def __init__(self, name, evr, arch='x86_64', provides=(), files=(), installed=False,
                 obsoleted=False, ref=None, obsoletes=()):
        self.name = name
        self.obsoletes = frozenset(obsoletes)   # names of the packages this one obsoletes
        self.evr = evr
        self.arch = arch
        self.kernels = frozenset(serving_kernels(provides))
        self.cves = cve_ids(provides)
        self.modules = module_files(files)
        self.installed = installed
        self.obsoleted = obsoleted
        self.ref = ref

    @property
    def module(self):
        """The package's module name (one per package); None if it carries no module file."""
        names = sorted(set(self.modules.values()))
        return names[0] if names else None

    @property
    def nevra(self):
        return '%s-%s.%s' % (self.name, self.evr, self.arch)

    def __repr__(self):
        return 'Pkg(%r, %r, kernels=%r)' % (self.name, self.evr, sorted(self.kernels))


def safe_component(text):
    """True if `text` can be one path component: not empty, no '/', no NUL, not '.' or '..'."""
    return bool(text) and '/' not in text and '\0' not in text and text not in ('.', '..')


def module_path(release, module):
    """The install path of `module` for `release`, or None if either is not a plain name."""
    if module is None or not safe_component(release) or not safe_component(module + '.ko'):
        return None
    return '/usr/lib/kpatch/%s/%s.ko' % (release, module)


# ---------------------------------------------------------------------------------------------
# Choosing packages for kernels.

class Action(object):
    __slots__ = ('kind', 'pkg', 'kernels', 'installed_evr', 'kept')

    def __init__(self, kind, pkg, kernels, installed_evr=None, kept=None):
        self.kind = kind            # 'install', 'upgrade', or 'keep' (Plan.kept)
        self.pkg = pkg
        self.kernels = kernels      # the targeted kernels this version serves, in target order
        self.installed_evr = installed_evr
        self.kept = kept                # 'keep': the installed Pkg left in place

    def __repr__(self):
        return 'Action(%r, %r)' % (self.kind, self.pkg)


class Plan(object):
    __slots__ = ('actions', 'unserved', 'served', 'kept')

    def __init__(self, actions, unserved, served, kept=()):
        self.actions = actions      # [Action], sorted by package name
        self.unserved = unserved    # targeted kernels no package (available or installed) serves
        self.served = served        # every kernel some available package serves, naturally sorted
        self.kept = list(kept)      # [Action('keep', candidate, kernels, evr, installed)]: not
        #                             upgraded, as the newer version would unload the running
        #                             kernel's fix (or the running kernel is not known)


def latest_serving(candidates, kernel, vercmp=evr_cmp):
    """{name: the latest candidate of that name serving `kernel`}, obsoleted ones left out."""
    best = {}
    for c in candidates:
        if c.obsoleted or kernel not in c.kernels:
            continue
        cur = best.get(c.name)
        if cur is None or vercmp(c.evr, cur.evr) > 0:
            best[c.name] = c
    return best


def installed_by_name(installed, vercmp=evr_cmp):
    out = {}
    for p in installed:
        cur = out.get(p.name)
        if cur is None or vercmp(p.evr, cur.evr) > 0:
            out[p.name] = p
    return out


def plan(targets, running, candidates, installed, upgrade=False, exclude_names=(),
         upgrade_unserved=False, keep_if_unknown=False, vercmp=evr_cmp):
    """What to install (and, with `upgrade`, upgrade) so every kernel in `targets` gets the
    latest version of every package serving it. `candidates` are available packages,
    `installed` installed livepatch packages, `exclude_names` names to leave alone (already in
    the transaction). With `upgrade_unserved` (auto mode), an installed name is upgraded only
    when its installed version serves none of the targeted kernels the chosen version serves.
    An installed name is never upgraded to a version that does not serve the running kernel
    when the installed one does: the upgrade would unload the fix live on it (the old
    package's scriptlets unload its module), and the repository offers one version a name.
    With `keep_if_unknown` and no running kernel known, installed names are not upgraded.
    Pure."""
    targets = _unique(targets)
    have = installed_by_name(installed, vercmp)
    served = set()
    for p in candidates:
        served.update(p.kernels)
    covered = set(served)
    for p in installed:
        covered.update(p.kernels)
    per_name = {}   # name -> {kernel: best candidate for that kernel}
    for k in targets:
        for name, c in latest_serving(candidates, k, vercmp).items():
            per_name.setdefault(name, {})[k] = c
    actions = []
    kept = []
    for name in sorted(per_name):
        if name in exclude_names:
            continue
        by_kernel = per_name[name]
        if running is not None and running in by_kernel:
            chosen = by_kernel[running]
        else:
            chosen = None
            for c in by_kernel.values():
                if chosen is None or vercmp(c.evr, chosen.evr) > 0:
                    chosen = c
        kernels = [k for k in targets if k in chosen.kernels]
        old = have.get(name)
        if old is None:
            # A successor (another name) replaces what it obsoletes: never one the running
            # kernel's fix is in, unless it serves the running kernel too.
            threatened = [i for i in installed if i.name in chosen.obsoletes and (
                (running is None and keep_if_unknown) or (
                    running is not None and running in i.kernels
                    and running not in chosen.kernels))]
            if threatened:
                kept.append(Action('keep', chosen, kernels, threatened[0].evr, threatened[0]))
            else:
                actions.append(Action('install', chosen, kernels))
        elif vercmp(chosen.evr, old.evr) > 0 and (
                upgrade or (upgrade_unserved and not old.kernels.intersection(kernels))):
            if (running is None and keep_if_unknown) or (
                    running is not None and running in old.kernels
                    and running not in chosen.kernels):
                kept.append(Action('keep', chosen, kernels, old.evr, old))
            else:
                actions.append(Action('upgrade', chosen, kernels, old.evr))
    unserved = [k for k in targets if k not in covered]
    return Plan(actions, unserved, sorted(served, key=natural_key), kept)


def kept_text(action, running):
    """The message for an installed livepatch left at its version (see plan)."""
    name = action.kept.name if action.kept is not None else action.pkg.name
    if running is None:
        return ('livepatch: keeping %s-%s: the running kernel is not known, and %s might not '
                'serve it' % (printable(name), printable(action.installed_evr),
                              printable(action.pkg.nevra)))
    return ('livepatch: keeping %s-%s: %s does not serve the running kernel %s, whose fix it '
            'would unload' % (printable(name), printable(action.installed_evr),
                              printable(action.pkg.nevra), printable(running)))


def _kernels_text(kernels):
    return '%s %s' % ('kernels' if len(kernels) > 1 else 'kernel',
                      ', '.join(printable(k) for k in kernels))


def _unique(items):
    seen = set()
    out = []
    for i in items:
        if i is not None and i not in seen:
            seen.add(i)
            out.append(i)
    return out


# ---------------------------------------------------------------------------------------------
# The running system: osrelease and sysfs.

_MAX_READ = 4096


def read_osrelease(procfs):
    """The running kernel's release: the first line of <procfs>/sys/kernel/osrelease, stripped.
    Raises LivepatchError when it cannot be read or is not a plain release."""
    path = os.path.join(procfs, 'sys', 'kernel', 'osrelease')
    try:
        with open(path, 'rb') as f:
            data = f.read(_MAX_READ)
    except (IOError, OSError) as e:
        raise LivepatchError('cannot read the running kernel\'s release from %s: %s'
                             % (printable(path), printable(e.strerror or str(e))))
    text = data.decode('utf-8', 'surrogateescape')
    lines = text.strip().splitlines()
    release = lines[0].strip() if lines else ''
    if not release or not safe_component(release) or not all(
            c.isprintable() and not c.isspace() for c in release):
        raise LivepatchError("%s does not hold a kernel release: '%s'"
                             % (printable(path), printable(text)))
    return release


def _read_int(path):
    """The integer in a small sysfs attribute file, or None if absent or not an integer."""
    try:
        with open(path, 'rb') as f:
            data = f.read(64)
    except (IOError, OSError):
        return None
    text = data.decode('ascii', 'replace').strip()
    if re.match(r'\A-?[0-9]{1,9}\Z', text):
        return int(text)
    return None


class Loaded(object):
    """A livepatch loaded in the running kernel, as sysfs shows it."""

    __slots__ = ('module', 'enabled', 'transition')

    def __init__(self, module, enabled, transition):
        self.module = module
        self.enabled = enabled          # int or None (unreadable)
        self.transition = transition    # int or None (absent: kernel without the file)

    @property
    def state(self):
        if self.enabled == 1:
            return TRANSITION if self.transition == 1 else LIVE
        return DISABLED

    def __repr__(self):
        return 'Loaded(%r, %r, %r)' % (self.module, self.enabled, self.transition)


def read_sysfs(sysfs):
    """{module: Loaded} for every directory under <sysfs>/kernel/livepatch (symlinks and files
    are ignored; a missing directory means none loaded)."""
    top = os.path.join(sysfs, 'kernel', 'livepatch')
    try:
        names = os.listdir(top)
    except (IOError, OSError) as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return {}
        raise LivepatchError('cannot read %s: %s' % (printable(top), printable(e.strerror or '')))
    out = {}
    for name in sorted(names):
        path = os.path.join(top, name)
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        out[name] = Loaded(name, _read_int(os.path.join(path, 'enabled')),
                           _read_int(os.path.join(path, 'transition')))
    return out


# ---------------------------------------------------------------------------------------------
# Status.

def patch_state(pkg, running, loaded, module_present):
    """The state of installed package `pkg` for the running kernel (it must serve it)."""
    mod = pkg.module
    entry = loaded.get(mod) if mod is not None else None
    if entry is not None:
        return entry.state
    path = module_path(running, mod)
    if path is None or not module_present(path):
        return MODULE_MISSING
    return NOT_LOADED


# The status report, format 1 (render_json writes it with sorted keys; fields are only ever added
# under format 1, and a change of meaning gets a new format number):
#   format          1
#   version         the host tool's version
#   running_kernel  release of the running kernel
#   auto            automatic mode on (bool)
#   repositories    ids of the enabled repositories whose metadata loaded
#   ok              true iff the exit status is 0
#   kernels         the running kernel, then the installed kernels newest first; each:
#     release, running (bool), installed (bool: a package provides kernel-uname-r = release),
#     packages      installed livepatch packages serving it: name, evr, arch, module,
#                   module_path, module_present (bool), cves, state (running kernel: live,
#                   transition, disabled, not-loaded, module-missing; other kernels: null),
#                   enabled, transition (sysfs values, null when not loaded or unreadable)
#     available     latest version per name serving it, when not installed or newer than the
#                   installed one: name, evr, arch, installed_evr (null if not installed), cves
#     cves          CVE ids fixed by the installed packages serving it
#   unknown         loaded livepatches no installed package carries: module, state ("unknown"),
#                   enabled, transition
#   unused          installed livepatch packages serving none of the kernels above: name, evr,
#                   arch, kernels

def compute_status(running, kernels, installed, available, loaded, module_present, auto=False,
                   repositories=(), vercmp=evr_cmp):
    """The status report as a dict (format 1; render_json makes it JSON). Pure given
    `module_present`, a function of a path inside the installroot (/usr/lib/kpatch/...) to bool.

    running: the running kernel's release; kernels: installed kernel releases; installed and
    available: Pkg lists (available: what the repositories offer); loaded: read_sysfs()."""
    order = [running] + sorted((k for k in set(kernels) if k != running),
                               key=_cmp_key(vercmp), reverse=True)
    kernel_set = set(kernels)
    have = installed_by_name(installed, vercmp)
    accounted = set(p.module for p in installed if p.module is not None)
    out_kernels = []
    ok = True
    for k in order:
        is_running = k == running
        pkgs = []
        cves = set()
        for p in sorted((p for p in installed if k in p.kernels), key=lambda p: p.name):
            path = module_path(k, p.module)
            present = bool(path) and module_present(path)
            entry = loaded.get(p.module) if (is_running and p.module is not None) else None
            state = patch_state(p, k, loaded, module_present) if is_running else None
            if is_running and state != LIVE:
                ok = False
            cves.update(p.cves)
            pkgs.append({
                'name': p.name,
                'evr': p.evr,
                'arch': p.arch,
                'module': p.module,
                'module_path': path,
                'module_present': present,
                'cves': list(p.cves),
                'state': state,
                'enabled': entry.enabled if entry is not None else None,
                'transition': entry.transition if entry is not None else None,
            })
        avail = []
        for name, c in sorted(latest_serving(available, k, vercmp).items()):
            old = have.get(name)
            if old is not None and vercmp(c.evr, old.evr) <= 0:
                continue
            if is_running:
                ok = False
            avail.append({
                'name': c.name,
                'evr': c.evr,
                'arch': c.arch,
                'installed_evr': old.evr if old is not None else None,
                'cves': list(c.cves),
            })
        out_kernels.append({
            'release': k,
            'running': is_running,
            'installed': k in kernel_set,
            'packages': pkgs,
            'available': avail,
            'cves': sorted(cves, key=natural_key),
        })
    if not repositories:
        ok = False      # what the repositories offer is not known
    listed = set(order)
    unused = [{'name': p.name, 'evr': p.evr, 'arch': p.arch,
               'kernels': sorted(p.kernels, key=natural_key)}
              for p in sorted(installed, key=lambda p: p.name) if not p.kernels & listed]
    unknown = []
    for mod in sorted(loaded):
        if mod in accounted:
            continue
        e = loaded[mod]
        unknown.append({'module': mod, 'state': UNKNOWN, 'enabled': e.enabled,
                        'transition': e.transition})
    return {
        'format': JSON_FORMAT,
        'version': VERSION,
        'running_kernel': running,
        'auto': bool(auto),
        'repositories': list(repositories),
        'kernels': out_kernels,
        'unknown': unknown,
        'unused': unused,
        'ok': ok,
    }


def exit_status(report):
    return EXIT_OK if report['ok'] else EXIT_ACTION_NEEDED


def render_json(report):
    """The report as JSON text: keys sorted, ASCII only, bytes that were not UTF-8 as \\xNN."""
    return json.dumps(_json_clean(report), indent=2, sort_keys=True, ensure_ascii=True)


def _json_clean(value):
    if isinstance(value, dict):
        return dict((k, _json_clean(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_json_clean(v) for v in value]
    if isinstance(value, str):
        return json_text(value)
    return value


def render_text(report):
    """The status report for a terminal: one block per kernel, one aligned row per package."""
    p = printable
    head = ['Running kernel: %s' % p(report['running_kernel']),
            'Automatic livepatches for new kernels: %s' % ('on' if report['auto'] else 'off')]
    if not report['repositories']:
        head.append('Note: no repository is enabled; available livepatches are not known.')
    counts = {'available': 0, 'not live': 0, MODULE_MISSING: 0}
    blocks = []     # [(title, [row or str], footer)]; a row is a tuple of 4 cells
    for k in report['kernels']:
        tags = (['running'] if k['running'] else []) + [
            'installed' if k['installed'] else 'not installed']
        rows = []
        for pkg in k['packages']:
            state = pkg['state'] or ('installed' if pkg['module_present'] else MODULE_MISSING)
            if k['running'] and state == MODULE_MISSING:
                counts[MODULE_MISSING] += 1
            elif k['running'] and state != LIVE:
                counts['not live'] += 1
            rows.append((state, '%s-%s' % (p(pkg['name']), p(pkg['evr'])),
                         p(pkg['module'] or '(no module)'), ' '.join(p(c) for c in pkg['cves'])))
        for a in k['available']:
            if k['running']:
                counts['available'] += 1
            rows.append(('available', '%s-%s' % (p(a['name']), p(a['evr'])),
                         ('(installed: %s)' % p(a['installed_evr'])) if a['installed_evr']
                         else '(not installed)', ' '.join(p(c) for c in a['cves'])))
        if not rows:
            rows.append('no livepatch installed or available')
        blocks.append(('Kernel %s (%s)' % (p(k['release']), ', '.join(tags)), rows,
                       'CVEs fixed: %s' % (', '.join(p(c) for c in k['cves']) or 'none')))
    if report['unused']:
        rows = [('unused', '%s-%s' % (p(u['name']), p(u['evr'])),
                 'serves ' + ' '.join(p(k) for k in u['kernels']), '')
                for u in report['unused']]
        blocks.append(('Installed livepatches serving no installed or running kernel:', rows,
                       None))
    if report['unknown']:
        rows = [(UNKNOWN, p(u['module']), 'enabled %s, transition %s' % (
            _show_int(u['enabled']), _show_int(u['transition'])), '')
            for u in report['unknown']]
        blocks.append(('Loaded livepatches no installed package accounts for:', rows, None))
    widths = [0, 0, 0]
    for _, rows, _ in blocks:
        for r in rows:
            if isinstance(r, tuple):
                widths = [max(w, len(c)) for w, c in zip(widths, r)]
    lines = list(head)
    for title, rows, footer in blocks:
        lines += ['', title]
        for r in rows:
            if isinstance(r, tuple):
                cells = [c.ljust(w) for c, w in zip(r, widths)] + [r[3]]
                lines.append(('  ' + '  '.join(cells)).rstrip())
            else:
                lines.append('  ' + r)
        if footer:
            lines.append('  ' + footer)
    lines.append('')
    if report['ok']:
        lines.append('All livepatches available for the running kernel are installed and live.')
    else:
        parts = []
        if not report['repositories']:
            parts.append('no repository is enabled, so what is available is not known')
        if counts['available']:
            parts.append("%d available, not installed or not the latest "
                         "(run 'dnf livepatch upgrade')" % counts['available'])
        if counts['not live']:
            parts.append("%d installed, not live (see 'kpatch list')" % counts['not live'])
        if counts[MODULE_MISSING]:
            parts.append("%d with the module file missing (reinstall the package)"
                         % counts[MODULE_MISSING])
        lines.append('Not all livepatches for the running kernel are installed and live: %s.'
                     % '; '.join(parts))
    return '\n'.join(lines)


def _show_int(v):
    return '?' if v is None else str(v)


# ---------------------------------------------------------------------------------------------
# The plugin's configuration.

_TRUE = ('1', 'yes', 'true', 'on')
_FALSE = ('0', 'no', 'false', 'off')


def parse_bool(value, what):
    v = (value or '').strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise LivepatchError('%s = %r is not a boolean (use 1 or 0)' % (what, printable(value)))


class Settings(object):
    __slots__ = ('auto', 'sysfs', 'procfs')

    def __init__(self, auto=False, sysfs=DEFAULT_SYSFS, procfs=DEFAULT_PROCFS):
        self.auto = auto
        self.sysfs = sysfs
        self.procfs = procfs


def settings_from(values):
    """Settings from the [main] section of livepatch.conf as a {key: value} dict."""
    auto = parse_bool(values['auto'], 'livepatch.conf: auto') if 'auto' in values else False
    sysfs = (values.get('sysfs') or '').strip() or DEFAULT_SYSFS
    procfs = (values.get('procfs') or '').strip() or DEFAULT_PROCFS
    return Settings(auto, sysfs, procfs)


def set_ini_option(text, section, key, value):
    """`text` (an INI file) with `key = value` in `section`: an existing uncommented key is
    replaced in place, else the key goes right after the section header (the section is appended
    if missing). Comments and everything else are kept."""
    lines = text.splitlines(True)
    header = re.compile(r'\A\s*\[\s*(.*?)\s*\]\s*\Z')
    keyline = re.compile(r'\A\s*' + re.escape(key) + r'\s*[=:]')
    start = None
    for i, line in enumerate(lines):
        m = header.match(line)
        if m:
            if start is not None:
                break
            if m.group(1) == section:
                start = i
            continue
        if start is not None and keyline.match(line):
            lines[i] = '%s = %s\n' % (key, value)
            return ''.join(lines)
    if start is None:
        if lines and not lines[-1].endswith('\n'):
            lines[-1] += '\n'
        lines.append('[%s]\n%s = %s\n' % (section, key, value))
    else:
        lines.insert(start + 1, '%s = %s\n' % (key, value))
    return ''.join(lines)


def write_atomically(path, text):
    """Replace `path` with `text`, keeping its mode (0644 for a new file)."""
    directory = os.path.dirname(path) or '.'
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix='.livepatch.conf.', dir=directory)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------------------------------
# The dnf layer.

if dnf is not None:

    def _error(e):
        return dnf.exceptions.Error(str(e))

    def _provides(pkg):
        return [str(r) for r in pkg.provides]

    def _to_pkg(pkg, installed, obsoleted=False):
        obsoletes = () if installed else [str(r).split(' ', 1)[0] for r in pkg.obsoletes]
        return Pkg(pkg.name, pkg.evr, pkg.arch, _provides(pkg),
                   pkg.files if installed else (), installed, obsoleted, pkg, obsoletes)

    def _read_settings(base):
        parser = Livepatch.read_config(base.conf)
        values = {}
        if parser.has_section('main'):
            for key in ('auto', 'sysfs', 'procfs'):
                if parser.has_option('main', key):
                    values[key] = parser.getValue('main', key)
        return settings_from(values)

    def _config_file(base):
        """The livepatch.conf dnf reads (the first in pluginconfpath), or where to create it."""
        paths = ['%s/%s.conf' % (d, PLUGIN_NAME) for d in base.conf.pluginconfpath]
        for p in paths:
            if os.path.isfile(p):
                return p
        if not paths:
            raise LivepatchError('dnf has no pluginconfpath to keep livepatch.conf in')
        return paths[0]

    def _installed_kernels(sack):
        out = []
        for p in sack.query().installed().filter(provides=KERNEL_PROVIDE):
            out.extend(kernel_releases(_provides(p)))
        return _unique(out)

    def _installed_livepatches(sack):
        # a glob over provides matches every string of the pool (the repositories' too):
        # scanning the installed packages' provides is cheaper
        return [_to_pkg(p, True) for p in sack.query().installed()
                if any(str(r).startswith(SERVES_PREFIX) for r in p.provides)]

    def _available_livepatches(sack, kernels=None):
        """The available livepatches; with `kernels`, only those serving one of them (exact
        provides use libsolv's index; a glob reads every string of the pool)."""
        if kernels is None:
            available = sack.query().available().filter(provides__glob=SERVES_GLOB)
        else:
            available = sack.query().available().filter(
                provides=[SERVES_PREFIX + '%s)' % k for k in _unique(kernels)])
        # the packages that obsolete any of them: one pass over the sack; then a package is
        # looked at only when its name is among their obsoletes
        obsoleters = sack.query().filter(obsoletes=available)
        names = set()
        for o in obsoleters:
            for r in o.obsoletes:
                names.add(str(r).split(' ', 1)[0])
        out = []
        for p in available:
            obsoleted = p.name in names and bool(obsoleters.filter(obsoletes=[p]))
            out.append(_to_pkg(p, False, obsoleted))
        return out

    def _enabled_repos(base):
        return sorted(r.id for r in base.repos.iter_enabled())

    class Livepatch(dnf.Plugin):
        """The hooks: auto mode adds a new kernel's livepatches to its transaction."""

        name = PLUGIN_NAME

        def __init__(self, base, cli):
            super(Livepatch, self).__init__(base, cli)
            self.settings = Settings()
            self._adding = False
            # The command is registered here rather than with dnf.plugin.register_command,
            # which would make a second plugin of the same name ("Loaded plugins: livepatch,
            # livepatch").
            if cli is not None:
                cli.register_command(LivepatchCommand)

        def config(self):
            try:
                self.settings = _read_settings(self.base)
            except LivepatchError as e:
                logger.warning('livepatch: %s; automatic mode stays off', e)
                self.settings = Settings()

        def resolved(self):
            if not self.settings.auto or self._adding:
                return
            trans = self.base.transaction
            if trans is None:
                return
            new_kernels = []
            in_transaction = set()
            for p in trans.install_set:
                in_transaction.add(p.name)
                if any(s.startswith(_KERNEL_PROVIDE_PREFIX) for s in _provides(p)):
                    new_kernels.extend(kernel_releases(_provides(p)))
            new_kernels = _unique(new_kernels)
            if not new_kernels:
                return
            sack = self.base.sack
            try:
                running = read_osrelease(self.settings.procfs)
            except LivepatchError:
                running = None      # then no installed livepatch is upgraded (see plan)
            result = plan(new_kernels, running, _available_livepatches(sack),
                          _installed_livepatches(sack), exclude_names=in_transaction,
                          upgrade_unserved=True, keep_if_unknown=True, vercmp=sack.evr_cmp)
            for a in result.kept:
                logger.info(kept_text(a, running))
            for k in result.unserved:
                logger.info('livepatch: no livepatch in the enabled repositories serves the new '
                            'kernel %s', printable(k))
            if not result.actions:
                return
            for a in result.actions:
                # optional jobs: a livepatch that cannot be installed never blocks the kernel;
                # installing a newer version of an installed name upgrades it
                self.base.package_install(a.pkg.ref, strict=False)
            logger.info('livepatch: adding the livepatches for the new %s: %s',
                        _kernels_text(new_kernels),
                        ', '.join(printable(a.pkg.nevra) for a in result.actions))
            self._adding = True
            try:
                allow = self.cli.demands.allow_erasing if self.cli is not None else False
                self.base.resolve(allow)
            finally:
                self._adding = False

    class LivepatchCommand(dnf.cli.Command):
        """dnf livepatch [status|install|upgrade|auto] ..."""

        aliases = (PLUGIN_NAME,)
        summary = 'Install kernel livepatches for the installed kernels and show their status'

        @staticmethod
        def set_argparser(parser):
            parser.add_argument('subcommand', nargs='?', default='status',
                                choices=('status', 'install', 'upgrade', 'auto'),
                                help='status (default): what is installed, available and live; '
                                     'install: the livepatches serving the running and the '
                                     'installed kernels; upgrade: install, and upgrade installed '
                                     'ones; auto [on|off]: show or set automatic installation '
                                     'with new kernels')
            parser.add_argument('value', nargs='?', choices=('on', 'off'),
                                help='for auto: on or off')
            parser.add_argument('--kernel', metavar='RELEASE',
                                help='install/upgrade: only the livepatches serving this kernel '
                                     'release')
            parser.add_argument('--json', action='store_true',
                                help='status: print a JSON object (format 1)')

        def configure(self):
            opts = self.opts
            sub = opts.subcommand
            if opts.kernel is not None and sub not in ('install', 'upgrade'):
                raise dnf.cli.CliError('livepatch: --kernel goes with install or upgrade')
            if opts.kernel is not None and not opts.kernel.strip():
                raise dnf.cli.CliError('livepatch: --kernel needs a kernel release')
            if opts.json and sub != 'status':
                raise dnf.cli.CliError('livepatch: --json goes with status')
            if opts.value is not None and sub != 'auto':
                raise dnf.cli.CliError('livepatch: on/off goes with auto')
            demands = self.cli.demands
            if sub in ('install', 'upgrade'):
                demands.sack_activation = True
                demands.available_repos = True
                demands.resolving = True
                demands.root_user = True
            elif sub == 'status':
                demands.sack_activation = True
                demands.available_repos = True
                # standard output carries the report only; dnf's messages go to stderr
                if hasattr(self.cli, 'redirect_logger'):
                    self.cli.redirect_logger(stdout=logging.WARNING, stderr=logging.INFO)
                if hasattr(self.cli, 'redirect_repo_progress'):
                    self.cli.redirect_repo_progress()
            elif sub == 'auto' and opts.value is not None:
                demands.root_user = True

        def run(self):
            try:
                sub = self.opts.subcommand
                if sub == 'status':
                    self._status()
                elif sub == 'auto':
                    self._auto()
                else:
                    self._mark(sub == 'upgrade')
            except LivepatchError as e:
                raise _error(e)

        def _mark(self, upgrade):
            base = self.base
            if not _enabled_repos(base):
                raise LivepatchError(NO_REPOSITORY)
            sack = base.sack
            candidates = _available_livepatches(sack)
            if not candidates:
                raise LivepatchError(NO_LIVEPATCH_REPOSITORY)
            settings = _read_settings(base)
            explicit = self.opts.kernel
            try:
                running = read_osrelease(settings.procfs)
            except LivepatchError:
                if explicit is None:
                    raise
                running = None      # --kernel names the one kernel that matters
            kernels = _installed_kernels(sack)
            targets = [explicit] if explicit is not None else [running] + kernels
            result = plan(targets, running, candidates, _installed_livepatches(sack),
                          upgrade=upgrade, keep_if_unknown=True, vercmp=sack.evr_cmp)
            for a in result.kept:
                logger.info(kept_text(a, running))
            if explicit is not None and result.unserved:
                raise LivepatchError(
                    'no livepatch in the enabled repositories serves kernel %s; they serve: %s'
                    % (printable(explicit),
                       ', '.join(printable(k) for k in result.served) or 'no kernel'))
            for k in _unique(targets):
                what = 'the running kernel' if k == running else 'an installed kernel'
                if explicit is not None:
                    what = 'the kernel given with --kernel'
                if k in result.unserved:
                    logger.info('livepatch: no livepatch in the enabled repositories serves '
                                'kernel %s (%s)', printable(k), what)
            for a in result.actions:
                if a.kind == 'upgrade':
                    base.package_upgrade(a.pkg.ref)
                    logger.info('livepatch: upgrading %s from %s to %s for %s',
                                printable(a.pkg.name), printable(a.installed_evr),
                                printable(a.pkg.evr), _kernels_text(a.kernels))
                else:
                    base.package_install(a.pkg.ref)
                    logger.info('livepatch: installing %s for %s', printable(a.pkg.nevra),
                                _kernels_text(a.kernels))

        def _status(self):
            base = self.base
            settings = _read_settings(base)
            running = read_osrelease(settings.procfs)
            loaded = read_sysfs(settings.sysfs)
            sack = base.sack
            root = base.conf.installroot or '/'

            def present(path):
                return os.path.isfile(os.path.join(root, path.lstrip('/')))

            kernels = _installed_kernels(sack)
            report = compute_status(running, kernels, _installed_livepatches(sack),
                                    _available_livepatches(sack, [running] + kernels),
                                    loaded, present, settings.auto, _enabled_repos(base),
                                    sack.evr_cmp)
            if self.opts.json:
                print(render_json(report))
            else:
                print(render_text(report))
            self.cli.demands.success_exit_status = exit_status(report)

        def _auto(self):
            base = self.base
            path = _config_file(base)
            if self.opts.value is None:
                settings = _read_settings(base)
                print('auto: %s (%s)' % ('on' if settings.auto else 'off', printable(path)))
                return
            try:
                with open(path) as f:
                    text = f.read()
            except (IOError, OSError) as e:
                if e.errno != errno.ENOENT:
                    raise LivepatchError('cannot read %s: %s' % (printable(path), e.strerror))
                text = '[main]\nenabled = 1\n'
            new = set_ini_option(text, 'main', 'auto', '1' if self.opts.value == 'on' else '0')
            try:
                write_atomically(path, new)
            except (IOError, OSError) as e:
                raise LivepatchError('cannot write %s: %s' % (printable(path), e.strerror))
            print('auto: %s (%s)' % (self.opts.value, printable(path)))
