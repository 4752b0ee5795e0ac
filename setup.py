"""Everything about the package is in pyproject.toml; this only compiles the message catalogues.

The compiled catalogues (.mo) are not in git, so they can never fall behind their .po files: `make`
builds them for a checkout, and this step builds them into every wheel (pip install .), with Babel's
own compiler, which leaves fuzzy entries out as gettext does.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogues(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in Path("wizard/translations").glob("*/LC_MESSAGES/*.po"):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with target.open("wb") as compiled:
                write_mo(compiled, catalog)


setup(cmdclass={"build_py": BuildPyWithCatalogues})
