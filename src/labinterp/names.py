"""Analyte names in a language, and analyte keys from the names people write.

A name comes from the text catalogue (``name.analyte.<key>`` in ``data/text/<lang>.toml``),
so a new language is one data file; an analyte without such an entry is named by its
``display`` name in ``analytes.toml``.
"""

from __future__ import annotations

from functools import lru_cache

from labinterp.catalogue import Text, analytes, lookup_name, name_key, text_catalogue

__all__ = ["analyte_key", "analyte_name", "specimen_of"]

#: Text keys of analyte names: ``name.analyte.<key>``.
NAME_PREFIX = "name.analyte."
#: The languages whose names are recognised by :func:`analyte_key`.
LANGUAGES = ("en", "nb", "sv")


def analyte_name(key: str, lang: str = "en") -> str:
    """Return an analyte's name in a language.

    Parameters
    ----------
    key
        The analyte's catalogue key (``"hba1c"``).
    lang
        A language with a text catalogue (``"en"``, ``"nb"``, ``"sv"``).

    Returns
    -------
    str
        The ``name.analyte.<key>`` text of that language (English where the language
        lacks it), else the catalogue's display name, else the key itself.

    Examples
    --------
    >>> analyte_name("hba1c", "nb")
    'HbA1c (langtidsblodsukker)'
    """
    entry = Text(lang, "patient").get(f"{NAME_PREFIX}{key}")
    if entry is not None:
        return entry.text
    spec = analytes().get(key)
    if spec is None:
        return key
    return spec.display.get(lang) or spec.display.get("en") or key


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for lang in LANGUAGES:
        for full, entry in text_catalogue(lang).items():
            if full.startswith(NAME_PREFIX):
                index.setdefault(name_key(entry.text), full[len(NAME_PREFIX) :])
    return index


def analyte_key(name: str) -> str | None:
    """Return the analyte key for a key, an alias or a name in any language, or ``None``.

    Examples
    --------
    >>> analyte_key("Kreatinin"), analyte_key("HbA1c (långtidsblodsocker)"), analyte_key("egfr")
    ('creatinine', 'hba1c', 'egfr')
    """
    return lookup_name(name) or _name_index().get(name_key(name))


def specimen_of(analyte: str, *written: object) -> str | None:
    """Return the specimen a code or name says a result was measured in (``None``: none).

    Only analytes whose serum and plasma intervals differ list the codes and names that
    say it (``specimens`` in ``analytes.toml``: ``"S-Kalium"`` serum, ``"P-Kalium"``
    plasma). Codes are compared ignoring case, names as :func:`labinterp.catalogue.name_key`
    reads them.

    Examples
    --------
    >>> specimen_of("magnesium", "S-Magnesium") is None  # one interval for both
    True
    """
    index = _specimen_index().get(analyte)
    if not index:
        return None
    for text in written:
        if isinstance(text, str):
            found = index.get(text.strip().casefold()) or index.get(name_key(text))
            if found is not None:
                return found
    return None


@lru_cache(maxsize=1)
def _specimen_index() -> dict[str, dict[str, str]]:
    """Per analyte with ``specimens``, its codes (casefolded) and names (keyed) -> specimen."""
    out: dict[str, dict[str, str]] = {}
    for key, spec in analytes().items():
        for specimen, said in spec.specimens.items():
            for text in said:
                table = out.setdefault(key, {})
                table[name_key(text) if text in spec.aliases else text.strip().casefold()] = (
                    specimen
                )
    return out
