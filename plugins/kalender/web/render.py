"""The Jinja2 templates of the web pages (``templates/``), always autoescaped.

Jinja2 escapes every value put into a page (``autoescape=True`` for every
template, not only ``.html``), so a title such as ``<script>`` is shown as text.
The filters that format dates and times in Bahasa Indonesia come from
``kalender.web.dates``.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """The shared template environment (loaded once per process)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("kalender.web", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    from kalender.web import dates

    env.filters.update(dates.FILTERS)
    return env


def render(template: str, **context: Any) -> str:
    """A template rendered with ``context``."""
    return environment().get_template(template).render(**context)
