"""The only way WeasyPrint may read anything while it renders a report.

WeasyPrint fetches whatever a document names — ``file://`` paths, cloud
metadata at ``http://169.254.169.254/``, redirects, ``<link rel=attachment>``
targets — with its default fetcher. Report text comes from data (segment
labels, queue names, narrative), so a stray URL in the data must never turn
into a local file read or a request from the render host (the SSRF class of
the DEF CON 27 "PDF generators" talk).

:class:`RestrictedURLFetcher` allows exactly two things:

* ``data:`` URLs (the inlined logo, anything we embed ourselves);
* ``file:`` URLs whose *resolved* path (symlinks followed, ``..`` collapsed)
  is a regular file inside one of the allow-listed folders: the HTML
  templates folder and the brand's asset folders.

Everything else — http, https, ftp, file outside the folders, a symlink that
points out of them — is refused with a warning on the ``reportgen.render``
logger naming the URL. Files are read from the resolved path by this class
itself rather than handed back to urllib, so what is checked is what is read.
Redirects cannot happen: no network scheme is ever opened.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger("reportgen.render")

_LOCAL_HOSTS = {"", "localhost"}


class FetchRefused(ValueError):
    """A URL outside the allow-list; WeasyPrint treats it as a missing resource."""


class RestrictedURLFetcher(URLFetcher):
    """A WeasyPrint (≥ 70) URL fetcher limited to ``data:`` and allow-listed files."""

    def __init__(self, allowed_dirs: Iterable[Path], **kwargs: Any) -> None:
        kwargs.setdefault("timeout", 5)
        super().__init__(allowed_protocols=("data",), allow_redirects=False, **kwargs)
        self.allowed_dirs: tuple[Path, ...] = tuple(
            dict.fromkeys(Path(d).resolve() for d in allowed_dirs)
        )

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Serve ``data:`` and allow-listed files; refuse and log anything else."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            return self._fetch_file(url)
        raise self._refuse(url, f"scheme '{scheme or '?'}' is not allowed")

    def _fetch_file(self, url: str) -> URLFetcherResponse:
        path = self.allowed_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    def allowed_path(self, url: str) -> Path:
        """The resolved file a ``file:`` URL names, if it is inside the allow-list."""
        parts = urlsplit(url)
        if parts.netloc.lower() not in _LOCAL_HOSTS:
            raise self._refuse(url, f"remote file host '{parts.netloc}'")
        try:
            resolved = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError) as error:
            raise self._refuse(url, f"cannot resolve: {error}") from None
        if not resolved.is_file():
            raise self._refuse(url, "not a regular file")
        if not any(resolved.is_relative_to(folder) for folder in self.allowed_dirs):
            raise self._refuse(url, f"resolves to {resolved}, outside the allowed folders")
        return resolved

    def _refuse(self, url: str, reason: str) -> FetchRefused:
        shown = url if len(url) <= 200 else url[:200] + "…"
        logger.warning("refused to fetch %s while rendering: %s", shown, reason)
        return FetchRefused(f"refused to fetch {shown}: {reason}")


def allowed_dirs_for(brand_dirs: Iterable[Path | None], templates_dir: Path) -> list[Path]:
    """The allow-list: the HTML templates folder plus the brand's asset folders."""
    return [templates_dir, *(Path(d) for d in brand_dirs if d is not None)]
