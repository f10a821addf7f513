"""Installing linkplane: `cmake --install` into a DESTDIR puts the binary, the man page
made from --help, the documented config and the systemd unit where they belong, and
the installed binary serves with the installed config; the Debian package (CPack)
declares its library dependencies and conffiles, and installs, upgrades, removes
(keeping state and config) and purges (removing them) in a temporary dpkg root."""
import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from lp import BUILD_DIR, Daemon, serving

BUILD = os.path.abspath(BUILD_DIR)


def run(*cmd, env=None, check=True, timeout=600):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=timeout)
    if check:
        assert p.returncode == 0, f"{cmd}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def installed():
    root = tempfile.mkdtemp(prefix="lp-install-")
    run("cmake", "--install", BUILD, "--prefix", "/usr", env=dict(os.environ, DESTDIR=root))
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="module")
def package():
    out = tempfile.mkdtemp(prefix="lp-package-")
    run("cpack", "-G", "DEB", "-B", out, "--config", os.path.join(BUILD, "CPackConfig.cmake"))
    debs = glob.glob(os.path.join(out, "linkplane_*.deb"))
    assert len(debs) == 1, os.listdir(out)
    yield debs[0]
    shutil.rmtree(out)


def test_install_puts_binary_man_page_config_and_unit_under_destdir(installed):
    root = installed
    binary = os.path.join(root, "usr/bin/linkplane")
    assert os.access(binary, os.X_OK)
    config = os.path.join(root, "etc/linkplane/linkplane.toml")
    assert os.stat(config).st_mode & 0o777 == 0o600  # it will hold secret keys: the daemon refuses more
    unit = open(os.path.join(root, "usr/lib/systemd/system/linkplane.service")).read()
    assert "ExecStart=/usr/bin/linkplane serve --config /etc/linkplane/linkplane.toml\n" in unit
    assert "Type=notify\n" in unit and "StateDirectory=linkplane\n" in unit and "Restart=on-failure\n" in unit
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
    assert caps == ["CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE"]
    for cap in caps:  # each one explained in the unit
        assert re.search(rf"^#\s+{cap}\s+\S", unit, re.M), cap

    man = gzip.open(os.path.join(root, "usr/share/man/man1/linkplane.1.gz"), "rt").read()
    assert man.startswith(".TH LINKPLANE 1")
    helptext = run(binary, "--help").stdout
    # Every command and its description, as --help words them, and the shared sections.
    for name, desc in re.findall(r"^  (\w+)\s{2,}(.+)$", helptext.split("Subcommands:")[1].split("\n\n")[0], re.M):
        assert f".B {name}\n{desc.replace('-', chr(92) + '-')}" in man, name
    for section in ("FILES", "SIGNALS", "EXIT STATUS"):
        assert section in helptext and f".SH {section}" in man
    # SIGHUP's entry says what a reload applies (accounts and limits are live).
    signals = helptext.split("SIGNALS")[1].split("EXIT STATUS")[0]
    assert "[[accounts]]" in signals and "[limits]" in signals, signals
    if shutil.which("man"):
        rendered = run("man", "-l", os.path.join(root, "usr/share/man/man1/linkplane.1.gz"),
                       env=dict(os.environ, MANWIDTH="100")).stdout
        assert "linkplane backup" in rendered


REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


@pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "build.ninja")),
                    reason="the Makefile drives a Ninja build (as `make` configures it)")
def test_make_install_honours_prefix_and_destdir():
    root = tempfile.mkdtemp(prefix="lp-make-install-")
    try:
        p = run("make", "-C", REPO, "install", f"BUILD={BUILD}", f"DESTDIR={root}", "PREFIX=/opt/lp", "JOBS=2")
        # Installing builds nothing but what it installs, and sets up no test tools.
        assert "install-deps" not in p.stdout + p.stderr
        for f in ("opt/lp/bin/linkplane", "opt/lp/share/man/man1/linkplane.1.gz",
                  "opt/lp/lib/systemd/system/linkplane.service", "etc/linkplane/linkplane.toml"):
            assert os.path.isfile(os.path.join(root, f)), f
        unit = open(os.path.join(root, "opt/lp/lib/systemd/system/linkplane.service")).read()
        assert "ExecStart=/opt/lp/bin/linkplane serve --config /etc/linkplane/linkplane.toml\n" in unit
        assert run(os.path.join(root, "opt/lp/bin/linkplane"), "version").stdout.startswith("linkplane ")
    finally:
        shutil.rmtree(root)


def test_installed_binary_serves_with_the_installed_config(installed):
    root = installed
    binary = os.path.join(root, "usr/bin/linkplane")
    state = tempfile.mkdtemp(prefix="lp-test-")
    import lp
    saved = lp.LINKPLANE
    lp.LINKPLANE = binary
    try:
        d = Daemon(state_dir=state, config=os.path.join(root, "etc/linkplane/linkplane.toml")).start()
    finally:
        lp.LINKPLANE = saved
    for _ in serving(d):
        assert d.aws("sts", "get-caller-identity")["Account"] == "111111111111"
        vpc = d.aws("ec2", "create-vpc", "--cidr-block", "10.9.0.0/16")["Vpc"]["VpcId"]
        assert d.aws("ec2", "describe-vpcs", "--vpc-ids", vpc)["Vpcs"]
        p = run(binary, "status", "--config", os.path.join(root, "etc/linkplane/linkplane.toml"),
                "--state-dir", state)
        assert "linkplane: up" in p.stdout


def test_package_declares_library_dependencies_and_its_conffile(package):
    fields = run("dpkg-deb", "-f", package).stdout
    depends = re.search(r"^Depends: (.*)$", fields, re.M).group(1)
    names = {d.strip().split()[0] for d in depends.split(",")}
    # From dpkg-shlibdeps over the binary's shared libraries.
    for lib in ("libc6", "libsqlite3-0", "libssl3", "libnftables1", "libspdlog1.10-fmt9", "libfmt9",
                "libtomlplusplus3", "libldns3", "libcurl4"):
        assert lib in names, depends
    assert re.search(r"^Package: linkplane$", fields, re.M)
    x = tempfile.mkdtemp(prefix="lp-ctrl-")
    try:
        run("dpkg-deb", "-e", package, x)
        assert open(os.path.join(x, "conffiles")).read().split() == ["/etc/linkplane/linkplane.toml"]
        for script in ("postinst", "prerm", "postrm"):
            assert os.access(os.path.join(x, script), os.X_OK)
    finally:
        shutil.rmtree(x)
    files = run("dpkg-deb", "-c", package).stdout
    for f in ("./usr/bin/linkplane", "./usr/share/man/man1/linkplane.1.gz", "./etc/linkplane/linkplane.toml",
              "./usr/lib/systemd/system/linkplane.service"):
        assert re.search(rf" {re.escape(f)}$", files, re.M), f


def test_package_unpacked_runs_and_its_libraries_resolve(package):
    x = tempfile.mkdtemp(prefix="lp-unpack-")
    try:
        run("dpkg", "-x", package, x)
        binary = os.path.join(x, "usr/bin/linkplane")
        assert "not found" not in run("ldd", binary).stdout
        assert run(binary, "version").stdout.startswith("linkplane ")
        # Stripped: the package carries no debug info.
        assert "not stripped" not in run("file", binary).stdout
    finally:
        shutil.rmtree(x)


def dpkg(root, *args):
    # --force-script-chrootless: the maintainer scripts run here with DPKG_ROOT=root;
    # the temporary root has no libc in its dpkg database, hence --force-depends.
    return run("dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", "--force-not-root",
               "--log=/dev/null", *args)


def older_package(package, out_dir):
    """The same package as an older release would be (Version 0.0.1, the binary a
    shell script saying so), so that installing PACKAGE over it is a real upgrade."""
    tree = os.path.join(out_dir, "tree")
    run("dpkg-deb", "-R", package, tree)
    control = os.path.join(tree, "DEBIAN", "control")
    text = open(control).read()
    text = re.sub(r"^Version: .*$", "Version: 0.0.1", text, flags=re.M)
    open(control, "w").write(text)
    binary = os.path.join(tree, "usr/bin/linkplane")
    with open(binary, "w") as f:
        f.write("#!/bin/sh\necho linkplane 0.0.1\n")
    os.chmod(binary, 0o755)
    md5sums = os.path.join(tree, "DEBIAN", "md5sums")
    if os.path.exists(md5sums):  # it listed the real binary's sum
        os.remove(md5sums)
    old = os.path.join(out_dir, "linkplane_0.0.1_amd64.deb")
    run("dpkg-deb", "--root-owner-group", "-b", tree, old)
    return old


def installed_version(root):
    return run("dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f=${Version} ${Status}",
               "linkplane").stdout


def test_package_installs_upgrades_removes_keeping_state_and_purges(package):
    root = tempfile.mkdtemp(prefix="lp-dpkgroot-")
    try:
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        new_version = run("dpkg-deb", "-f", package, "Version").stdout.strip()
        old = older_package(package, tempfile.mkdtemp(prefix="lp-oldpkg-", dir=root))
        dpkg(root, "-i", old)
        assert installed_version(root) == "0.0.1 install ok installed"
        assert os.access(os.path.join(root, "usr/bin/linkplane"), os.X_OK)
        state = os.path.join(root, "var/lib/linkplane")
        assert os.stat(state).st_mode & 0o777 == 0o700
        with open(os.path.join(state, "linkplane.db"), "w") as f:
            f.write("state")
        config = os.path.join(root, "etc/linkplane/linkplane.toml")
        with open(config, "a") as f:
            f.write("# edited by the admin\n")

        dpkg(root, "-i", package)  # the upgrade: 0.0.1 -> this release
        assert installed_version(root) == f"{new_version} install ok installed"
        assert run(os.path.join(root, "usr/bin/linkplane"), "version").stdout.startswith(f"linkplane {new_version}")
        assert open(config).read().endswith("# edited by the admin\n")  # an edited conffile stays
        assert open(os.path.join(state, "linkplane.db")).read() == "state"
        assert os.stat(state).st_mode & 0o777 == 0o700

        dpkg(root, "-i", package)  # reinstalled, same version: nothing changes either
        assert open(config).read().endswith("# edited by the admin\n")
        assert open(os.path.join(state, "linkplane.db")).read() == "state"

        dpkg(root, "-r", "linkplane")
        assert not os.path.exists(os.path.join(root, "usr/bin/linkplane"))
        assert open(os.path.join(state, "linkplane.db")).read() == "state"
        assert os.path.exists(config)

        dpkg(root, "-P", "linkplane")
        assert not os.path.exists(state)
        assert not os.path.exists(os.path.join(root, "etc/linkplane"))
    finally:
        shutil.rmtree(root)
