"""Getting data (``shallowchrome fetch``): ``remc`` (the Roadmap catalogue), ``download`` (resumable,
verified HTTP downloads), ``inputs`` (downloads → build-ready genes, expression and peak manifest)."""
