"""The HTML report and the PDF drawn from it (WeasyPrint), with the templating and fetch rules.

:mod:`~reportgen.render.html.page` renders the document to HTML,
:mod:`~reportgen.render.html.pdf` prints that HTML to PDF through the restrictive
fetcher, and :mod:`~reportgen.render.html.templating` is the one sandboxed Jinja2
environment (the email templates use it too).
"""
