# -*- coding: utf-8 -*-
"""Shared test helpers: loading the plugin module, requiring tools, and building stand-in
packages and repositories with rpmbuild and createrepo_c."""

from __future__ import absolute_import, print_function, unicode_literals

import importlib.util
import os
import shutil
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = os.path.dirname(HERE)
PLUGIN_DIR = os.path.join(HOST, 'dnf-plugins')
PLUGIN_FILE = os.path.join(PLUGIN_DIR, 'livepatch.py')
CONF_FILE = os.path.join(HOST, 'livepatch.conf')
DNF = '/usr/bin/dnf'
SYSTEM_PYTHON = '/usr/bin/python3'

_module = None


def plugin():
    """The plugin module, loaded from its file (dnf loads it the same way)."""
    global _module
    if _module is None:
        spec = importlib.util.spec_from_file_location('livepatch_plugin_under_test', PLUGIN_FILE)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _module = mod
    return _module


def in_ci():
    return os.environ.get('CI') == 'true'


def require_tool(test, program):
    """The tool's path; skips the test without it, or fails it under CI=true."""
    path = program if os.path.isabs(program) else shutil.which(program)
    if path is None or not os.access(path, os.X_OK):
        _missing(test, '%s is not installed' % program)
    return path


def require_python_dnf(test):
    try:
        out = subprocess.run([SYSTEM_PYTHON, '-c', 'import dnf; print(dnf.VERSION)'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        ok = out.returncode == 0
    except OSError:
        ok = False
    if not ok:
        _missing(test, 'python3-dnf is not installed (%s cannot import dnf)' % SYSTEM_PYTHON)


def _missing(test, why):
    if in_ci():
        test.fail(why + ' (CI=true: a missing tool fails the test)')
    raise unittest.SkipTest(why)


def run(cmd, **kw):
    """Runs cmd (an argument list); returns the CompletedProcess with text output."""
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


class Rpm(object):
    """One stand-in package: name, version, release, arch, provides, obsoletes, requires and
    files ({absolute path: content})."""

    def __init__(self, name, version='1.0', release='1', arch='noarch', provides=(),
                 obsoletes=(), requires=(), files=None):
        self.name = name
        self.version = version
        self.release = release
        self.arch = arch
        self.provides = list(provides)
        self.obsoletes = list(obsoletes)
        self.requires = list(requires)
        self.files = dict(files or {})


def livepatch(name, version, kernels, module, cves=(), obsoletes=(), provides=()):
    """A package shaped like the controller's: one module per kernel, kpatch-kernel and
    kpatch-cve provides, Requires: kpatch."""
    prov = ['kpatch-kernel(%s)' % k for k in kernels] + ['kpatch-cve(%s)' % c for c in cves]
    prov += list(provides)
    files = dict(('/usr/lib/kpatch/%s/%s.ko' % (k, module), 'module %s for %s\n' % (module, k))
                 for k in kernels)
    return Rpm(name, version, '1', 'x86_64', prov, obsoletes, ['kpatch'], files)


def kernel(name, release):
    version, rel = release.split('-', 1)
    return Rpm(name, version, rel.replace('.x86_64', ''), 'x86_64',
               ['kernel-uname-r = %s' % release],
               files={'/lib/modules/%s/vmlinuz' % release: 'kernel %s\n' % release})


def write_spec(path, packages):
    """One spec whose subpackages are `packages` (names must differ)."""
    out = ['%global debug_package %{nil}', '%define __os_install_post %{nil}',
           '%define _build_id_links none',
           'Name: lp-fixture', 'Version: 1', 'Release: 1', 'Summary: test fixture',
           'License: MIT', '', '%description', 'test fixture', '']
    for p in packages:
        out += ['%%package -n %s' % p.name, 'Version: %s' % p.version, 'Release: %s' % p.release,
                'Summary: %s' % p.name]
        if p.arch == 'noarch':
            out.append('BuildArch: noarch')
        out += ['Provides: %s' % x for x in p.provides]
        out += ['Obsoletes: %s' % x for x in p.obsoletes]
        out += ['Requires: %s' % x for x in p.requires]
        out += ['', '%%description -n %s' % p.name, p.name, '']
    out.append('%install')
    for p in packages:
        for f, content in sorted(p.files.items()):
            out.append('mkdir -p "%%{buildroot}%s"' % os.path.dirname(f))
            out.append("printf '%%s' '%s' > \"%%{buildroot}%s\"" % (content.replace("'", ''), f))
    out.append('')
    for p in packages:
        out.append('%%files -n %s' % p.name)
        out += sorted(p.files)
        out.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')


def build_repo(workdir, batches):
    """Builds every batch (a list of Rpm with distinct names) with rpmbuild and makes one
    repository of all of them with createrepo_c; returns the repository's directory."""
    repo = os.path.join(workdir, 'repo')
    os.makedirs(repo)
    for i, batch in enumerate(batches):
        top = os.path.join(workdir, 'rpmbuild%d' % i)
        spec = os.path.join(workdir, 'fixture%d.spec' % i)
        write_spec(spec, batch)
        res = run(['rpmbuild', '-bb', '--quiet', '--define', '_topdir ' + top,
                   '--target', 'x86_64', spec])
        if res.returncode != 0:
            raise AssertionError('rpmbuild failed:\n' + res.stdout + res.stderr)
        for d, _, files in os.walk(os.path.join(top, 'RPMS')):
            for f in files:
                if f.endswith('.rpm'):
                    shutil.move(os.path.join(d, f), os.path.join(repo, f))
    res = run(['createrepo_c', repo])
    if res.returncode != 0 or 'invalid packages' in res.stdout + res.stderr:
        raise AssertionError('createrepo_c failed:\n' + res.stdout + res.stderr)
    return repo
