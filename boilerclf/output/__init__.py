"""Output formats beyond plain text: the kept lines of a page as markdown
(:mod:`boilerclf.output.markdown`) or clean HTML (:mod:`boilerclf.output.html`),
both from one tree of blocks (:mod:`boilerclf.output.blocks`)."""
