"""Pure-Python language tools: triage, pre-publication screening, locality.

House rule: nothing in this package imports Django or any other Beatdesk app.
Apps call it through small functions (``triage(texts)``, ``screen(text, context)``,
``locate(text)``) and it ships its trained artefacts alongside the code.
"""
