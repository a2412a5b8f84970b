"""The chart-drawing process: Vega-Lite specs in, SVG out, one JSON line each way.

Run as a script (``python _vega_worker.py``), never imported by the build:
it imports vl-convert and nothing of reportgen, so it starts in ~0.1 s and
holds only the JavaScript engine. The protocol is one request per line on
stdin, ``{"spec": {...}}``, answered by one line on stdout,
``{"svg": "..."}`` or ``{"error": "..."}``; end of input ends the process.
Nothing is fetched while drawing (``allowed_base_urls=[]``).
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    import vl_convert

    for line in sys.stdin:
        try:
            spec = json.loads(line)["spec"]
            answer = {"svg": vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])}
        except Exception as error:  # vl-convert raises plain ValueError with a JS trace
            answer = {"error": str(error)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
