"""The interpretation steps, one module each, in the order :func:`labinterp.interpret` runs them.

``read`` (``identify``, values, ``convert``, ``plausibility``) → ``derive`` → ``layout`` →
``ranges`` → ``flags`` → ``schemes`` → ``context`` → ``explain`` (→ ``history``). Each step
works on whole arrays over the row-state record of :mod:`labinterp.steps.state`; the
single-result path (:mod:`labinterp.steps.one`) calls the same functions, or their scalar
twins beside them, for one result.
"""
