"""The site's static assets: its stylesheet and script, and the charting libraries.

Vega, Vega-Lite and vega-embed come from the installed ``vl-convert-python``
(``vl_convert.javascript_bundle()``: the same library versions that draw the PDF's
charts, with their dependencies, as one script), never from a CDN. Building the
bundle takes seconds, so it is kept under a name that carries the versions and
written only when missing. Its licence notice sits beside it.
"""

from __future__ import annotations

from functools import lru_cache

from reportgen.site.pages import site_templates_dir

#: Files copied as they are from ``templates/site/``.
STATIC = ("site.css", "site.js", "reload.js")


@lru_cache(maxsize=1)
def vega_versions() -> tuple[str, str, str]:
    import vl_convert

    vl = max(vl_convert.get_vegalite_versions(), key=lambda v: tuple(int(x) for x in v.split(".")))
    return vl_convert.get_vega_version(), vl, vl_convert.get_vega_embed_version()


def vega_bundle_name() -> str:
    vega, lite, embed = vega_versions()
    return f"vega-{vega}_vega-lite-{lite}_vega-embed-{embed}.js"


def vega_bundle() -> bytes:
    """Vega + Vega-Lite + vega-embed (and the expression interpreter the CSP needs) as one script."""
    import vl_convert

    _, lite, _ = vega_versions()
    return vl_convert.javascript_bundle(vl_version=lite).encode("utf-8")


def licence_notice() -> bytes:
    vega, lite, embed = vega_versions()
    return (
        f"{vega_bundle_name()} bundles, unmodified, the following open-source libraries\n"
        "(built by vl-convert-python's javascript_bundle(), Copyright 2023 Jon Mease, BSD-3-Clause):\n\n"
        f"  Vega {vega}          https://github.com/vega/vega          BSD-3-Clause\n"
        f"  Vega-Lite {lite}     https://github.com/vega/vega-lite     BSD-3-Clause\n"
        f"  vega-embed {embed}   https://github.com/vega/vega-embed    BSD-3-Clause\n"
        "  vega-tooltip, vega-interpreter, vega-themes, vega-schema-url-parser   BSD-3-Clause\n"
        "  d3 modules (d3-array, d3-format, d3-time, d3-scale, d3-shape …)  ISC\n"
        "  json-stringify-pretty-compact  MIT; fast-json-patch  MIT; semver  ISC\n\n"
        "Copyright (c) 2015-2025, University of Washington Interactive Data Lab.\n"
        "All rights reserved.\n\n" + BSD3
    ).encode("utf-8")


BSD3 = """Redistribution and use in source and binary forms, with or without modification,
are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this list of
   conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice, this list of
   conditions and the following disclaimer in the documentation and/or other materials
   provided with the distribution.
3. Neither the name of the copyright holder nor the names of its contributors may be used
   to endorse or promote products derived from this software without specific prior
   written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS
OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE
COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR
TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE,
EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def static_asset(name: str) -> bytes:
    return (site_templates_dir() / name).read_bytes()
