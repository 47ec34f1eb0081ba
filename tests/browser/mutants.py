"""Named broken versions of the console, each of which the browser tests must catch (a check that cannot fail
proves nothing). Run by hand — each mutant starts the console anew, minutes on a busy machine:

    .venv/bin/python tests/browser/mutants.py            # every mutant
    .venv/bin/python tests/browser/mutants.py no-csrf    # one

Each mutant edits one product file in place, runs the test that must catch it, and restores the file.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "layers" / "shared" / "autoxero" / "console"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: Path
    find: str
    replace: str
    test: str  # the -k expression of the test that must fail


MUTANTS = (
    Mutant("autoescape-off", CONSOLE / "web.py", "autoescape=select_autoescape(default=True, default_for_string=True)",
           "autoescape=False", "hostile"),
    Mutant("no-role-check", CONSOLE / "auth.py", 'if role == "operator" and not self.can_operate:',
           "if False:", "viewer_cannot"),
    Mutant("no-csrf-check", CONSOLE / "app.py", "    _csrf().check(person, fields.get(\"csrf\"))\n", "",
           "csrf"),
    Mutant("skip-without-its-record", CONSOLE / "actions.py",
           "rt.state.attention.skip(flow, record_id, reason.strip(), by=person.email,",
           "rt.state.attention.clear(flow, record_id) or (lambda **_: None)(", "skip_and_unskip"),
    Mutant("retry-forgets-who", CONSOLE / "actions.py", '{"by": person.email, "was": item.message}',
           '{"was": item.message}', "fix_retry"),
    Mutant("push-ignores-the-review", CONSOLE / "settings_routes.py", "if not checked.pushable:", "if False:",
           "fix_retry"),
    Mutant("quota-share-estimated", CONSOLE / "overview.py", "rt.state.autotask_quota.last_reading()", "None",
           "every_page_renders"),
)


def run(mutant: Mutant) -> bool:
    """True when the tests caught the mutant (the named test failed)."""
    original = mutant.path.read_text()
    if mutant.find not in original:
        raise SystemExit(f"{mutant.name}: the code it mutates has changed; update tests/browser/mutants.py")
    mutant.path.write_text(original.replace(mutant.find, mutant.replace, 1))
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "tests/browser", "-q", "-x", "-p", "no:randomly",
                               "-k", mutant.test], cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        mutant.path.write_text(original)
    return done.returncode != 0


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    caught = []
    for mutant in chosen:
        hit = run(mutant)
        caught.append(hit)
        print(f"{mutant.name}: {'caught' if hit else 'NOT CAUGHT'} (by -k {mutant.test})", flush=True)
    print(f"mutants caught: {sum(caught)} of {len(chosen)}")
    return 0 if all(caught) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
