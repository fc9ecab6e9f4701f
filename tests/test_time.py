"""Times are instants: offsets kept, naive times in the profile's zone, the same instant out."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings
from typer.testing import CliRunner

import labinterp
from labinterp import catalogue, dates, schema, times
from labinterp.cli import app
from labinterp.errors import LabinterpWarning
from labinterp.io.writers.batches import write
from labinterp.io.writers.csv import write_rows
from labinterp.io.writers.fhir import to_fhir
from labinterp.io.writers.jsonl import jsonl_text

from .conftest import DATA

runner = CliRunner()

NORDIC = {"no": "Europe/Oslo", "se": "Europe/Stockholm", "dk": "Europe/Copenhagen"}
#: Daylight-saving changes of 2026 in the Nordic zones (01:00 UTC, last Sunday of March
#: and of October): 02:30 local did not happen on 29 March and happened twice on 25 October.
GAP, FOLD = "2026-03-29 02:30", "2026-10-25 02:30"


def _observation(when: str, code: str = "2601-3", value: float = 0.82) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        },
    }


def _bundle(*times_written: str) -> str:
    entries = [{"resource": _observation(t)} for t in times_written]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _hl7(*stamps: str) -> str:
    segments = ["MSH|^~\\&|LAB|SITE|EHR|SITE|20260301083000||ORU^R01|CTRL-1|P|2.5.1"]
    segments.append("PID|1||TEST-1^^^SITE^MR||Doe^Jane||19700102|F")
    for i, stamp in enumerate(stamps, start=1):
        segments.append(f"OBR|{i}|ORD-{i}||2601-3^Magnesium^LN|||{stamp}")
        segments.append("OBX|1|NM|2601-3^Magnesium^LN||0.82|mmol/L|0.71-0.94|N|||F")
    return "\r".join(segments) + "\r"


def _effective(path: Path) -> list[str]:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return [
        e["resource"]["effectiveDateTime"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    ]


def _cli(source: Path, out: Path, *options: str) -> None:
    result = runner.invoke(app, ["interpret", str(source), "-o", str(out), *options])
    assert result.exit_code == 0, result.output


# -- round trips through the command line ------------------------------------------------


MIXED = ["2026-03-01T08:10:00+01:00", "2026-03-01T02:10:00-05:00", "2026-03-01T07:10:00+00:00"]


@pytest.mark.parametrize("profile", ["no", "us"])
def test_fhir_offsets_round_trip_through_the_cli(tmp_path: Path, profile: str) -> None:
    """FHIR in, FHIR out: each effectiveDateTime is written with the offset it was read with."""
    source = tmp_path / "in.json"
    source.write_text(_bundle(*MIXED), encoding="utf-8")
    out = tmp_path / "out.json"
    _cli(source, out, "--format", "fhir", "--profile", profile)
    # The same text, the source's own offset; UTC is written Z, the same instant.
    assert _effective(out) == [*MIXED[:2], "2026-03-01T07:10:00Z"]


def test_hl7_offsets_round_trip_through_the_cli(tmp_path: Path) -> None:
    """HL7 TS offsets (+0100, -0700) reach the FHIR output as the same instants."""
    source = tmp_path / "in.hl7"
    source.write_text(_hl7("202603010810+0100", "200808151030-0700"), encoding="utf-8")
    out = tmp_path / "out.json"
    _cli(source, out, "--format", "fhir")
    assert _effective(out) == ["2026-03-01T08:10:00+01:00", "2008-08-15T10:30:00-07:00"]


def test_csv_output_keeps_the_instant_and_reads_back(tmp_path: Path) -> None:
    """CSV out writes each time with its offset; reading that CSV gives the same instants."""
    source = tmp_path / "in.json"
    source.write_text(_bundle(*MIXED), encoding="utf-8")
    out = tmp_path / "out.csv"
    _cli(source, out, "--profile", "us")
    written = pd.read_csv(out, dtype=str)
    assert written["collected_at"].tolist() == [t.replace("T", " ") for t in MIXED]
    assert written["collected_at_offset"].tolist() == ["60", "-300", "0"]
    # Read back as an export with the time columns (the interpreted columns left aside).
    columns = ["patient_id", "source_code", "raw_value", "raw_unit", "collected_at"]
    export = tmp_path / "export.csv"
    written[[*columns, "collected_at_offset"]].to_csv(export, index=False)
    again = labinterp.interpret(labinterp.read_csv(export), profile="us", derive=False)
    moments = times.instants(again["collected_at"], again["collected_at_offset"])
    assert moments.nunique() == 1  # the three are one instant, 07:10 UTC
    assert moments.iloc[0] == pd.Timestamp("2026-03-01 07:10")


def test_jsonl_and_parquet_keep_wall_clock_and_offset(tmp_path: Path) -> None:
    """JSON lines write the time with its offset; Parquet stores both declared columns."""
    frame = labinterp.parse_fhir(_bundle(*MIXED))
    out = labinterp.interpret(frame, profile="no", derive=False)
    lines = [json.loads(line) for line in jsonl_text(out).splitlines()]
    assert [line["collected_at"] for line in lines] == MIXED
    path = tmp_path / "out.parquet"
    write(out, path, format="parquet")
    import pyarrow.parquet as pq

    stored = pq.read_schema(path)
    declared = schema.interpreted()
    for name in ("collected_at", "collected_at_offset"):
        assert stored.field(name).type == declared.field(name).type
    back = pd.read_parquet(path)
    assert back["collected_at_offset"].tolist() == [60, -300, 0]


# -- naive local times -----------------------------------------------------------------


def _frame(*collected: str, **context: Any) -> pd.DataFrame:
    n = len(collected)
    return pd.DataFrame(
        {
            "patient_id": context.get("patient_id", ["p1"] * n),
            "source_name": context.get("source_name", ["S-Magnesium"] * n),
            "raw_value": context.get("raw_value", ["0.82"] * n),
            "raw_unit": context.get("raw_unit", ["mmol/L"] * n),
            "collected_at": list(collected),
        }
    )


@pytest.mark.parametrize(("profile", "zone"), sorted(NORDIC.items()))
def test_profiles_name_their_time_zone(profile: str, zone: str) -> None:
    """The Nordic profiles carry their IANA zone; the US profile names none."""
    assert catalogue.get_profile(profile).time.zone == zone
    assert catalogue.get_profile("us").time.zone is None


@pytest.mark.parametrize("profile", sorted(NORDIC))
def test_dst_gap_and_fold_in_each_nordic_zone(profile: str) -> None:
    """A skipped and a repeated local time are read as RFC 5545 says, named, and exported."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Nordic profile knows its zone: no warning
        out = labinterp.interpret(_frame(GAP, FOLD, "2026-06-01 08:00"), profile=profile)
    assert out["collected_at"].tolist() == [pd.Timestamp(t) for t in (GAP, FOLD)] + [
        pd.Timestamp("2026-06-01 08:00")
    ]
    assert out["collected_at_offset"].tolist() == [60, 120, 120]
    assert out.loc[0, "read_problem"] == times.TIME_GAP
    assert out.loc[1, "read_problem"] == times.TIME_FOLD
    assert pd.isna(out.loc[2, "read_problem"])
    moments = times.instants(out["collected_at"], out["collected_at_offset"])
    assert moments.tolist()[:2] == [
        pd.Timestamp("2026-03-29 01:30"),
        pd.Timestamp("2026-10-25 00:30"),
    ]
    written = [str(o.effectiveDateTime) for o in _observations(to_fhir(out))]
    assert written == [
        "2026-03-29 02:30:00+01:00",
        "2026-10-25 02:30:00+02:00",
        "2026-06-01 08:00:00+02:00",
    ]


def test_to_fhir_with_a_zone_does_not_fail_inside_a_change() -> None:
    """Floating times given a zone by to_fhir are read in it, never failing at a change."""
    out = labinterp.interpret(_frame(GAP, FOLD), profile="us", derive=False)
    assert out["collected_at_offset"].isna().all()
    written = [
        str(o.effectiveDateTime) for o in _observations(to_fhir(out, timezone="Europe/Oslo"))
    ]
    assert written == ["2026-03-29 02:30:00+01:00", "2026-10-25 02:30:00+02:00"]


def test_timezone_argument_overrides_the_profile() -> None:
    """timezone= reads naive times in that zone, under any profile."""
    frame = _frame("2026-03-01 08:10", "2026-07-01 08:10")
    chicago = labinterp.interpret(frame, profile="us", timezone="America/Chicago")
    assert chicago["collected_at_offset"].tolist()[:2] == [-360, -300]
    tokyo = labinterp.interpret(frame, profile="no", timezone="Asia/Tokyo")
    assert tokyo["collected_at_offset"].tolist()[:2] == [540, 540]


def test_naive_us_times_stay_floating_with_one_warning(tmp_path: Path) -> None:
    """Under the US profile naive times stay floating, said once, and are written without offset."""
    frame = _frame("2026-03-01 08:10", "2026-03-02 09:00", "2026-03-03")
    with pytest.warns(LabinterpWarning, match="floating local times") as caught:
        out = labinterp.interpret(frame, profile="us", derive=False)
    assert len([w for w in caught if issubclass(w.category, LabinterpWarning)]) == 1
    assert out["collected_at_offset"].isna().all()
    target = tmp_path / "out.csv"
    write_rows(out, target, header=True)
    written = pd.read_csv(target, dtype=str)
    assert written["collected_at"].tolist() == [
        "2026-03-01 08:10:00",
        "2026-03-02 09:00:00",
        "2026-03-03",
    ]
    observations = _observations(to_fhir(out))
    assert [str(o.effectiveDateTime) for o in observations] == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
    ]
    assert "08:10:00 local time" in str((observations[0].note or [])[-1].text)
    assert not observations[2].note or all(
        "local time" not in str(n.text) for n in observations[2].note
    )


def test_dates_alone_are_not_warned_about() -> None:
    """A date without a time of day is a calendar day: floating, without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = labinterp.interpret(_frame("2026-03-03"), profile="us", derive=False)
    assert pd.isna(out.loc[0, "collected_at_offset"])


def test_unknown_time_zone_is_a_clear_error(tmp_path: Path) -> None:
    """An unknown zone name fails before any work, in Python and on the command line."""
    with pytest.raises(ValueError, match="IANA"):
        labinterp.interpret(_frame("2026-03-01 08:10"), timezone="Mars/Olympus")
    source = tmp_path / "in.json"
    source.write_text(_bundle(*MIXED), encoding="utf-8")
    result = runner.invoke(app, ["interpret", str(source), "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2 and "IANA" in result.output


# -- offsets as written ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "wall", "offset"),
    [
        ("2026-03-01T08:10:00+01:00", "2026-03-01 08:10", 60),
        ("2026-03-01 08:10-0530", "2026-03-01 08:10", -330),
        ("2026-03-01T08:10Z", "2026-03-01 08:10", 0),
        ("202603010810+1400", "2026-03-01 08:10", 840),
        ("2026-03-01 08:10", "2026-03-01 08:10", None),
    ],
)
def test_offsets_as_written_are_kept(written: str, wall: str, offset: int | None) -> None:
    """ISO and HL7 offsets are read into minutes east of UTC; none stays missing."""
    parsed, minutes, failed = times.parse_times(pd.Series([written]))
    assert parsed.iloc[0] == pd.Timestamp(wall) and not failed.iloc[0]
    assert (pd.isna(minutes.iloc[0]) and offset is None) or minutes.iloc[0] == offset


def test_offset_beyond_fourteen_hours_is_unreadable() -> None:
    """+15:00 is no UTC offset: the time is left empty with a read_problem."""
    out = dates.complete_context(pd.DataFrame({"collected_at": ["2026-03-01T08:10+15:00"]}))
    assert pd.isna(out.loc[0, "collected_at"])
    assert "collected_at could not be read" in out.loc[0, "read_problem"]


def test_aware_datetime_column_keeps_its_offsets() -> None:
    """A time-zone-aware column gives its wall clock and its offsets."""
    aware = pd.Series(pd.to_datetime(["2026-03-01 08:10", "2026-07-01 08:10"])).dt.tz_localize(
        "Europe/Oslo"
    )
    out = dates.complete_context(pd.DataFrame({"collected_at": aware}))
    assert out["collected_at"].tolist() == [
        pd.Timestamp("2026-03-01 08:10"),
        pd.Timestamp("2026-07-01 08:10"),
    ]
    assert out["collected_at_offset"].tolist() == [60, 120]


def test_offset_column_fills_and_a_disagreement_is_named() -> None:
    """collected_at_offset fills a naive time; an offset in the text wins and is named."""
    frame = pd.DataFrame(
        {
            "collected_at": ["2026-03-01 08:10", "2026-03-01 08:10+01:00"],
            "collected_at_offset": [-300, 0],
        }
    )
    out = dates.complete_context(frame, timezone="Europe/Oslo")
    assert out["collected_at_offset"].tolist() == [-300, 60]
    assert pd.isna(out.loc[0, "read_problem"])
    assert out.loc[1, "read_problem"] == times.OFFSET_DISAGREES


# -- instants in use ---------------------------------------------------------------------


def test_one_instant_written_with_two_offsets_is_one_sample_set() -> None:
    """Ferritin at 08:10+01:00 and CRP at 07:10Z are one sample: the inflammation rule sees it."""
    frame = pd.DataFrame(
        {
            "patient_id": ["p1", "p1"],
            "source_name": ["S-Ferritin", "S-CRP"],
            "raw_value": ["40", "80"],
            "raw_unit": ["ug/L", "mg/L"],
            "sex": ["female", "female"],
            "age_years": [40, 40],
            "collected_at": ["2026-03-01T08:10+01:00", "2026-03-01T07:10Z"],
        }
    )
    same = labinterp.interpret(frame, profile="no")
    apart = labinterp.interpret(
        frame.assign(collected_at=["2026-03-01T08:10+01:00", "2026-03-01T08:10Z"])
    )
    rules = "ferritin_inflammation"
    assert rules in str(same.loc[0, "caveat_rules"])
    assert rules not in str(apart.loc[0, "caveat_rules"])


def test_history_is_ordered_by_instant_not_wall_clock() -> None:
    """09:00+02:00 (07:00 UTC) comes before 08:30Z (08:30 UTC), whatever the wall clocks say."""
    frame = _frame("2026-03-01T08:30Z", "2026-03-01T09:00+02:00", raw_value=["0.90", "0.70"])
    out = labinterp.interpret(frame, profile="no", history=True)
    assert out.loc[0, "previous_value"] == pytest.approx(0.70)
    assert out.loc[0, "previous_collected_at"] == pd.Timestamp("2026-03-01 09:00")
    assert out.loc[0, "previous_collected_at_offset"] == 120
    assert pd.isna(out.loc[1, "previous_value"])


def test_history_names_a_floating_time_compared_with_an_instant() -> None:
    """A floating time compared with one that has an offset gets history_note floating_time."""
    frame = _frame("2026-03-01 08:30", "2026-03-02T09:00-06:00", raw_value=["0.90", "0.70"])
    out = labinterp.interpret(frame, profile="us", history=True)
    assert out.loc[1, "history_note"] == "floating_time"


# -- the property: reading then writing keeps the instant --------------------------------


def _observations(bundle: Any) -> list[Any]:
    return [e.resource for e in bundle.entry or [] if e.resource.__resource_type__ == "Observation"]


_MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31))
_OFFSETS = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: q * 15)


@settings(max_examples=200, deadline=None)
@given(moment=_MOMENTS, offset=_OFFSETS, zone=st.sampled_from(sorted(NORDIC.values())))
def test_reading_then_writing_keeps_the_instant(moment: datetime, offset: int, zone: str) -> None:
    """A time with an offset, and a naive local time in a Nordic zone, survive read and write.

    The written text is read again to the same instant, and a time written with an offset
    is written back exactly as it came (to the second).
    """
    moment = moment.replace(microsecond=0)
    with_offset = moment.replace(tzinfo=timezone(timedelta(minutes=offset))).isoformat()
    naive = moment.isoformat(sep=" ")
    texts = pd.Series([with_offset, naive])
    frame = dates.complete_context(pd.DataFrame({"collected_at": texts}), timezone=zone)
    wall, minutes = frame["collected_at"], frame["collected_at_offset"]
    written = times.time_texts(wall, minutes)
    assert written[0] == with_offset
    again = dates.complete_context(pd.DataFrame({"collected_at": written}), timezone=zone)
    before = times.instants(wall, minutes)
    after = times.instants(again["collected_at"], again["collected_at_offset"])
    assert after.tolist() == before.tolist()
    expected = moment - timedelta(minutes=offset)
    assert before.iloc[0] == pd.Timestamp(expected)
    if moment.time() != datetime.min.time():  # a naive time of day: the zone's instant
        local = moment.replace(tzinfo=ZoneInfo(zone), fold=0)
        assert before.iloc[1] == pd.Timestamp(local.astimezone(UTC).replace(tzinfo=None))


# -- real samples ------------------------------------------------------------------------


def test_real_hl7_sample_keeps_its_offset() -> None:
    """NIST ORU test case 1 (OBR-7 200808151030-0700) keeps -07:00 through FHIR output."""
    frame = labinterp.read_hl7(DATA / "hl7" / "nist_ORU_R01_2.5.1_SampleTestCase1.hl7")
    out = labinterp.interpret(frame, profile="us", derive=False)
    assert set(out["collected_at_offset"].dropna()) == {-420}
    written = {str(o.effectiveDateTime) for o in _observations(to_fhir(out))}
    assert written == {"2008-08-15 10:30:00-07:00"}


def test_real_synthea_bundle_keeps_utc() -> None:
    """A Synthea bundle's +00:00 times are read as UTC instants and written as the same."""
    frame = labinterp.read_fhir(
        DATA / "fhir" / "Tom_Goodwin_e20de9eb-6f2d-4871-a43f-bbede53293ed.json"
    )
    out = labinterp.interpret(frame, profile="us", derive=False)
    assert (out["collected_at_offset"].dropna() == 0).all()
    assert out["collected_at_offset"].notna().sum() == frame["collected_at"].notna().sum()
    sent = pd.to_datetime(frame["collected_at"])
    written = pd.Series([o.effectiveDateTime for o in _observations(to_fhir(out))])
    assert (pd.to_datetime(written, utc=True).dt.tz_localize(None) == sent.to_numpy()).all()
