# -*- coding: utf-8 -*-
"""Unit tests of the plugin's pure logic: plain values in, plain values out, no dnf Base."""

from __future__ import absolute_import, print_function, unicode_literals

import ast
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lpfixture  # noqa: E402

lp = lpfixture.plugin()

A = '5.14.0-101.el9.x86_64'
B = '5.14.0-102.el9.x86_64'
C = '5.14.0-103.el9.x86_64'


def pkg(name, evr, kernels, module=None, cves=(), installed=False, obsoleted=False,
        extra=()):
    module = module or name.replace('-', '_') + '_' + evr.split('-')[0].replace('.', '_')
    provides = ['%s = %s' % (name, evr)] + ['kpatch-kernel(%s)' % k for k in kernels]
    provides += ['kpatch-cve(%s)' % c for c in cves] + list(extra)
    files = ['/usr/lib/kpatch'] + ['/usr/lib/kpatch/%s/%s.ko' % (k, module) for k in kernels]
    return lp.Pkg(name, evr, 'x86_64', provides, files, installed, obsoleted)


def names(plan):
    return sorted((a.kind, a.pkg.name, a.pkg.evr) for a in plan.actions)


class TempDir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='livepatch-test-')
        self.addCleanup(shutil.rmtree, self.tmp)

    def write(self, rel, content, mode='w'):
        path = os.path.join(self.tmp, rel)
        d = os.path.dirname(path)
        if not os.path.isdir(d):
            os.makedirs(d)
        with open(path, mode) as f:
            f.write(content)
        return path


class TextTest(unittest.TestCase):
    def test_printable_escapes_terminal_controls_and_backslash(self):
        self.assertEqual(lp.printable('a\x1b[2Jb'), 'a\\x1b[2Jb')
        self.assertEqual(lp.printable('tab\there\nnl'), 'tab\\x09here\\x0anl')
        self.assertEqual(lp.printable('back\\slash'), 'back\\\\slash')
        self.assertEqual(lp.printable('\u202e'), '\\u202e')   # right-to-left override
        self.assertEqual(lp.printable('caf\u00e9'), 'caf\u00e9')

    def test_printable_shows_undecodable_bytes(self):
        name = b'mod\xff\xfe'.decode('utf-8', 'surrogateescape')
        self.assertEqual(lp.printable(name), 'mod\\xff\\xfe')

    def test_json_text_is_valid_unicode(self):
        name = b'mod\xff'.decode('utf-8', 'surrogateescape')
        out = lp.json_text(name)
        self.assertEqual(out, 'mod\\xff')
        json.loads(json.dumps(out))
        self.assertIsNone(lp.json_text(None))
        self.assertEqual(lp.json_text('\ud800x'), '\\ud800x')

    def test_natural_key_orders_cve_numbers_by_value(self):
        cves = ['CVE-2024-10000', 'CVE-2023-9', 'CVE-2024-9999']
        self.assertEqual(sorted(cves, key=lp.natural_key),
                         ['CVE-2023-9', 'CVE-2024-9999', 'CVE-2024-10000'])


class VersionTest(unittest.TestCase):
    PAIRS = [
        ('1.0', '1.0', 0), ('1.0', '2.0', -1), ('2.0.1', '2.0', 1), ('2.0', '2.0.1', -1),
        ('5.5p1', '5.5p2', -1), ('5.5p10', '5.5p1', 1), ('10xyz', '10.1xyz', -1),
        ('xyz10', 'xyz10.1', -1), ('xyz.4', 'xyz.4', 0), ('xyz.4', '8', -1), ('8', 'xyz.4', 1),
        ('1b.fc17', '1b.fc17', 0), ('1b.fc17', '1.fc17', -1), ('1.fc17', '1g.fc17', -1),
        ('1.0~rc1', '1.0', -1), ('1.0~rc1', '1.0~rc2', -1), ('1.0~rc1~git123', '1.0~rc1', -1),
        ('1.0^', '1.0', 1), ('1.0^git1', '1.0', 1), ('1.0^git1', '1.0^git2', -1),
        ('1.0^git1', '1.01', -1), ('1.0^20160101', '1.0.1', -1), ('1.0~rc1^git1', '1.0~rc1', 1),
        ('1.0^git1~pre', '1.0^git1', -1), ('2a', '2.0', -1), ('1.0a', '1.0', 1),
        ('001', '1', 0), ('6.1.0-50', '6.1.0-9', 1),
    ]

    def test_rpmvercmp_matches_rpm(self):
        for a, b, want in self.PAIRS:
            self.assertEqual(lp.rpmvercmp(a, b), want, (a, b))
            self.assertEqual(lp.rpmvercmp(b, a), -want, (b, a))

    def test_evr_cmp_epoch_and_release(self):
        self.assertEqual(lp.evr_cmp('1:1.0-1', '2.0-1'), 1)
        self.assertEqual(lp.evr_cmp('1.0-2', '1.0-10'), -1)
        self.assertEqual(lp.evr_cmp('0:1.0-1', '1.0-1'), 0)

    def test_against_the_rpm_library_when_present(self):
        try:
            import rpm
        except ImportError:
            raise unittest.SkipTest('python3-rpm is not importable by this interpreter')
        for a, b, _ in self.PAIRS:
            self.assertEqual(lp.evr_cmp('0:%s-1' % a, '0:%s-1' % b),
                             rpm.labelCompare(('0', a, '1'), ('0', b, '1')), (a, b))


class ProvidesTest(unittest.TestCase):
    def test_serving_kernels_only_unversioned_kpatch_kernel(self):
        provides = ['kpatch-kernel(%s)' % A, 'kpatch-kernel(%s) = 1' % B, 'kpatch-kernelx(%s)' % C,
                    'kpatch-kernel()', 'kpatch-function(%s:fs/x.c:f)' % A]
        self.assertEqual(lp.serving_kernels(provides), set([A]))

    def test_odd_characters_are_kept_verbatim_as_data(self):
        odd = 'kpatch-kernel(6.1$(reboot);`id`\x1b[0m)'
        self.assertEqual(lp.serving_kernels([odd]), set(['6.1$(reboot);`id`\x1b[0m']))
        self.assertEqual(lp.cve_ids(['kpatch-cve(CVE-1;rm -rf /)']), ['CVE-1;rm -rf /'])

    def test_cves_naturally_sorted(self):
        self.assertEqual(lp.cve_ids(['kpatch-cve(CVE-2024-10000)', 'kpatch-cve(CVE-2024-999)',
                                     'kpatch-cve(CVE-2024-999)', 'kpatch-kernel(x)']),
                         ['CVE-2024-999', 'CVE-2024-10000'])

    def test_kernel_releases_verbatim(self):
        self.assertEqual(lp.kernel_releases(['kernel-uname-r = %s' % A, 'kernel-uname-r',
                                             'kernel-core = 5.14.0', 'kernel-uname-r = ']),
                         [A])

    def test_module_name_from_file_list(self):
        p = pkg('kpatch-x', '1.2-1', [A, B], module='kpatch_x_1_2')
        self.assertEqual(p.module, 'kpatch_x_1_2')
        self.assertEqual(p.modules, {A: 'kpatch_x_1_2', B: 'kpatch_x_1_2'})
        self.assertIsNone(lp.Pkg('n', '1-1', files=['/usr/lib/kpatch/%s/sub/m.ko' % A,
                                                    '/usr/lib/kpatch/m.ko']).module)

    def test_module_path_refuses_non_plain_components(self):
        self.assertEqual(lp.module_path(A, 'm'), '/usr/lib/kpatch/%s/m.ko' % A)
        self.assertIsNone(lp.module_path('..', 'm'))
        self.assertIsNone(lp.module_path('a/b', 'm'))
        self.assertIsNone(lp.module_path(A, None))
        self.assertIsNone(lp.module_path(A, 'x/../../etc/passwd'))


class PlanTest(unittest.TestCase):
    def setUp(self):
        self.avail = [
            pkg('kpatch-a', '1.0-1', [A]),
            pkg('kpatch-ab', '1.0-1', [A, B]),
            pkg('kpatch-b', '1.0-1', [B]),
            pkg('kpatch-c', '1.0-1', [C]),
            pkg('kpatch-all', '1.0-1', [A, B, C]),
            pkg('kpatch-all', '2.0-1', [A, B, C]),
            pkg('kpatch-old', '1.0-1', [A], obsoleted=True),
            pkg('kpatch-new', '1.0-1', [A]),
        ]

    def test_running_and_installed_kernels_get_their_latest(self):
        result = lp.plan([A, A, B], A, self.avail, [])
        self.assertEqual(names(result), [
            ('install', 'kpatch-a', '1.0-1'), ('install', 'kpatch-ab', '1.0-1'),
            ('install', 'kpatch-all', '2.0-1'), ('install', 'kpatch-b', '1.0-1'),
            ('install', 'kpatch-new', '1.0-1')])
        self.assertEqual(result.unserved, [])
        self.assertEqual(result.served, [A, B, C])
        ab = [a for a in result.actions if a.pkg.name == 'kpatch-ab'][0]
        self.assertEqual(ab.kernels, [A, B])

    def test_one_kernel_only(self):
        self.assertEqual(names(lp.plan([C], A, self.avail, [])),
                         [('install', 'kpatch-all', '2.0-1'), ('install', 'kpatch-c', '1.0-1')])

    def test_installed_names_are_skipped_by_install(self):
        inst = [pkg('kpatch-all', '1.0-1', [A, B, C], installed=True),
                pkg('kpatch-a', '1.0-1', [A], installed=True)]
        self.assertEqual(names(lp.plan([A], A, self.avail, inst)),
                         [('install', 'kpatch-ab', '1.0-1'), ('install', 'kpatch-new', '1.0-1')])

    def test_upgrade_moves_installed_names_to_the_latest(self):
        inst = [pkg('kpatch-all', '1.0-1', [A, B, C], installed=True),
                pkg('kpatch-a', '1.0-1', [A], installed=True)]
        result = lp.plan([A], A, self.avail, inst, upgrade=True)
        self.assertEqual(names(result), [
            ('install', 'kpatch-ab', '1.0-1'), ('install', 'kpatch-new', '1.0-1'),
            ('upgrade', 'kpatch-all', '2.0-1')])
        up = [a for a in result.actions if a.kind == 'upgrade'][0]
        self.assertEqual(up.installed_evr, '1.0-1')

    def test_upgrade_never_downgrades(self):
        inst = [pkg('kpatch-all', '3.0-1', [A], installed=True)]
        self.assertNotIn('kpatch-all', [a.pkg.name for a in
                                        lp.plan([A], A, self.avail, inst, upgrade=True).actions])

    def test_upgrade_unserved_only_when_installed_version_misses_the_kernel(self):
        avail = [pkg('kpatch-x', '1.0-1', [A]), pkg('kpatch-x', '2.0-1', [A, C]),
                 pkg('kpatch-y', '1.0-1', [A, C]), pkg('kpatch-y', '2.0-1', [A, C])]
        inst = [pkg('kpatch-x', '1.0-1', [A], installed=True),
                pkg('kpatch-y', '1.0-1', [A, C], installed=True)]
        result = lp.plan([C], None, avail, inst, upgrade_unserved=True)
        self.assertEqual(names(result), [('upgrade', 'kpatch-x', '2.0-1')])
        self.assertEqual(names(lp.plan([C], None, avail, inst)), [])

    def test_an_upgrade_never_unloads_the_fix_live_on_the_running_kernel(self):
        # The repository carries one version a name; 1.0-2 dropped the running kernel A.
        avail = [pkg('kpatch-x', '1.0-2', [B, C])]
        inst = [pkg('kpatch-x', '1.0-1', [A, B], installed=True)]
        for result in (lp.plan([A, B], A, avail, inst, upgrade=True),
                       lp.plan([C], A, avail, inst, upgrade_unserved=True),
                       lp.plan([C], None, avail, inst, upgrade_unserved=True,
                               keep_if_unknown=True),
                       lp.plan([B], A, avail, inst, upgrade=True)):
            self.assertEqual(result.actions, [])
            self.assertEqual([(a.kind, a.pkg.evr, a.installed_evr) for a in result.kept],
                             [('keep', '1.0-2', '1.0-1')])
        self.assertIn('does not serve the running kernel %s' % A,
                      lp.kept_text(lp.plan([A, B], A, avail, inst, upgrade=True).kept[0], A))
        # When the installed version does not serve the running kernel either, it upgrades.
        inst = [pkg('kpatch-x', '1.0-1', [B], installed=True)]
        self.assertEqual(names(lp.plan([B], A, avail, inst, upgrade=True)),
                         [('upgrade', 'kpatch-x', '1.0-2')])
        self.assertEqual(names(lp.plan([C], A, avail, inst, upgrade_unserved=True)),
                         [('upgrade', 'kpatch-x', '1.0-2')])

    def test_a_successor_never_replaces_the_fix_live_on_the_running_kernel(self):
        # kpatch-new supersedes kpatch-old (Obsoletes) and no longer serves the running kernel A.
        new = lp.Pkg('kpatch-new', '1.0-1', 'x86_64', ['kpatch-kernel(%s)' % k for k in (B, C)],
                     obsoletes=['kpatch-old'])
        old = pkg('kpatch-old', '1.0-1', [A, B], installed=True)
        for result in (lp.plan([A, B], A, [new], [old]),
                       lp.plan([C], A, [new], [old], upgrade_unserved=True),
                       lp.plan([C], None, [new], [old], keep_if_unknown=True)):
            self.assertEqual(result.actions, [])
            self.assertEqual([(a.kind, a.kept.name) for a in result.kept],
                             [('keep', 'kpatch-old')])
        self.assertIn('keeping kpatch-old-1.0-1: kpatch-new-1.0-1.x86_64 does not serve',
                      lp.kept_text(lp.plan([A, B], A, [new], [old]).kept[0], A))
        # When the successor serves the running kernel too, it replaces the old one.
        new = lp.Pkg('kpatch-new', '1.0-1', 'x86_64', ['kpatch-kernel(%s)' % k for k in (A, C)],
                     obsoletes=['kpatch-old'])
        self.assertEqual(names(lp.plan([A, B], A, [new], [old])),
                         [('install', 'kpatch-new', '1.0-1')])

    def test_obsoleted_packages_are_never_chosen(self):
        result = lp.plan([A], A, [pkg('kpatch-old', '1.0-1', [A], obsoleted=True)], [])
        self.assertEqual(result.actions, [])
        self.assertEqual(result.unserved, [])     # served, by a package being replaced

    def test_running_kernel_decides_the_version_of_a_name(self):
        avail = [pkg('kpatch-x', '1.0-1', [A, B]), pkg('kpatch-x', '2.0-1', [B, C])]
        self.assertEqual(names(lp.plan([A, B], A, avail, [])), [('install', 'kpatch-x', '1.0-1')])
        self.assertEqual(names(lp.plan([B, C], A, avail, [])), [('install', 'kpatch-x', '2.0-1')])
        self.assertEqual(names(lp.plan([B], None, avail, [])), [('install', 'kpatch-x', '2.0-1')])

    def test_unserved_kernels_are_reported(self):
        result = lp.plan(['9.9.9', A], A, self.avail, [])
        self.assertEqual(result.unserved, ['9.9.9'])
        self.assertIn('kpatch-a', [a.pkg.name for a in result.actions])

    def test_installed_packages_count_as_serving(self):
        inst = [pkg('kpatch-gone', '1.0-1', ['4.0.0'], installed=True)]
        result = lp.plan(['4.0.0'], None, self.avail, inst)
        self.assertEqual(result.unserved, [])
        self.assertEqual(result.actions, [])
        self.assertEqual(result.served, [A, B, C])     # what the repositories serve

    def test_excluded_names_are_left_alone(self):
        self.assertEqual(names(lp.plan([C], None, self.avail, [], exclude_names={'kpatch-c'})),
                         [('install', 'kpatch-all', '2.0-1')])

    def test_vercmp_is_used_for_latest(self):
        avail = [pkg('kpatch-x', '1.10-1', [A]), pkg('kpatch-x', '1.9-1', [A])]
        self.assertEqual(names(lp.plan([A], A, avail, [])), [('install', 'kpatch-x', '1.10-1')])

    def test_hostile_kernel_strings_are_plain_data(self):
        odd = '6.1$(touch /tmp/pwned)'
        avail = [pkg('kpatch-x', '1.0-1', [odd])]
        self.assertEqual(names(lp.plan([odd], odd, avail, [])), [('install', 'kpatch-x', '1.0-1')])
        self.assertEqual(lp.plan(['6.1*'], None, avail, []).unserved, ['6.1*'])


class OsreleaseTest(TempDir):
    def test_reads_and_strips(self):
        self.write('proc/sys/kernel/osrelease', A + '\n')
        self.assertEqual(lp.read_osrelease(os.path.join(self.tmp, 'proc')), A)

    def test_missing_file_is_a_clear_error(self):
        with self.assertRaises(lp.LivepatchError) as cm:
            lp.read_osrelease(os.path.join(self.tmp, 'nowhere'))
        self.assertIn("cannot read the running kernel's release from", str(cm.exception))
        self.assertIn('osrelease', str(cm.exception))

    def test_hostile_content_is_refused_and_escaped(self):
        for content in ['', '\n\n', '6.1 extra', '../../etc', 'a/b', '6.1\x1b[2J', '.',
                        '6.1\x00x']:
            self.write('proc/sys/kernel/osrelease', content)
            with self.assertRaises(lp.LivepatchError) as cm:
                lp.read_osrelease(os.path.join(self.tmp, 'proc'))
            msg = str(cm.exception)
            self.assertIn('does not hold a kernel release', msg)
            self.assertNotIn('\x1b', msg)
            self.assertNotIn('\x00', msg)

    def test_only_the_first_line_counts(self):
        self.write('proc/sys/kernel/osrelease', A + '\nsecond line\n')
        self.assertEqual(lp.read_osrelease(os.path.join(self.tmp, 'proc')), A)

    def test_undecodable_bytes_are_refused(self):
        self.write('proc/sys/kernel/osrelease', b'6.1\xff\n', 'wb')
        with self.assertRaises(lp.LivepatchError) as cm:
            lp.read_osrelease(os.path.join(self.tmp, 'proc'))
        self.assertIn('\\xff', str(cm.exception))


class SysfsTest(TempDir):
    def patch(self, name, enabled=None, transition=None):
        d = os.path.join(self.tmp, 'sys', 'kernel', 'livepatch', name)
        os.makedirs(d)
        if enabled is not None:
            with open(os.path.join(d, 'enabled'), 'w') as f:
                f.write(enabled)
        if transition is not None:
            with open(os.path.join(d, 'transition'), 'w') as f:
                f.write(transition)

    def read(self):
        return lp.read_sysfs(os.path.join(self.tmp, 'sys'))

    def test_states(self):
        self.patch('m_live', '1\n', '0\n')
        self.patch('m_trans', '1\n', '1\n')
        self.patch('m_off', '0\n', '0\n')
        self.patch('m_old_kernel', '1\n')
        self.patch('m_garbage', 'yes\n', '0\n')
        got = dict((k, (v.enabled, v.transition, v.state)) for k, v in self.read().items())
        self.assertEqual(got, {
            'm_live': (1, 0, lp.LIVE), 'm_trans': (1, 1, lp.TRANSITION),
            'm_off': (0, 0, lp.DISABLED), 'm_old_kernel': (1, None, lp.LIVE),
            'm_garbage': (None, 0, lp.DISABLED)})

    def test_missing_livepatch_directory_means_none_loaded(self):
        self.assertEqual(self.read(), {})
        self.write('sys/kernel/livepatch', 'not a directory')
        self.assertEqual(self.read(), {})

    def test_files_and_symlinks_are_ignored(self):
        self.patch('real', '1', '0')
        self.write('sys/kernel/livepatch/stray-file', '1')
        self.write('elsewhere/enabled', '1')
        os.symlink(os.path.join(self.tmp, 'elsewhere'),
                   os.path.join(self.tmp, 'sys', 'kernel', 'livepatch', 'link'))
        self.assertEqual(sorted(self.read()), ['real'])

    def test_odd_names_are_data(self):
        odd = ['evil\x1b[2J', '$(touch x)', 'a b;c', b'\xff\xfe'.decode('utf-8', 'surrogateescape')]
        for n in odd:
            self.patch(n, '1', '0')
        got = self.read()
        self.assertEqual(sorted(got), sorted(odd))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, 'x')))

    def test_huge_or_binary_attribute_is_not_an_integer(self):
        self.patch('big', '1' * 100000, '0')
        self.patch('bin', None, '0')
        self.write('sys/kernel/livepatch/bin/enabled', b'\x00\x01\xff', 'wb')
        got = self.read()
        self.assertIsNone(got['big'].enabled)
        self.assertIsNone(got['bin'].enabled)


def loaded(**states):
    table = {'live': (1, 0), 'transition': (1, 1), 'disabled': (0, 0)}
    return dict((m, lp.Loaded(m, *table[s])) for m, s in states.items())


class StatusTest(unittest.TestCase):
    def setUp(self):
        self.installed = [
            pkg('kpatch-live', '1.0-1', [A, B], cves=['CVE-2024-2']),
            pkg('kpatch-trans', '1.0-1', [A]),
            pkg('kpatch-off', '1.0-1', [A], cves=['CVE-2024-10']),
            pkg('kpatch-notloaded', '1.0-1', [A]),
            pkg('kpatch-missing', '1.0-1', [A]),
            pkg('kpatch-bonly', '1.0-1', [B], cves=['CVE-2023-1']),
        ]
        for p in self.installed:
            p.installed = True
        self.loaded = loaded(kpatch_live_1_0='live', kpatch_trans_1_0='transition',
                             kpatch_off_1_0='disabled', foreign_patch='live')
        self.present = lambda path: 'kpatch_missing' not in path

    def status(self, **kw):
        args = dict(running=A, kernels=[B, A], installed=self.installed, available=[],
                    loaded=self.loaded, module_present=self.present, auto=False,
                    repositories=['klp'])
        args.update(kw)
        return lp.compute_status(**args)

    def states(self, report, release=A):
        k = [k for k in report['kernels'] if k['release'] == release][0]
        return dict((p['name'], p['state']) for p in k['packages'])

    def test_each_state(self):
        report = self.status()
        self.assertEqual(self.states(report), {
            'kpatch-live': 'live', 'kpatch-trans': 'transition', 'kpatch-off': 'disabled',
            'kpatch-notloaded': 'not-loaded', 'kpatch-missing': 'module-missing'})
        self.assertEqual(self.states(report, B), {'kpatch-live': None, 'kpatch-bonly': None})
        self.assertEqual(report['unknown'], [
            {'module': 'foreign_patch', 'state': 'unknown', 'enabled': 1, 'transition': 0}])
        self.assertFalse(report['ok'])
        self.assertEqual(lp.exit_status(report), 2)

    def test_json_shape_is_stable(self):
        report = self.status(available=[pkg('kpatch-live', '1.1-1', [A], cves=['CVE-2024-3'])])
        data = json.loads(lp.render_json(report))
        self.assertEqual(sorted(data), ['auto', 'format', 'kernels', 'ok', 'repositories',
                                        'running_kernel', 'unknown', 'unused', 'version'])
        self.assertEqual(data['unused'], [])
        self.assertEqual(data['format'], 1)
        self.assertEqual(data['version'], '1.0')
        self.assertEqual(data['running_kernel'], A)
        self.assertEqual(data['repositories'], ['klp'])
        self.assertEqual([k['release'] for k in data['kernels']], [A, B])
        k = data['kernels'][0]
        self.assertEqual(sorted(k), ['available', 'cves', 'installed', 'packages', 'release',
                                     'running'])
        self.assertTrue(k['running'])
        self.assertTrue(k['installed'])
        self.assertEqual(sorted(k['packages'][0]), [
            'arch', 'cves', 'enabled', 'evr', 'module', 'module_path', 'module_present', 'name',
            'state', 'transition'])
        live = [p for p in k['packages'] if p['name'] == 'kpatch-live'][0]
        self.assertEqual(live, {
            'name': 'kpatch-live', 'evr': '1.0-1', 'arch': 'x86_64', 'module': 'kpatch_live_1_0',
            'module_path': '/usr/lib/kpatch/%s/kpatch_live_1_0.ko' % A, 'module_present': True,
            'cves': ['CVE-2024-2'], 'state': 'live', 'enabled': 1, 'transition': 0})
        self.assertEqual(k['available'], [{'name': 'kpatch-live', 'evr': '1.1-1', 'arch': 'x86_64',
                                           'installed_evr': '1.0-1', 'cves': ['CVE-2024-3']}])
        self.assertEqual(k['cves'], ['CVE-2024-2', 'CVE-2024-10'])
        self.assertEqual(data['kernels'][1]['cves'], ['CVE-2023-1', 'CVE-2024-2'])
        self.assertEqual(lp.render_json(report), lp.render_json(self.status(
            available=[pkg('kpatch-live', '1.1-1', [A], cves=['CVE-2024-3'])])))

    def all_live(self):
        self.installed = [p for p in self.installed if p.name in ('kpatch-live', 'kpatch-bonly')]
        self.loaded = loaded(kpatch_live_1_0='live', foreign_patch='live')

    def test_all_live_is_ok_even_with_unknown_patches(self):
        self.all_live()
        report = self.status()
        self.assertTrue(report['ok'])
        self.assertEqual(lp.exit_status(report), 0)
        self.assertEqual(len(report['unknown']), 1)

    def test_available_for_running_kernel_is_not_ok(self):
        self.all_live()
        report = self.status(available=[pkg('kpatch-new', '1.0-1', [A])])
        self.assertFalse(report['ok'])
        self.assertEqual(report['kernels'][0]['available'][0]['installed_evr'], None)

    def test_available_for_other_kernel_only_is_ok(self):
        self.all_live()
        report = self.status(available=[pkg('kpatch-bnew', '1.0-1', [B]),
                                        pkg('kpatch-live', '1.0-1', [A, B])])
        self.assertTrue(report['ok'])
        self.assertEqual([a['name'] for a in report['kernels'][1]['available']], ['kpatch-bnew'])
        self.assertEqual(report['kernels'][0]['available'], [])

    def test_obsoleted_is_not_available(self):
        self.all_live()
        self.assertTrue(self.status(available=[
            pkg('kpatch-x', '1.0-1', [A], obsoleted=True)])['ok'])

    def test_each_non_live_state_alone_is_not_ok(self):
        for name in ('kpatch-trans', 'kpatch-off', 'kpatch-notloaded', 'kpatch-missing'):
            self.setUp()
            self.installed = [p for p in self.installed if p.name in ('kpatch-live', name)]
            self.assertFalse(self.status()['ok'], name)

    def test_no_repository_is_not_ok(self):
        self.all_live()
        report = self.status(repositories=[])
        self.assertFalse(report['ok'])
        self.assertIn('no repository is enabled', lp.render_text(report))

    def test_running_kernel_not_installed_and_kernel_order(self):
        report = self.status(running=C, kernels=[A, B, '5.14.0-99.el9.x86_64'])
        self.assertEqual([(k['release'], k['running'], k['installed'])
                          for k in report['kernels']],
                         [(C, True, False), (B, False, True), (A, False, True),
                          ('5.14.0-99.el9.x86_64', False, True)])
        self.assertTrue(report['ok'])   # nothing serves C: nothing to be live
        self.assertEqual([u['module'] for u in report['unknown']], ['foreign_patch'])

    def test_unused_packages_serve_no_listed_kernel(self):
        old = pkg('kpatch-old-kernel', '1.0-1', ['5.14.0-1.el9.x86_64', '5.14.0-2.el9.x86_64'],
                  installed=True)
        self.installed.append(old)
        self.loaded.update(loaded(kpatch_old_kernel_1_0='live'))
        report = self.status()
        self.assertEqual(report['unused'], [{'name': 'kpatch-old-kernel', 'evr': '1.0-1',
                                             'arch': 'x86_64', 'kernels': [
                                                 '5.14.0-1.el9.x86_64', '5.14.0-2.el9.x86_64']}])
        self.assertNotIn('kpatch_old_kernel_1_0', [u['module'] for u in report['unknown']])
        self.assertIn(['unused', 'kpatch-old-kernel-1.0-1', 'serves', '5.14.0-1.el9.x86_64',
                       '5.14.0-2.el9.x86_64'],
                      [l.split() for l in lp.render_text(report).splitlines()])

    def test_loaded_module_of_any_installed_package_is_accounted_for(self):
        self.loaded.update(loaded(kpatch_bonly_1_0='live'))
        self.assertEqual([u['module'] for u in self.status()['unknown']], ['foreign_patch'])

    def test_loaded_but_file_gone_keeps_sysfs_state(self):
        self.present = lambda path: False
        report = self.status()
        self.assertEqual(self.states(report)['kpatch-live'], 'live')
        live = [p for p in report['kernels'][0]['packages'] if p['name'] == 'kpatch-live'][0]
        self.assertFalse(live['module_present'])

    def test_hostile_names_reported_never_raw(self):
        odd_dir = 'evil\x1b[2J' + b'\xff'.decode('utf-8', 'surrogateescape')
        self.loaded[odd_dir] = lp.Loaded(odd_dir, 1, 0)
        self.installed.append(pkg('kpatch-odd', '1.0-1', [A], module='odd_mod',
                                  cves=['CVE-1\x1b]0;title\x07']))
        self.installed[-1].installed = True
        report = self.status()
        text = lp.render_text(report)
        js = lp.render_json(report)
        for out in (text, js):
            self.assertNotIn('\x1b', out)
            self.assertNotIn('\x07', out)
        self.assertIn('evil\\x1b[2J\\xff', text)
        data = json.loads(js)
        self.assertIn('evil\x1b[2J\\xff', [u['module'] for u in data['unknown']])
        self.assertIn(odd_dir, [u['module'] for u in report['unknown']])   # raw until rendered

    def test_text_report(self):
        report = self.status(available=[pkg('kpatch-extra', '1.0-1', [A], cves=['CVE-2024-7'])],
                             auto=True)
        text = lp.render_text(report)
        lines = text.splitlines()
        self.assertEqual(lines[0], 'Running kernel: ' + A)
        self.assertEqual(lines[1], 'Automatic livepatches for new kernels: on')
        self.assertIn('Kernel %s (running, installed)' % A, lines)
        self.assertIn('Kernel %s (installed)' % B, lines)
        row = [l for l in lines if 'kpatch-live-1.0-1' in l][0].split()
        self.assertEqual(row, ['live', 'kpatch-live-1.0-1', 'kpatch_live_1_0', 'CVE-2024-2'])
        self.assertIn(['available', 'kpatch-extra-1.0-1', '(not', 'installed)', 'CVE-2024-7'],
                      [l.split() for l in lines])
        self.assertIn(['unknown', 'foreign_patch', 'enabled', '1,', 'transition', '0'],
                      [l.split() for l in lines])
        self.assertIn('  CVEs fixed: CVE-2024-2, CVE-2024-10', lines)
        self.assertTrue(lines[-1].startswith(
            'Not all livepatches for the running kernel are installed and live: 1 available'),
            lines[-1])
        self.assertIn('3 installed, not live', lines[-1])
        self.assertIn('1 with the module file missing', lines[-1])

    def test_text_report_all_live(self):
        self.all_live()
        self.assertEqual(lp.render_text(self.status()).splitlines()[-1],
                         'All livepatches available for the running kernel are installed and '
                         'live.')


class ConfigTest(TempDir):
    def test_settings(self):
        s = lp.settings_from({})
        self.assertEqual((s.auto, s.sysfs, s.procfs), (False, '/sys', '/proc'))
        s = lp.settings_from({'auto': 'on', 'sysfs': ' /t/sys ', 'procfs': '/t/proc'})
        self.assertEqual((s.auto, s.sysfs, s.procfs), (True, '/t/sys', '/t/proc'))
        for v in ('1', 'yes', 'True', 'ON'):
            self.assertTrue(lp.settings_from({'auto': v}).auto)
        for v in ('0', 'no', 'false', 'off'):
            self.assertFalse(lp.settings_from({'auto': v}).auto)
        with self.assertRaises(lp.LivepatchError) as cm:
            lp.settings_from({'auto': 'maybe\x1b'})
        self.assertIn('auto', str(cm.exception))
        self.assertNotIn('\x1b', str(cm.exception))

    def test_shipped_config(self):
        with open(lpfixture.CONF_FILE) as f:
            text = f.read()
        self.assertIn('[main]', text)
        self.assertRegex(text, r'(?m)^enabled = 1$')
        self.assertRegex(text, r'(?m)^auto = 0$')
        self.assertRegex(text, r'(?m)^#sysfs = /sys$')
        self.assertRegex(text, r'(?m)^#procfs = /proc$')

    def test_set_option_replaces_in_place_and_keeps_comments(self):
        text = '# head\n[main]\nenabled = 1\n# auto = 1 means ...\nauto = 0\n#sysfs = /sys\n'
        self.assertEqual(lp.set_ini_option(text, 'main', 'auto', '1'),
                         '# head\n[main]\nenabled = 1\n# auto = 1 means ...\nauto = 1\n'
                         '#sysfs = /sys\n')

    def test_set_option_adds_key_or_section(self):
        self.assertEqual(lp.set_ini_option('[main]\nenabled=1\n', 'main', 'auto', '1'),
                         '[main]\nauto = 1\nenabled=1\n')
        self.assertEqual(lp.set_ini_option('[other]\nauto=0', 'main', 'auto', '1'),
                         '[other]\nauto=0\n[main]\nauto = 1\n')
        self.assertEqual(lp.set_ini_option('[main]\n[x]\nauto=0\n', 'main', 'auto', '1'),
                         '[main]\nauto = 1\n[x]\nauto=0\n')

    def test_write_atomically_keeps_mode(self):
        path = self.write('livepatch.conf', 'old')
        os.chmod(path, 0o640)
        lp.write_atomically(path, 'new')
        with open(path) as f:
            self.assertEqual(f.read(), 'new')
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o640)
        self.assertEqual(os.listdir(self.tmp), ['livepatch.conf'])


class SourceTest(unittest.TestCase):
    def test_version_file(self):
        with open(os.path.join(lpfixture.HOST, 'VERSION')) as f:
            self.assertEqual(f.read(), '1.0\n')
        self.assertEqual(lp.VERSION, '1.0')

    def test_plugin_parses_as_python_3_6(self):
        with open(lpfixture.PLUGIN_FILE) as f:
            src = f.read()
        if sys.version_info >= (3, 8):
            ast.parse(src, feature_version=(3, 6))
        tree = ast.parse(src)
        named_expr = getattr(ast, 'NamedExpr', ())
        for node in ast.walk(tree):
            self.assertNotIsInstance(node, named_expr)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.assertIsNone(node.returns, node.name)
                for a in node.args.args + node.args.kwonlyargs:
                    self.assertIsNone(a.annotation, node.name)
            if isinstance(node, ast.AnnAssign):
                self.fail('variable annotation at line %d' % node.lineno)
            if isinstance(node, ast.ImportFrom):
                self.assertNotEqual(node.module, 'dataclasses')
                if node.module == '__future__':
                    self.assertNotIn('annotations', [n.name for n in node.names])
            if isinstance(node, ast.FormattedValue):
                self.fail('f-string at line %d' % node.lineno)

    def test_pure_part_imports_without_dnf(self):
        """The unit tests above run on the pure part; it must not need dnf."""
        code = ('import sys, importlib.util\n'
                'sys.modules["dnf"] = None\n'
                'spec = importlib.util.spec_from_file_location("lp", %r)\n'
                'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n'
                'assert m.dnf is None and not hasattr(m, "Livepatch")\n'
                'print(m.plan(["k"], "k", [m.Pkg("x", "1-1", provides=["kpatch-kernel(k)"])],'
                ' []).actions[0].pkg.name)\n' % lpfixture.PLUGIN_FILE)
        res = lpfixture.run([sys.executable, '-c', code])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, 'x\n')

    def test_dnf_layer_when_dnf_is_importable(self):
        if lp.dnf is None:
            lpfixture.require_python_dnf(self)
            raise unittest.SkipTest('this interpreter has no dnf; the integration tests use '
                                    + lpfixture.SYSTEM_PYTHON)
        self.assertEqual(lp.Livepatch.name, 'livepatch')
        self.assertTrue(issubclass(lp.Livepatch, lp.dnf.Plugin))
        self.assertTrue(issubclass(lp.LivepatchCommand, lp.dnf.cli.Command))
        self.assertEqual(lp.LivepatchCommand.aliases, ('livepatch',))


if __name__ == '__main__':
    unittest.main()
