"""Builds libneardup with the project's Makefile and puts the shared
library inside the package, so `pip install ./python` is the whole set-up.

NEARDUP_BUILD names the make build folder (default: build, as `make lib`);
NEARDUP_PREBUILT, the path of an already built libneardup.so.N to ship
instead (the sanitizer test runs use it)."""
import os
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HEADER = os.path.join(ROOT, "src", "neardup.h")


def version():
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    return ".".join(re.search(r"#define ND_VERSION_%s (\d+)" % k, text)
                    .group(1) for k in ("MAJOR", "MINOR", "PATCH"))


class BuildWithLibrary(build_py):
    def run(self):
        # build_lib outlives runs (pip builds in the tree): files of an
        # older version must not reach the wheel.
        shutil.rmtree(os.path.join(self.build_lib, "neardup"),
                      ignore_errors=True)
        super().run()
        major = version().split(".")[0]
        soname = "libneardup.so." + major
        src = os.environ.get("NEARDUP_PREBUILT")
        if not src:
            build = os.environ.get("NEARDUP_BUILD", "build")
            env = dict(os.environ)
            for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
                env.pop(k, None)
            subprocess.check_call(["make", "-C", ROOT, "-j2", "BUILD=" + build,
                                   "lib"], env=env)
            src = os.path.join(ROOT, build, soname)
        dst = os.path.join(self.build_lib, "neardup", "libneardup.so")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(
    version=version(),
    packages=["neardup", "neardup.tests"],
    cmdclass={"build_py": BuildWithLibrary},
    distclass=BinaryDistribution,
)
