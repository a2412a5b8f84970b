"""The report site: every built report as a static, offline web page (``reportgen publish``),
and a live preview for authors (``reportgen serve``).

The site reads what builds wrote — each ``figures.json`` and the artifacts beside it —
never the cube: publishing re-runs no analysis, and a page shows exactly the numbers
its PDF and deck show.
"""

from reportgen.site.publish import PublishResult, publish_site

__all__ = ["PublishResult", "publish_site"]
