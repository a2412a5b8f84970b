"""Charts for the PDF and HTML: chart specs → Vega-Lite (Altair) → SVG in worker processes.

:mod:`~reportgen.render.charts.rules` holds what the Altair and the native PPTX
charts share (colours by role, axes, waterfall steps); it imports neither library.
"""
