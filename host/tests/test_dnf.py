# -*- coding: utf-8 -*-
"""The plugin inside the real dnf: stand-in packages built with rpmbuild, a repository made
with createrepo_c, and /usr/bin/dnf working on an installroot with its own configuration (the
host's repositories, plugins and plugin configuration never take part)."""

from __future__ import absolute_import, print_function, unicode_literals

import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lpfixture as fx  # noqa: E402
from lpfixture import Rpm, kernel, livepatch  # noqa: E402

A = '5.14.0-101.el9.x86_64'     # running, installed
B = '5.14.0-102.el9.x86_64'     # installed
C = '5.14.0-103.el9.x86_64'     # in the repository, not installed
D = '5.14.0-104.el9.x86_64'     # installed, no livepatch serves it
E = '5.14.0-105.el9.x86_64'     # served only by the package with hostile provides
ODD = '6.0\u202e-odd'           # served by a package with hostile text in its provides
# (createrepo_c leaves out packages with control characters in their metadata: no ESC here)
ODD_CVE = 'CVE-2024-1;$(touch${IFS}pwned)|`id`\u202e\u200b'

# what `dnf livepatch install` must install with A running and A, B, D installed
FOR_A_AND_B = ['kpatch-fix-a-1.0-1', 'kpatch-fix-ab-1.0-1', 'kpatch-fix-all-2.0-1',
               'kpatch-fix-b-1.0-1', 'kpatch-fix-grow-2.0-1', 'kpatch-fix-new-1.0-1']
BASE = ['kernel-core-a', 'kernel-core-b', 'kernel-core-d', 'kpatch', 'runtime-sh', 'python3-dnf']


def fixture_packages():
    first = [
        Rpm('runtime-sh', provides=['/bin/sh']), Rpm('kpatch'), Rpm('python3-dnf'),
        kernel('kernel-core-a', A), kernel('kernel-core-b', B), kernel('kernel-core-c', C),
        kernel('kernel-core-d', D),
        livepatch('kpatch-fix-a', '1.0', [A], 'kpatch_fix_a_1_1', ['CVE-2024-1001']),
        livepatch('kpatch-fix-ab', '1.0', [A, B], 'kpatch_fix_ab_1_1',
                  ['CVE-2024-1002', 'CVE-2024-10003']),
        livepatch('kpatch-fix-b', '1.0', [B], 'kpatch_fix_b_1_1'),
        livepatch('kpatch-fix-c', '1.0', [C], 'kpatch_fix_c_1_1', ['CVE-2024-1004']),
        livepatch('kpatch-fix-all', '1.0', [A, B, C], 'kpatch_fix_all_1_1'),
        livepatch('kpatch-fix-old', '1.0', [A], 'kpatch_fix_old_1_1'),
        livepatch('kpatch-fix-grow', '1.0', [A], 'kpatch_fix_grow_1_1'),
        livepatch('kpatch-fix-odd', '1.0', [ODD, E], 'kpatch_fix_odd_1_1', [ODD_CVE]),
        # supersedes kpatch-fix-old the way the controller does
        livepatch('kpatch-fix-new', '1.0', [A], 'kpatch_fix_new_1_1',
                  obsoletes=['kpatch-fix-old < 2'], provides=['kpatch-fix-old = 2']),
    ]
    second = [livepatch('kpatch-fix-all', '2.0', [A, B, C], 'kpatch_fix_all_2_1',
                        ['CVE-2024-1005']),
              # a newer version that also serves C
              livepatch('kpatch-fix-grow', '2.0', [A, C], 'kpatch_fix_grow_2_1')]
    return [first, second]


class Host(object):
    """An installroot with its own dnf.conf, repository directory, plugin configuration, and
    stand-in sysfs and procfs."""

    def __init__(self, work, repo, root_from, running=A, auto=False, repository=True):
        self.dir = tempfile.mkdtemp(prefix='host-', dir=work)
        self.root = os.path.join(self.dir, 'root')
        if root_from is not None:
            shutil.copytree(root_from, self.root, symlinks=True)
        else:
            os.makedirs(self.root)
        self.repos = self._mkdir('repos.d')
        if repository:
            with open(os.path.join(self.repos, 'klp.repo'), 'w') as f:
                f.write('[klp]\nname=Kernel livepatches (test)\nbaseurl=file://%s\n'
                        'enabled=1\ngpgcheck=0\n' % repo)
        self.sysfs = self._mkdir('sys')
        self.procfs = self._mkdir('proc/sys/kernel')[:-len('/sys/kernel')]
        with open(os.path.join(self.procfs, 'sys', 'kernel', 'osrelease'), 'w') as f:
            f.write(running + '\n')
        self.plugconf = self._mkdir('plugins')
        with open(fx.CONF_FILE) as f:
            conf = f.read()
        conf = conf.replace('#sysfs = /sys', 'sysfs = ' + self.sysfs)
        conf = conf.replace('#procfs = /proc', 'procfs = ' + self.procfs)
        conf = conf.replace('auto = 0', 'auto = %d' % (1 if auto else 0))
        self.conf_path = os.path.join(self.plugconf, 'livepatch.conf')
        with open(self.conf_path, 'w') as f:
            f.write(conf)
        self.dnf_conf = os.path.join(self.dir, 'dnf.conf')
        with open(self.dnf_conf, 'w') as f:
            f.write('[main]\nreposdir=%s\nvarsdir=%s\ngpgcheck=0\ninstallonly_limit=3\n'
                    'pluginpath=%s\npluginconfpath=%s\n'
                    % (self.repos, self._mkdir('vars'), fx.PLUGIN_DIR, self.plugconf))

    def _mkdir(self, rel):
        path = os.path.join(self.dir, rel)
        os.makedirs(path)
        return path

    def dnf(self, *args, **kw):
        cmd = [fx.DNF, '--config=' + self.dnf_conf, '--installroot=' + self.root,
               '--releasever=12', '--nogpgcheck', '--setopt=tsflags=noscripts', '-y']
        if not kw.get('plugins', True):
            cmd.append('--noplugins')
        return fx.run(cmd + list(args))

    def ok(self, case, *args, **kw):
        res = self.dnf(*args, **kw)
        case.assertEqual(res.returncode, 0, 'dnf %s:\n%s\n%s' % (' '.join(args), res.stdout,
                                                                 res.stderr))
        return res

    def installed(self):
        res = fx.run(['rpm', '--root', self.root, '-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}\n'])
        return sorted(res.stdout.split())

    def livepatches(self):
        return [p for p in self.installed() if p.startswith('kpatch-fix-')]

    def patch(self, module, enabled, transition=0):
        d = os.path.join(self.sysfs, 'kernel', 'livepatch', module)
        os.makedirs(d)
        for name, value in (('enabled', enabled), ('transition', transition)):
            if value is not None:
                with open(os.path.join(d, name), 'w') as f:
                    f.write('%s\n' % value)


class DnfTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix='livepatch-dnf-test-')
        try:
            cls._build()
        except BaseException:
            shutil.rmtree(cls.work, True)
            raise

    @classmethod
    def _build(cls):
        cls.skip_reason = None
        missing = []
        for tool in ('rpmbuild', 'createrepo_c', 'rpm', fx.DNF):
            path = tool if os.path.isabs(tool) else shutil.which(tool)
            if path is None or not os.access(path, os.X_OK):
                missing.append(tool)
        if missing or os.geteuid() != 0:
            cls.skip_reason = ('missing: %s' % ', '.join(missing)) if missing else \
                'dnf installs into an installroot only as root'
            return
        cls.repo = fx.build_repo(cls.work, fixture_packages())
        # a host with kernels A, B and D and the runtime, installed by plain dnf
        base = Host(cls.work, cls.repo, None)
        res = base.dnf('--noplugins', 'install', *BASE)
        if res.returncode != 0:
            raise AssertionError('setting up the base root failed:\n' + res.stdout + res.stderr)
        cls.base_root = base.root

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, True)

    def setUp(self):
        if self.skip_reason:
            if fx.in_ci():
                self.fail(self.skip_reason + ' (CI=true: a missing tool fails the test)')
            self.skipTest(self.skip_reason)
        fx.require_python_dnf(self)

    def host(self, **kw):
        h = Host(self.work, self.repo, self.base_root, **kw)
        self.addCleanup(shutil.rmtree, h.dir, True)
        return h

    # -- install / upgrade ------------------------------------------------------------------

    def test_install_serves_running_and_installed_kernels(self):
        h = self.host()
        res = h.ok(self, 'livepatch', 'install')
        self.assertEqual(h.livepatches(), FOR_A_AND_B)   # not C's, not the superseded one
        out = res.stdout + res.stderr
        self.assertIn('livepatch: no livepatch in the enabled repositories serves kernel %s '
                      '(an installed kernel)' % D, out)
        self.assertIn('livepatch: installing kpatch-fix-ab-1.0-1.x86_64 for kernels %s, %s'
                      % (A, B), out)
        # a second run has nothing to do
        again = h.ok(self, 'livepatch', 'install')
        self.assertIn('Nothing to do.', again.stdout + again.stderr)
        self.assertEqual(h.livepatches(), FOR_A_AND_B)

    def test_install_for_one_kernel(self):
        h = self.host()
        h.ok(self, 'livepatch', 'install', '--kernel', C)
        self.assertEqual(h.livepatches(), ['kpatch-fix-all-2.0-1', 'kpatch-fix-c-1.0-1',
                                           'kpatch-fix-grow-2.0-1'])

    def test_install_for_one_kernel_needs_no_running_kernel(self):
        h = self.host()
        os.unlink(os.path.join(h.procfs, 'sys/kernel/osrelease'))
        res = h.dnf('livepatch', 'install')
        self.assertEqual(res.returncode, 1)
        self.assertIn("Error: cannot read the running kernel's release from %s/sys/kernel/"
                      "osrelease: No such file or directory" % h.procfs, res.stderr)
        h.ok(self, 'livepatch', 'install', '--kernel', B)
        self.assertEqual(h.livepatches(), ['kpatch-fix-ab-1.0-1', 'kpatch-fix-all-2.0-1',
                                           'kpatch-fix-b-1.0-1'])

    def test_unknown_kernel_is_an_error(self):
        h = self.host()
        res = h.dnf('livepatch', 'install', '--kernel', '9.9.9-1.x86_64')
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn('Error: no livepatch in the enabled repositories serves kernel '
                      '9.9.9-1.x86_64; they serve: %s, %s, %s, %s, 6.0\\u202e-odd'
                      % (A, B, C, E),
                      res.stderr)
        self.assertEqual(h.livepatches(), [])

    def test_upgrade_moves_installed_livepatches_to_the_latest(self):
        h = self.host()
        h.ok(self, '--noplugins', 'install', 'kpatch-fix-all-1.0-1')
        h.ok(self, 'livepatch', 'install', '--kernel', B)
        self.assertIn('kpatch-fix-all-1.0-1', h.livepatches())     # install leaves it alone
        res = h.ok(self, 'livepatch', 'upgrade', '--kernel', B)
        self.assertIn('livepatch: upgrading kpatch-fix-all from 1.0-1 to 2.0-1 for kernel %s' % B,
                      res.stdout + res.stderr)
        self.assertEqual(h.livepatches(), ['kpatch-fix-ab-1.0-1', 'kpatch-fix-all-2.0-1',
                                           'kpatch-fix-b-1.0-1'])

    def test_upgrade_replaces_a_superseded_livepatch(self):
        h = self.host()
        h.ok(self, '--noplugins', '--setopt=obsoletes=0', 'install', 'kpatch-fix-old')
        self.assertEqual(h.livepatches(), ['kpatch-fix-old-1.0-1'])
        h.ok(self, 'livepatch', 'upgrade')
        self.assertEqual(h.livepatches(), FOR_A_AND_B)

    def test_an_upgrade_never_unloads_the_running_kernels_fix(self):
        # The repository offers one version a name, and 2.0 dropped the running kernel A.
        work = tempfile.mkdtemp(prefix='drop-', dir=self.work)
        self.addCleanup(shutil.rmtree, work, True)
        repo = fx.build_repo(work, [
            [Rpm('runtime-sh', provides=['/bin/sh']), Rpm('kpatch'), Rpm('python3-dnf'),
             kernel('kernel-core-a', A), kernel('kernel-core-b', B), kernel('kernel-core-c', C),
             livepatch('kpatch-fix-drop', '1.0', [A, B], 'kpatch_fix_drop_1_1')],
            [livepatch('kpatch-fix-drop', '2.0', [B, C], 'kpatch_fix_drop_2_1')]])
        h = Host(work, repo, None, auto=True)
        h.ok(self, '--noplugins', 'install', 'runtime-sh', 'kpatch', 'python3-dnf',
             'kernel-core-a', 'kernel-core-b', 'kpatch-fix-drop-1.0-1')
        keeping = ('livepatch: keeping kpatch-fix-drop-1.0-1: kpatch-fix-drop-2.0-1.x86_64 does '
                   'not serve the running kernel %s, whose fix it would unload' % A)
        # the running kernel's version is the one chosen for the name
        h.ok(self, 'livepatch', 'upgrade')
        self.assertEqual(h.livepatches(), ['kpatch-fix-drop-1.0-1'])
        # for another kernel only 2.0 would do, but it would unload A's fix
        res = h.ok(self, 'livepatch', 'upgrade', '--kernel', C)
        self.assertIn(keeping, res.stdout + res.stderr)
        self.assertEqual(h.livepatches(), ['kpatch-fix-drop-1.0-1'])
        # auto mode: a new kernel the installed version misses does not move it either
        res = h.ok(self, 'install', 'kernel-core-c')
        self.assertIn(keeping, res.stdout + res.stderr)
        self.assertEqual(h.livepatches(), ['kpatch-fix-drop-1.0-1'])
        # after a reboot into B, which 2.0 serves, the upgrade goes ahead
        with open(os.path.join(h.procfs, 'sys', 'kernel', 'osrelease'), 'w') as f:
            f.write(B + '\n')
        h.ok(self, 'livepatch', 'upgrade')
        self.assertEqual(h.livepatches(), ['kpatch-fix-drop-2.0-1'])

    def test_options_belong_to_their_subcommands(self):
        h = self.host()
        res = h.dnf('livepatch', 'status', '--kernel', A)
        self.assertEqual(res.returncode, 1)
        self.assertIn('livepatch: --kernel goes with install or upgrade', res.stderr)
        res = h.dnf('livepatch', 'install', '--json')
        self.assertEqual(res.returncode, 1)
        self.assertIn('livepatch: --json goes with status', res.stderr)
        res = h.dnf('livepatch', 'install', '--kernel', ' ')
        self.assertEqual(res.returncode, 1)
        self.assertIn('livepatch: --kernel needs a kernel release', res.stderr)
        res = h.dnf('livepatch', 'status', 'on')
        self.assertEqual(res.returncode, 1)
        self.assertIn('livepatch: on/off goes with auto', res.stderr)
        res = h.dnf('livepatch', 'frobnicate')
        self.assertEqual(res.returncode, 2)         # argparse's usage error
        self.assertIn("invalid choice: 'frobnicate'", res.stderr)
        self.assertEqual(h.livepatches(), [])

    def test_no_enabled_repository(self):
        h = self.host(repository=False)
        res = h.dnf('livepatch', 'install')
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("Error: no repository is enabled; install the livepatch repository's .repo "
                      "file into /etc/yum.repos.d and try again", res.stderr)
        res = h.dnf('livepatch', 'status', '--json')
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        data = json.loads(res.stdout)
        self.assertEqual(data['repositories'], [])
        self.assertFalse(data['ok'])

    # -- auto mode ------------------------------------------------------------------------------

    def history_ids(self, h):
        res = h.ok(self, '--noplugins', 'history', 'list')
        return [l.split('|')[0].strip() for l in res.stdout.splitlines()
                if l.split('|')[0].strip().isdigit()]

    def test_auto_on_adds_livepatches_to_the_kernels_transaction(self):
        h = self.host(auto=True)
        before = self.history_ids(h)
        res = h.ok(self, 'install', 'kernel-core-c')
        self.assertIn('livepatch: adding the livepatches for the new kernel %s: '
                      'kpatch-fix-all-2.0-1.x86_64, kpatch-fix-c-1.0-1.x86_64, '
                      'kpatch-fix-grow-2.0-1.x86_64' % C, res.stdout + res.stderr)
        self.assertEqual(h.livepatches(), ['kpatch-fix-all-2.0-1', 'kpatch-fix-c-1.0-1',
                                           'kpatch-fix-grow-2.0-1'])
        self.assertEqual(len(self.history_ids(h)), len(before) + 1)
        self.assertOneRpmTransaction(h, 'kernel-core-c', 'kpatch-fix-c', 'kpatch-fix-all',
                                     'kpatch-fix-grow')

    def assertOneRpmTransaction(self, h, *names):
        tids = fx.run(['rpm', '--root', h.root, '-q', '--qf', '%{INSTALLTID}\n']
                      + list(names)).stdout.split()
        self.assertEqual(len(tids), len(names), tids)
        self.assertEqual(len(set(tids)), 1, 'one rpm transaction: %s' % tids)

    def test_auto_upgrades_an_installed_livepatch_that_misses_the_new_kernel(self):
        h = self.host(auto=True)
        h.ok(self, '--noplugins', 'install', 'kpatch-fix-grow-1.0-1', 'kpatch-fix-c',
             'kpatch-fix-all-1.0-1')
        h.ok(self, 'install', 'kernel-core-c')
        # fix-grow 1.0 does not serve C: upgraded; fix-all 1.0 serves C: left alone
        self.assertEqual(h.livepatches(), ['kpatch-fix-all-1.0-1', 'kpatch-fix-c-1.0-1',
                                           'kpatch-fix-grow-2.0-1'])
        self.assertOneRpmTransaction(h, 'kernel-core-c', 'kpatch-fix-grow')

    def test_auto_off_installs_the_kernel_only(self):
        h = self.host(auto=False)
        h.ok(self, 'install', 'kernel-core-c')
        self.assertIn('kernel-core-c-5.14.0-103.el9', h.installed())
        self.assertEqual(h.livepatches(), [])

    def test_only_this_plugin_and_repository_take_part(self):
        h = self.host()
        res = h.ok(self, '-v', 'livepatch', 'auto')
        loaded = [l for l in res.stdout.splitlines() if l.startswith('Loaded plugins: ')]
        self.assertEqual(len(loaded), 1, res.stdout)
        # once: the command is registered by the plugin, not as a second plugin class
        self.assertEqual(loaded[0][len('Loaded plugins: '):].split(', '), ['livepatch'])
        res = h.ok(self, 'repolist', '--enabled', plugins=False)
        self.assertEqual([l.split()[0] for l in res.stdout.splitlines()[1:]], ['klp'])

    def test_auto_command_shows_and_sets_the_config(self):
        h = self.host(auto=False)
        res = h.ok(self, 'livepatch', 'auto')
        self.assertIn('auto: off (%s)' % h.conf_path, res.stdout)
        res = h.ok(self, 'livepatch', 'auto', 'on')
        self.assertIn('auto: on (%s)' % h.conf_path, res.stdout)
        with open(h.conf_path) as f:
            text = f.read()
        self.assertRegex(text, r'(?m)^auto = 1$')
        self.assertNotRegex(text, r'(?m)^auto = 0$')
        self.assertIn("# 'dnf livepatch auto on' and 'dnf livepatch auto off' change this line.",
                      text)
        self.assertIn('auto: on', h.ok(self, 'livepatch', 'auto').stdout)
        h.ok(self, 'install', 'kernel-core-c')      # and the hook now acts
        self.assertEqual(h.livepatches(), ['kpatch-fix-all-2.0-1', 'kpatch-fix-c-1.0-1',
                                           'kpatch-fix-grow-2.0-1'])
        h.ok(self, 'livepatch', 'auto', 'off')
        self.assertIn('auto: off', h.ok(self, 'livepatch', 'auto').stdout)

    # -- status ---------------------------------------------------------------------------------

    def patched_host(self):
        h = self.host()
        h.ok(self, 'livepatch', 'install')
        return h

    def test_status_json_mixed_states(self):
        h = self.patched_host()
        h.patch('kpatch_fix_a_1_1', 1, 0)          # live
        h.patch('kpatch_fix_ab_1_1', 0, 0)         # disabled
        h.patch('kpatch_foreign', 1, 0)            # no package carries it
        # kpatch_fix_all_2_1 is not loaded; kpatch_fix_new_1_1 lost its module file
        os.unlink(os.path.join(h.root, 'usr/lib/kpatch', A, 'kpatch_fix_new_1_1.ko'))
        res = h.dnf('livepatch', 'status', '--json')
        self.assertEqual(res.returncode, 2, res.stderr)
        data = json.loads(res.stdout)      # standard output is the JSON alone
        self.assertEqual(data['format'], 1)
        self.assertEqual(data['running_kernel'], A)
        self.assertEqual(data['repositories'], ['klp'])
        self.assertFalse(data['ok'])
        self.assertFalse(data['auto'])
        self.assertEqual([(k['release'], k['running'], k['installed']) for k in data['kernels']],
                         [(A, True, True), (D, False, True), (B, False, True)])
        running = data['kernels'][0]
        self.assertEqual(dict((p['name'], p['state']) for p in running['packages']), {
            'kpatch-fix-a': 'live', 'kpatch-fix-ab': 'disabled',
            'kpatch-fix-all': 'not-loaded', 'kpatch-fix-grow': 'not-loaded',
            'kpatch-fix-new': 'module-missing'})
        self.assertEqual(running['available'], [])
        self.assertEqual(running['cves'], ['CVE-2024-1001', 'CVE-2024-1002', 'CVE-2024-1005',
                                           'CVE-2024-10003'])
        fix_a = [p for p in running['packages'] if p['name'] == 'kpatch-fix-a'][0]
        self.assertEqual(fix_a, {
            'name': 'kpatch-fix-a', 'evr': '1.0-1', 'arch': 'x86_64',
            'module': 'kpatch_fix_a_1_1', 'module_present': True,
            'module_path': '/usr/lib/kpatch/%s/kpatch_fix_a_1_1.ko' % A,
            'cves': ['CVE-2024-1001'], 'state': 'live', 'enabled': 1, 'transition': 0})
        self.assertEqual(data['unknown'], [{'module': 'kpatch_foreign', 'state': 'unknown',
                                            'enabled': 1, 'transition': 0}])
        b = data['kernels'][2]
        self.assertEqual([p['name'] for p in b['packages']],
                         ['kpatch-fix-ab', 'kpatch-fix-all', 'kpatch-fix-b'])
        self.assertEqual([p['state'] for p in b['packages']], [None, None, None])
        self.assertEqual(data['kernels'][1]['packages'], [])

    def test_status_all_live_exits_0(self):
        h = self.patched_host()
        for m in ('kpatch_fix_a_1_1', 'kpatch_fix_ab_1_1', 'kpatch_fix_all_2_1',
                  'kpatch_fix_grow_2_1', 'kpatch_fix_new_1_1', 'kpatch_foreign'):
            h.patch(m, 1, 0)
        res = h.dnf('livepatch', 'status')
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertEqual(res.stdout.splitlines()[-1],
                         'All livepatches available for the running kernel are installed and '
                         'live.')
        self.assertEqual(json.loads(h.dnf('livepatch', 'status', '--json').stdout)['ok'], True)

    def test_status_text_available_transition_and_hostile_names(self):
        h = self.host()
        h.ok(self, '--noplugins', 'install', 'kpatch-fix-all-1.0-1')
        h.patch('kpatch_fix_all_1_1', 1, 1)
        h.patch('evil\x1b]0;owned\x07$(touch pwned)', 1, 0)
        res = h.dnf('livepatch', 'status')
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        out = res.stdout
        self.assertNotIn('\x1b', out)
        self.assertNotIn('\x07', out)
        self.assertFalse(os.path.exists(os.path.join(h.dir, 'pwned')))
        rows = [l.split() for l in out.splitlines()]
        self.assertIn(['transition', 'kpatch-fix-all-1.0-1', 'kpatch_fix_all_1_1'], rows)
        self.assertIn(['available', 'kpatch-fix-all-2.0-1', '(installed:', '1.0-1)',
                       'CVE-2024-1005'], rows)
        self.assertIn(['available', 'kpatch-fix-a-1.0-1', '(not', 'installed)', 'CVE-2024-1001'],
                      rows)
        self.assertIn(['unknown', 'evil\\x1b]0;owned\\x07$(touch', 'pwned)', 'enabled', '1,',
                       'transition', '0'], rows)
        self.assertIn('Kernel %s (running, installed)' % A, out)
        self.assertIn("available, not installed or not the latest (run 'dnf livepatch "
                      "upgrade')", out.splitlines()[-1])

    def test_status_as_an_unprivileged_user_from_the_cache(self):
        setpriv = fx.require_tool(self, 'setpriv')
        h = self.patched_host()
        h.patch('kpatch_fix_a_1_1', 1, 0)
        for d in (self.work, h.dir):
            os.chmod(d, 0o755)
        tmp = os.path.join(h.root, 'var', 'tmp')
        if not os.path.isdir(tmp):
            os.makedirs(tmp)
        os.chmod(tmp, 0o1777)
        cmd = [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups', '--',
               fx.DNF, '--config=' + h.dnf_conf, '--installroot=' + h.root, '--releasever=12',
               '-C', 'livepatch', 'status', '--json']
        res = fx.run(cmd)
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        data = json.loads(res.stdout)
        self.assertEqual(data['repositories'], ['klp'])
        states = dict((p['name'], p['state']) for p in data['kernels'][0]['packages'])
        self.assertEqual(states['kpatch-fix-a'], 'live')
        self.assertEqual(states['kpatch-fix-all'], 'not-loaded')
        self.assertEqual([a['name'] for a in data['kernels'][0]['available']], [])
        res = fx.run(cmd[:-4] + ['-C', 'livepatch', 'install'])
        self.assertEqual(res.returncode, 1)
        self.assertIn('superuser privileges', res.stderr)

    def test_status_of_an_unserved_running_kernel_and_a_bad_osrelease(self):
        h = self.host(running='6.6.6-unknown')
        res = h.dnf('livepatch', 'status', '--json')
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        data = json.loads(res.stdout)
        self.assertEqual(data['kernels'][0], {'release': '6.6.6-unknown', 'running': True,
                                              'installed': False, 'packages': [],
                                              'available': [], 'cves': []})
        with open(os.path.join(h.procfs, 'sys/kernel/osrelease'), 'w') as f:
            f.write('')
        res = h.dnf('livepatch', 'status')
        self.assertEqual(res.returncode, 1)
        self.assertIn('does not hold a kernel release', res.stderr)

    def test_hostile_provides_are_reported_escaped(self):
        h = self.host()
        res = h.ok(self, 'livepatch', 'install', '--kernel', ODD)
        self.assertIn('livepatch: installing kpatch-fix-odd-1.0-1.x86_64 for kernel '
                      '6.0\\u202e-odd', res.stdout)
        self.assertEqual(h.livepatches(), ['kpatch-fix-odd-1.0-1'])
        res = h.dnf('livepatch', 'status')
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)   # A's are available
        self.assertNotIn('\u202e', res.stdout)
        self.assertIn(['unused', 'kpatch-fix-odd-1.0-1', 'serves', E, '6.0\\u202e-odd'],
                      [l.split() for l in res.stdout.splitlines()])
        data = json.loads(h.dnf('livepatch', 'status', '--json').stdout)
        self.assertEqual(data['unused'], [{'name': 'kpatch-fix-odd', 'evr': '1.0-1',
                                           'arch': 'x86_64', 'kernels': [E, ODD]}])
        self.assertFalse(os.path.exists(os.path.join(h.dir, 'pwned')))
        self.assertFalse(os.path.exists('pwned'))
        # the same package seen from its kernel: the CVE is data, escaped on the terminal
        h2 = self.host(running=E)
        h2.ok(self, 'livepatch', 'install', '--kernel', E)
        res = h2.dnf('livepatch', 'status')
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        self.assertNotIn('\u202e', res.stdout)
        self.assertNotIn('\u200b', res.stdout)
        self.assertIn('  CVEs fixed: CVE-2024-1;$(touch${IFS}pwned)|`id`\\u202e\\u200b',
                      res.stdout)
        data = json.loads(h2.dnf('livepatch', 'status', '--json').stdout)
        self.assertEqual(data['running_kernel'], E)
        self.assertEqual(data['kernels'][0]['cves'], [ODD_CVE])
        self.assertEqual(data['kernels'][0]['packages'][0]['state'], 'not-loaded')

    # -- plain dnf and the capabilities ----------------------------------------------------------

    def test_capabilities_work_with_plain_dnf(self):
        h = self.host()
        res = h.ok(self, 'repoquery', '--qf', '%{name}-%{version}',
                   '--whatprovides', 'kpatch-cve(CVE-2024-1002)', plugins=False)
        self.assertEqual(res.stdout.split(), ['kpatch-fix-ab-1.0'])
        res = h.ok(self, 'repoquery', '--qf', '%{name}-%{version}',
                   '--whatprovides', 'kpatch-kernel(%s)' % C, plugins=False)
        self.assertEqual(sorted(res.stdout.split()),
                         ['kpatch-fix-all-1.0', 'kpatch-fix-all-2.0', 'kpatch-fix-c-1.0',
                          'kpatch-fix-grow-2.0'])
        h.ok(self, 'install', 'kpatch-kernel(%s)' % B, plugins=False)
        got = h.livepatches()
        self.assertEqual(len(got), 1, got)
        self.assertIn(got[0], ['kpatch-fix-ab-1.0-1', 'kpatch-fix-all-2.0-1',
                               'kpatch-fix-b-1.0-1'])


if __name__ == '__main__':
    unittest.main()
