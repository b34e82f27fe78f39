"""Sentences that a page can say in its reader's language.

The package writes English: the CLI, the chapter's log and the errors stay English. A sentence
the playground shows (a walk step's explanation, why training stopped) is made with `said`, which
returns the English text itself, a `str` that every caller uses as before, and remembers the
template and values it came from. The playground sends `words_json(text)` beside the text, and the
page looks the template up in its catalogue (`micrograd.playground.strings`, the English template
being the key) and fills in the values; a template the catalogue lacks reads in English.
"""

from __future__ import annotations

from typing import Any


class Said(str):
    """An English sentence that keeps its `template` and `values` (`template.format(**values)`
    is the text). A value may itself be `Said`: the page translates it too."""

    template: str
    values: dict[str, Any]


def said(template: str, **values: Any) -> Said:
    """`template` filled with `values`, as a `str`; `words_json` gives the page its parts."""
    text = Said(template.format(**values))
    text.template, text.values = template, values
    return text


def words_json(text: Any) -> dict[str, Any] | None:
    """The page's view of a sentence, `{"text": template, "params": {name: value}}` (values as
    the English shows them, a `Said` value as its own view); None for a plain string."""
    if not isinstance(text, Said):
        return None
    return {"text": text.template,
            "params": {k: words_json(v) or str(v) for k, v in text.values.items()}}


def message_of(error: BaseException) -> str:
    """An exception's message: the `Said` sentence it was raised with, else `str(error)`."""
    said_with = error.args[0] if len(error.args) == 1 else None
    return said_with if isinstance(said_with, Said) else str(error)


def said_in(text: Any, catalogue: dict[str, str] | None) -> str:
    """`text` in a catalogue's language (`micrograd.playground.strings.ZH`: English template ->
    its translation), as the page says it: a `Said` sentence by its template, its `Said` values
    too; a plain text as it reads, when the catalogue has it; anything else in English."""
    if catalogue is None:
        return str(text)
    if isinstance(text, Said):
        values = {k: said_in(v, catalogue) if isinstance(v, Said) else v
                  for k, v in text.values.items()}
        return catalogue.get(text.template, text.template).format(**values)
    return catalogue.get(str(text), str(text))
