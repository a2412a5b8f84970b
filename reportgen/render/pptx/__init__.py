"""The editable PowerPoint deck: :func:`reportgen.render.pptx.deck.render_pptx` and its parts."""
