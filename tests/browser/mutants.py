"""Named broken versions of the console, each of which the browser tests (or the handler tests in
tests/flows/test_console_routes.py, a minute or two each) must catch (a check that cannot fail proves nothing).
Run by hand — each browser mutant starts the console anew, minutes on a busy machine:

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
ROUTES = "tests/flows/test_console_routes.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: Path
    find: str
    replace: str
    test: str  # the -k expression of the test that must fail
    tests: str = "tests/browser"  # where that test is
    after: str = ""  # mutate the first `find` after this (a function's def), not the file's first

    def mutated(self, original: str) -> str | None:
        """The file with the mutation made, or None when the code it mutates is not there any more."""
        start = original.find(self.after)
        at = original.find(self.find, start) if start >= 0 else -1
        if at < 0:
            return None
        return original[:at] + self.replace + original[at + len(self.find):]


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
    Mutant("quota-share-estimated", CONSOLE / "overview.py", "quota.parse_reading(items.get(_pair(quota.reading_key)))",
           "None", "every_page_renders"),
    # Each route checks the role and the form's token itself: one route forgetting is caught.
    Mutant("push-lets-a-viewer-in", CONSOLE / "settings_routes.py", "_operator(fields)", '_person("viewer")',
           "forged", ROUTES, after="def push("),
    Mutant("rollback-lets-a-viewer-in", CONSOLE / "settings_routes.py", "_operator(fields)", '_person("viewer")',
           "forged", ROUTES, after="def rollback("),
    Mutant("push-without-its-token", CONSOLE / "settings_routes.py", "_operator(fields)", '_person("operator")',
           "forged", ROUTES, after="def push("),
    Mutant("rollback-without-its-token", CONSOLE / "settings_routes.py", "_operator(fields)",
           '_person("operator")', "forged", ROUTES, after="def rollback("),
    Mutant("retry-without-its-token", CONSOLE / "app.py", "_operator(fields)", '_person("operator")', "forged",
           ROUTES, after="def retry("),
    Mutant("unskip-lets-a-viewer-in", CONSOLE / "app.py", "_operator(fields)", '_person("viewer")', "forged",
           ROUTES, after="def unskip("),
    Mutant("preview-shows-no-plan", CONSOLE / "preview.py", "for plan in run.plans:", "for plan in []:",
           "records_of_the_demo", ROUTES),
    Mutant("autoescape-off-in-the-handler", CONSOLE / "web.py",
           "autoescape=select_autoescape(default=True, default_for_string=True)", "autoescape=False",
           "hostile_names", ROUTES),
)


def run(mutant: Mutant) -> tuple[bool, str]:
    """Whether the tests caught the mutant (the named test failed), and pytest's first line saying what failed."""
    original = mutant.path.read_text()
    mutated = mutant.mutated(original)
    if mutated is None:
        raise SystemExit(f"{mutant.name}: the code it mutates has changed; update tests/browser/mutants.py")
    mutant.path.write_text(mutated)
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", mutant.tests, "-q", "-x", "-p", "no:randomly",
                               "-k", mutant.test], cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        mutant.path.write_text(original)
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return done.returncode != 0, (failed[0][:200] if failed else done.stdout.strip()[-200:])


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    caught = []
    for mutant in chosen:
        hit, said = run(mutant)
        caught.append(hit)
        print(f"{mutant.name}: {'caught' if hit else 'NOT CAUGHT'} (by {mutant.tests} -k {mutant.test})\n    {said}",
              flush=True)
    print(f"mutants caught: {sum(caught)} of {len(chosen)}")
    return 0 if all(caught) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
