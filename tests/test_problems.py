"""Problem sentences in the output's language: every recorded sentence has its entry.

The steps record a problem as a fixed English sentence (a module constant, or a format
string with the parts it names filled in); ``problem.<id>`` in ``data/text/<lang>.toml``
holds it in each language. These tests collect the sentences the code can record, hold
each to its entries, and check both paths (frame and single result) write them in the
chosen language, with English kept as recorded.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import labinterp
from labinterp import catalogue
from labinterp.catalogue import AUDIENCES, Text, get_analyte
from labinterp.dates import complete_context
from labinterp.io.readers import fhir as fhir_reader
from labinterp.io.readers.fhir import parse_fhir
from labinterp.io.readers.fhir_fields import timestamp
from labinterp.steps.convert import group_conversion, unit_info
from labinterp.steps.explain import problem_sentences, problem_table, problem_text
from labinterp.steps.identify import resolve_analyte
from labinterp.steps.plausibility import implausible
from labinterp.values import parse_value

from .conftest import ROOT

SRC = ROOT / "src" / "labinterp"
LANGS = ("en", "nb", "sv")
TRANSLATIONS = ("nb", "sv")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
US_CORE = ROOT / "tests" / "data" / "fhir" / "Observation-serum-creatinine.json"

#: Modules whose module-level sentence constants are problems the steps record.
RECORDING_MODULES = (
    *sorted((SRC / "steps").glob("*.py")),
    SRC / "engine.py",
    SRC / "single.py",
    SRC / "values.py",
    SRC / "units.py",
    SRC / "dates.py",
)


def _problem_entries(lang: str) -> dict[str, dict[str, str]]:
    """Return ``{id: {audience: text}}`` of a language's problem entries."""
    out: dict[str, dict[str, str]] = {}
    for key, entry in catalogue.text_catalogue(lang).items():
        if key.startswith("problem."):
            problem, _, audience = key.removeprefix("problem.").rpartition(".")
            out.setdefault(problem, {})[audience] = entry.text
    return out


def _string(node: ast.expr) -> str | None:
    """Return the text of a string literal (implicit concatenation included), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


#: Sentence constants that are exception messages, not problem sentences.
EXCEPTION_MESSAGES = frozenset({"units.py:QUANTITY_UNIT_CONFLICT"})


def _sentence_constants() -> dict[str, str]:
    """Return every module-level constant of the recording modules that is a sentence."""
    found: dict[str, str] = {}
    for path in RECORDING_MODULES:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            value = getattr(node, "value", None)
            text = _string(value) if isinstance(value, ast.expr) else None
            names = [t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()]
            if text and names and re.fullmatch(r"[A-Z{].* .*\.", text, re.DOTALL):
                found[f"{path.relative_to(SRC)}:{names[0]}"] = text
    return {where: text for where, text in found.items() if where not in EXCEPTION_MESSAGES}


def _recorded() -> Iterator[str]:
    """Yield the problem sentences that the code's format strings and literals record."""
    magnesium_code = get_analyte("magnesium").codes[0]
    for key, code, name in (
        ("no_such_key", None, None),
        (None, magnesium_code, "Ferritin"),
        (None, None, "Blodsukker etter middag"),
    ):
        yield str(resolve_analyte(key, code, name).problem)
    for raw, decimal in (
        (None, "auto"),
        ("  ", "auto"),
        ("1 234 567", "auto"),
        ("hemolysert", "auto"),
        ("1,234", "auto"),
        ("1,5", "."),
    ):
        yield str(parse_value(raw, decimal).problem)  # type: ignore[arg-type]
    for unit in (None, "blorps"):
        yield str(unit_info(unit).problem)
    yield str(group_conversion("magnesium", "mmol/L", lambda name: None)[2])
    yield str(group_conversion("magnesium", "second", lambda name: "mmol/L")[2])
    for name, value, unit, to_unit in (
        ("creatinine", 1.2, "µmol/L", "umol/L"),  # below, plausible in mg/dL
        ("hemoglobin", 130.0, "g/dL", "g/dL"),  # above, plausible in g/L
        ("magnesium", -1.0, "mmol/L", "mmol/L"),  # below, no unit fits
        ("creatinine", 30000.0, "µmol/L", "umol/L"),  # above, no unit fits
    ):
        found = implausible(name, value, unit, value, to_unit)
        assert found is not None, name
        yield found[1]
    unreadable = (("collected_at", "2026-13-45"), ("birth_date", "x"), ("age_years", "?"))
    for column, written in unreadable:
        yield str(complete_context(pd.DataFrame({column: [written]})).loc[0, "read_problem"])
    yield str(timestamp("2013", "birth_date")[1])
    yield str(timestamp(dt.date(1, 1, 1), "collected_at")[1])
    yield from _fhir_read_problems()


def _fhir_read_problems() -> Iterator[str]:
    resource = json.loads(US_CORE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(resource)
    broken["valueQuantity"]["value"] = "abc123"
    period = copy.deepcopy(resource)
    del period["valueQuantity"]
    period["valuePeriod"] = {"start": "2020-01-01"}
    for item in (broken, period):
        yield str(parse_fhir([item]).loc[0, "read_problem"])


def _unreadable_observation(monkeypatch: pytest.MonkeyPatch) -> str:
    resource = json.loads(US_CORE.read_text(encoding="utf-8"))

    def fail(*args: object) -> list[dict[str, object]]:
        raise TypeError("unexpected shape")

    monkeypatch.setattr(fhir_reader, "_observation_rows", fail)
    return str(parse_fhir([resource]).loc[0, "read_problem"])


def test_sentence_constants_are_found() -> None:
    """The scan finds the constants it should (a scan that finds nothing proves nothing)."""
    found = _sentence_constants()
    assert "steps/identify.py:_UNRECOGNISED" in found
    assert "steps/flags.py:FLAG_UNDECIDED" in found
    assert "steps/catalogue_row.py:_NEEDS_SEX" in found


@pytest.mark.parametrize(("where", "sentence"), sorted(_sentence_constants().items()))
def test_every_problem_constant_is_an_english_entry(where: str, sentence: str) -> None:
    """Each problem constant is, word for word, the English text of a problem entry."""
    english = {t for texts in _problem_entries("en").values() for t in texts.values()}
    assert sentence in english, f"{where}: add [problem.<id>] to en.toml, nb.toml and sv.toml"


def test_every_recorded_sentence_is_written_in_every_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every sentence the code records has an entry, and nb and sv write it in full."""
    recorded = [*dict.fromkeys(_recorded()), _unreadable_observation(monkeypatch)]
    assert "None" not in recorded and len(recorded) >= 20
    for sentence in recorded:
        assert problem_sentences().split(sentence) is not None, sentence
        for audience in AUDIENCES:
            assert problem_text(sentence, Text("en", audience)) == sentence
            for lang in TRANSLATIONS:
                written = problem_text(sentence, Text(lang, audience))
                assert written != sentence, (lang, sentence)
                assert PLACEHOLDER.search(written) is None, (lang, written)


def test_entries_are_complete_and_share_placeholders() -> None:
    """Every problem has both audiences in every language, with English's placeholders."""
    english = _problem_entries("en")
    assert len(english) >= 20
    for lang in LANGS:
        entries = _problem_entries(lang)
        assert set(entries) == set(english), lang
        for problem, texts in entries.items():
            assert set(texts) == set(AUDIENCES), (lang, problem)
            for text in texts.values():
                wanted = set(PLACEHOLDER.findall(english[problem]["patient"]))
                assert set(PLACEHOLDER.findall(text)) == wanted, (lang, problem)


def test_english_sentences_are_one_per_entry() -> None:
    """English gives one sentence per problem (the recorded one), each a different one.

    A sentence's placeholders stand apart (literal text between two of them), so the
    parts they stand for can be told apart in a recorded sentence.
    """
    english = _problem_entries("en")
    assert all(texts["patient"] == texts["clinician"] for texts in english.values())
    sentences = [texts["patient"] for texts in english.values()]
    assert len(set(sentences)) == len(sentences)
    for sentence in sentences:
        assert re.search(r"\}\{", sentence) is None, sentence


def test_translations_are_not_left_in_english() -> None:
    """A translated sentence differs from the English one (none was copied untranslated)."""
    english = _problem_entries("en")
    for lang in TRANSLATIONS:
        for problem, texts in _problem_entries(lang).items():
            assert texts["patient"] != english[problem]["patient"], (lang, problem)


# -- each new status's problem, in nb and sv, on both paths ----------------------------

CASES = {
    # status: (frame row, expected nb, expected sv)
    "unknown_unit": (
        {"analyte": "magnesium", "raw_value": "0,8", "raw_unit": "blorps"},
        "Enheten kjennes ikke igjen; legg skrivemåten til i unit_aliases.csv eller konverter "
        "eksporten til en standardenhet.",
        "Enheten känns inte igen; lägg till stavningen i unit_aliases.csv eller konvertera "
        "exporten till en standardenhet.",
    ),
    "unknown_analyte": (
        {"analyte": "Blodsukker etter middag", "raw_value": "5,1", "raw_unit": "mmol/L"},
        "Analysen kjennes ikke igjen ut fra koden eller navnet; oppgi en analyte-kolonne eller "
        "legg navnet til blant katalogens alternative navn (aliases).",
        "Analysen känns inte igen från koden eller namnet; ange en analyte-kolumn eller lägg "
        "till namnet bland katalogens alternativa namn (aliases).",
    ),
    "implausible_value": (
        {"analyte": "creatinine", "raw_value": "-5", "raw_unit": "µmol/L"},
        "Verdien er under null, og det kan dette resultatet aldri være. Kontroller verdien og "
        "fortegnet i originalsvaret.",
        "Värdet är under noll, vilket det här resultatet aldrig kan vara. Kontrollera värdet och "
        "dess tecken i originalsvaret.",
    ),
    "missing_context": (
        {"analyte": "creatinine", "raw_value": "80", "raw_unit": "µmol/L", "sex": None},
        "Referanseområdet avhenger av kjønn, og kjønn mangler eller kjennes ikke igjen; legg til "
        "en kjønnskolonne (female/male) eller laboratoriets eget referanseområde.",
        "Referensintervallet beror på kön, och kön saknas eller känns inte igen; lägg till en "
        "könskolumn (female/male) eller laboratoriets eget referensintervall.",
    ),
    "indeterminate": (
        {"analyte": "magnesium", "raw_value": "<0,8", "raw_unit": "mmol/L"},
        "Verdien er oppgitt med < eller > og spenner over en referansegrense, så det kan ikke "
        "avgjøres om den er høy, lav eller normal.",
        "Värdet är angivet med < eller > och spänner över en referensgräns, så det går inte att "
        "avgöra om det är högt, lågt eller normalt.",
    ),
}


def _frame_problem(row: dict[str, object], lang: str, audience: str) -> tuple[str, str]:
    frame = pd.DataFrame([{"sex": "female", "age_years": 50, **row}])
    if row["analyte"] not in catalogue.analytes():  # a name: the frame path's own column
        frame = frame.rename(columns={"analyte": "source_name"})
    out = labinterp.interpret(frame, lang=lang, audience=audience, derive=False)
    return str(out.loc[0, "status"]), str(out.loc[0, "problem"])


@pytest.mark.parametrize("status", sorted(CASES))
@pytest.mark.parametrize("audience", AUDIENCES)
def test_new_status_problems_in_nb_and_sv(status: str, audience: str) -> None:
    """Each status's problem comes out in Norwegian and Swedish, on both paths."""
    row, *expected = CASES[status]
    for lang, wanted in zip(TRANSLATIONS, expected, strict=True):
        assert _frame_problem(row, lang, audience) == (status, wanted)
        one = labinterp.interpret_one(
            str(row["analyte"]),
            str(row["raw_value"]),
            str(row["raw_unit"]),
            sex=row.get("sex", "female"),  # type: ignore[arg-type]
            age_years=50,
            lang=lang,
            audience=audience,
        )
        assert (one.status.value, one.problem) == (status, wanted)


# -- fallback, parameters, joined sentences, new entries -------------------------------


def test_a_sentence_without_entry_stays_english() -> None:
    """A problem no entry matches (a reader's own detail) is kept as recorded."""
    sentence = "The lab sent a note that labinterp does not know."
    assert problem_sentences().split(sentence) is None
    assert problem_text(sentence, Text("nb", "patient")) == sentence
    frame = pd.DataFrame(
        [{"analyte": "magnesium", "raw_value": "0,8", "raw_unit": "mmol/L"}] * 2
        + [{"analyte": "magnesium", "raw_value": "", "raw_unit": "mmol/L"}]
    )
    frame["read_problem"] = [sentence, "age_years is not a number of years; it was not used.", None]
    out = labinterp.interpret(frame, lang="sv")
    assert out["read_problem"].tolist()[:2] == [
        sentence,
        "age_years är inte ett antal år; värdet användes inte.",
    ]
    assert pd.isna(out["read_problem"].iloc[2])
    assert out["problem"].iloc[2] == "Inget värde angavs."


def test_a_missing_translation_falls_back_to_english_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A language without a problem's entry gives the English sentence and a warning."""
    real = catalogue.text_catalogue.__wrapped__
    partial = {k: v for k, v in real("nb").items() if not k.startswith("problem.value_missing.")}
    monkeypatch.setattr(
        catalogue, "text_catalogue", lambda code: partial if code == "xx" else real(code)
    )
    with pytest.warns(labinterp.LabinterpWarning, match="problem.value_missing.patient"):
        finding = labinterp.interpret_one("magnesium", "", "mmol/L", lang="xx")
    assert finding.problem == "No value was given."


def test_parameters_are_carried_over_verbatim() -> None:
    """The parts a sentence names (units, keys) are written as recorded, whatever they hold."""
    recorded = (
        "The unit does not measure hba1c in a way labinterp can convert to %{HbA1c} (\\d+.*); "
        "check the unit column."
    )
    assert problem_text(recorded, Text("nb", "clinician")) == (
        "Enheten måler ikke hba1c på en måte labinterp kan regne om til %{HbA1c} (\\d+.*); "
        "kontroller enhetskolonnen."
    )


def test_sentences_joined_by_a_space_are_written_one_by_one() -> None:
    """A reader's cell of several sentences is written sentence by sentence.

    If one of them has no entry the cell stays English, so it is never half translated.
    """
    partial = "{} is a partial date (year, or year and month); it was not used."
    joined = f"{partial.format('birth_date')} {partial.format('collected_at')}"
    assert problem_text(joined, Text("nb", "patient")) == (
        "birth_date er en ufullstendig dato (bare år, eller år og måned); den ble ikke brukt. "
        "collected_at er en ufullstendig dato (bare år, eller år og måned); den ble ikke brukt."
    )
    unknown = f"{partial.format('birth_date')} Something else happened."
    assert problem_text(unknown, Text("nb", "patient")) == unknown


def test_new_entries_are_picked_up_without_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry added at the end of the text files is used as it is, placeholders and all."""
    data = tmp_path / "data"
    shutil.copytree(SRC / "data", data)
    added = {
        "en": "The source marked the result {state}; it was not interpreted.",
        "nb": "Kilden merket resultatet {state}; det ble ikke tolket.",
        "sv": "Källan markerade resultatet {state}; det tolkades inte.",
    }
    for lang, sentence in added.items():
        with (data / "text" / f"{lang}.toml").open("a", encoding="utf-8") as handle:
            handle.write(
                "\n[problem.source_marked]\n"
                f'patient = {{ text = "{sentence}", sources = [] }}\n'
                f'clinician = {{ text = "{sentence}", sources = [] }}\n'
            )
    monkeypatch.setattr(catalogue, "_DATA", data)
    catalogue.text_catalogue.cache_clear()
    problem_sentences.cache_clear()
    try:
        recorded = added["en"].format(state="entered-in-error")
        assert problem_text(recorded, Text("sv", "clinician")) == (
            "Källan markerade resultatet entered-in-error; det tolkades inte."
        )
    finally:
        catalogue.text_catalogue.cache_clear()
        problem_sentences.cache_clear()


def test_problem_table_writes_each_distinct_problem_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column of a million problems is written from its few distinct sentences."""
    calls: list[str] = []
    real = problem_text

    def counted(recorded: str, text: Text) -> str:
        calls.append(recorded)
        return real(recorded, text)

    monkeypatch.setattr("labinterp.steps.explain.problem_text", counted)
    values = pd.Series(["No value was given.", None, "", 3.0] * 250_000, dtype=object)
    codes, table = problem_table(values, Text("sv", "patient"))
    assert calls == ["No value was given."]
    written = [table[c] if c >= 0 else None for c in codes[:4]]
    assert written == ["Inget värde angavs.", None, None, 3.0]
    assert codes[1] == -1


def test_english_output_is_as_recorded_on_the_examples() -> None:
    """English problems are the recorded sentences; Norwegian ones are all translated."""
    path = Path(ROOT / "examples" / "nordic_export.csv")
    frame = labinterp.read_csv(path)
    english = labinterp.interpret(frame)
    norwegian = labinterp.interpret(frame, lang="nb")
    assert english["problem"].notna().any()
    for en, nb in zip(english["problem"], norwegian["problem"], strict=True):
        if pd.isna(en):
            assert pd.isna(nb)
            continue
        assert problem_sentences().split(en) is not None, en
        assert nb != en
    assert isinstance(norwegian["problem"].dtype, pd.CategoricalDtype)


def test_every_problem_entry_is_a_sentence_the_code_records() -> None:
    """No stale entry: the fixed parts of each English problem sentence are in the code."""
    code = "\n".join(path.read_text(encoding="utf-8") for path in SRC.rglob("*.py"))
    code = re.sub(r"\"\s*\n\s*f?\"", "", code)  # implicitly joined string literals
    stale = []
    for key, entry in catalogue.text_catalogue("en").items():
        if key.startswith("problem.") and key.endswith(".clinician"):
            parts = [p.strip() for p in re.split(r"\{\w+\}", entry.text) if len(p.strip()) > 12]
            if any(part not in code for part in parts):
                stale.append(key)
    assert not stale
