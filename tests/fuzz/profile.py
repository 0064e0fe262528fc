"""`fuzz()`: the Hypothesis settings every fuzz property runs with (``@settings(fuzz())``).

- `fuzz-ci` by default: COLLECTBOT_FUZZ_EXAMPLES examples (30 unless set), so that
  tests/fuzz stays well under 40 s on a 2-core machine;
- `thorough` (500 examples) with ``pytest --hypothesis-profile=thorough`` or
  COLLECTBOT_FUZZ_PROFILE=thorough, for a local run that digs deeper.
Only the tests that use fuzz() read the profile: the rest of the suite keeps its own settings.
tests/conftest.py imports this module so the profiles exist before Hypothesis's pytest
plugin loads the one named on the command line.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = {
    "deadline": None,  # shared CI machines: time is measured for the whole directory, not per example
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,  # a failure prints the @reproduce_failure line that replays it
    # "explain" re-runs a failing example a hundred times to say which lines it took: minutes for the chat
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
}
settings.register_profile("fuzz-ci", max_examples=int(os.environ.get("COLLECTBOT_FUZZ_EXAMPLES", "30")), **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)


def fuzz(share: float = 1.0) -> settings:
    """The settings of the chosen profile; `share` of its examples (at least 5) for slow properties.

    Called when a test module is imported (after Hypothesis's plugin loaded `--hypothesis-profile`).
    """
    name = os.environ.get("COLLECTBOT_FUZZ_PROFILE") or settings.get_current_profile_name()
    chosen = settings.get_profile(name if name not in ("default", "ci") else "fuzz-ci")
    return settings(chosen, max_examples=max(5, int(chosen.max_examples * share)))
