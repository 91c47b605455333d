"""How many failed authentications are let through: `limit` a `window_s` per subject (a client
address, a key id), so guessing a secret is slow from one address and against one key from many.
The API's key check (services/accounts.py) and the console's sign-in use it.

Counts live in the memory of the process (a server of several workers lets each its own
`limit`), over a sliding window; an attempt refused for the limit is not verified and not
counted, so waiting out the window always works. A success clears its subjects' counts.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_SUBJECTS = 10_000  # past this, the subjects failed longest ago are forgotten first


class FailureLimiter:
    def __init__(self, limit: int = 5, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, *subjects: str) -> int:
        """Whole seconds until these subjects may try again; 0: now."""
        now = self._clock()
        wait = 0.0
        for subject in subjects:
            failures = self._recent(subject, now)
            if failures is not None and len(failures) >= self.limit:
                wait = max(wait, failures[-self.limit] + self.window_s - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, *subjects: str) -> None:
        now = self._clock()
        for subject in subjects:
            failures = self._recent(subject, now)
            if failures is None:
                failures = self._failures[subject] = deque(maxlen=self.limit)
            failures.append(now)
            self._failures.move_to_end(subject)
        while len(self._failures) > MAX_SUBJECTS:
            self._failures.popitem(last=False)

    def succeeded(self, *subjects: str) -> None:
        for subject in subjects:
            self._failures.pop(subject, None)

    def _recent(self, subject: str, now: float) -> deque[float] | None:
        failures = self._failures.get(subject)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[subject]
            return None
        return failures
