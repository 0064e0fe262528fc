"""Customer names through the real `collectbot` process (DESIGN "Interfaces", CUSTOMER; issue 11, 1.2).

A lenient match is named on stderr while stdout stays the command's output; commands that
change something need an exact ref, name or alias; numbers must agree; reader-identical
letters and digits and legal forms fold away. One small ledger per backend, shared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

HEADER = (
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,sales_rep_slack_id,aliases"
)
CUSTOMERS = [
    'CADIZ6,"Comercial Cádiz 6 S.L.U.",strategic,EUR,,30,es,Europe/Madrid,ES,,',
    'CADIZ7,"Comercial Cádiz 7 S.L.U.",default,EUR,,30,es,Europe/Madrid,ES,,',
    "ACME-1,ACME Corp,default,USD,,30,en,America/New_York,US,,",
    "LODZ,Łódź Ørsted Æble Straße GmbH,default,EUR,,30,en,Europe/Warsaw,PL,,",
    "KIAN,شرکت کیان,default,IRR,,30,fa,Asia/Tehran,IR,,",
    "KEYHAN,شرکت کیهان,default,IRR,,30,fa,Asia/Tehran,IR,,",
    "TEH12,فروشگاه تهران ۱۲,default,IRR,,30,fa,Asia/Tehran,IR,,",
    "TEH13,فروشگاه تهران ۱۳,default,IRR,,30,fa,Asia/Tehran,IR,,",
    "-X1,-2+3 SA,default,EUR,,30,en,UTC,,,",  # a ref and a name that start like options
]
DOCUMENTS = [
    "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref",
    "INV-6,CADIZ6,invoice,2026-09-01,2026-10-01,100.00,EUR,",
    "-D1,-X1,invoice,2026-09-01,2026-10-01,50.00,EUR,",
]
AS_OF = "2026-11-23"


class Ledger:
    def __init__(self, cli) -> None:  # noqa: ANN001
        self.cli = cli

    def json(self, *args: str) -> tuple[dict, str]:
        proc = self.cli(*args, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout), proc.stderr

    def events(self, ref: str) -> list[str]:
        doc, _ = self.json("timeline", ref)
        return [e["kind"] for e in doc["events"]]


@pytest.fixture(scope="module")
def ledger(new_database, cli_for, tmp_path_factory) -> Iterator[Ledger]:  # noqa: ANN001
    cwd: Path = tmp_path_factory.mktemp("names")
    (cwd / "customers.csv").write_text("\n".join([HEADER, *CUSTOMERS]) + "\n", encoding="utf-8")
    (cwd / "documents.csv").write_text("\n".join(DOCUMENTS) + "\n", encoding="utf-8")
    with new_database(cwd) as url:
        cli = cli_for(url, cwd)
        for kind in ("customers", "documents"):
            proc = cli("import", kind, cwd / f"{kind}.csv")
            assert proc.returncode == 0, proc.stderr
        yield Ledger(cli)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


# --- balance and timeline ------------------------------------------------------------------------


def test_a_name_whose_number_differs_is_not_a_match(ledger: Ledger) -> None:
    proc = ledger.cli("balance", "Comercial Cadiz 600 S.L.U.", "--format", "json", "--as-of", AS_OF)
    assert proc.returncode == 1, proc.stdout
    assert proc.stdout == ""
    line = one_line(proc.stderr)
    assert "Comercial Cadiz 600 S.L.U." in line and "CADIZ6" in line  # suggested, not chosen


def test_the_name_without_its_legal_form_is_exact(ledger: Ledger) -> None:
    doc, stderr = ledger.json("balance", "comercial cadiz 6", "--as-of", AS_OF)
    assert doc["customer_ref"] == "CADIZ6"
    assert stderr == ""  # exact: nothing to say


def test_a_lenient_match_is_named_on_stderr_and_stdout_stays_json(ledger: Ledger) -> None:
    doc, stderr = ledger.json("balance", "comercial cadis 6", "--as-of", AS_OF)
    assert doc["customer_ref"] == "CADIZ6"
    assert one_line(stderr) == 'note: "comercial cadis 6" matched CADIZ6 (Comercial Cádiz 6 S.L.U.)'


def test_timeline_names_a_lenient_match_too(ledger: Ledger) -> None:
    doc, stderr = ledger.json("timeline", "acme corpp")
    assert doc["customer_ref"] == "ACME-1"
    assert one_line(stderr) == 'note: "acme corpp" matched ACME-1 (ACME Corp)'
    text = ledger.cli("balance", "acme corpp", "--as-of", AS_OF)
    assert text.returncode == 0 and "ACME Corp" in text.stdout and "note:" not in text.stdout
    assert one_line(text.stderr).startswith("note: ")


def test_a_name_without_the_number_is_ambiguous(ledger: Ledger) -> None:
    proc = ledger.cli("balance", "comercial cadiz", "--as-of", AS_OF)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "CADIZ6" in line and "CADIZ7" in line


@pytest.mark.parametrize(
    ("query", "ref"),
    [
        ("lodz orsted aeble strasse", "LODZ"),  # ł ø æ ß
        ("LODZ ORSTED AEBLE STRASSE GMBH", "LODZ"),
        ("شركت كيان", "KIAN"),  # Arabic kaf and yeh for the Persian name
        ("شرکت کیهان", "KEYHAN"),
        ("فروشگاه تهران 12", "TEH12"),  # ASCII digits for Persian ones
        ("فروشگاه تهران ١٣", "TEH13"),  # Arabic-Indic digits
    ],
)
def test_letters_and_digits_that_read_the_same_match_exactly(ledger: Ledger, query: str, ref: str) -> None:
    doc, stderr = ledger.json("balance", query, "--as-of", AS_OF)
    assert (doc["customer_ref"], stderr) == (ref, "")


# --- commands that change something need an exact ref, name or alias ------------------------------


def test_hold_refuses_a_lenient_match_and_changes_nothing(ledger: Ledger) -> None:
    proc = ledger.cli("hold", "comercial cadis 6", "--until", "2026-12-31", "--reason", "call first")
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert "exact ref, name or alias" in line and "CADIZ6 (Comercial Cádiz 6 S.L.U.)" in line
    assert "hold_set" not in ledger.events("CADIZ6")


def test_hold_refuses_an_ambiguous_name_listing_the_candidates(ledger: Ledger) -> None:
    proc = ledger.cli("hold", "comercial cadiz", "--until", "2026-12-31", "--reason", "call first")
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert "CADIZ6" in line and "CADIZ7" in line and "exact" in line


def test_hold_refuses_a_name_whose_number_differs(ledger: Ledger) -> None:
    proc = ledger.cli("hold", "Comercial Cadiz 600 S.L.U.", "--until", "2026-12-31", "--reason", "x")
    assert proc.returncode == 1
    assert "hold_set" not in ledger.events("CADIZ6")


def test_hold_acts_on_an_exact_name(ledger: Ledger) -> None:
    proc = ledger.cli("hold", "Comercial Cádiz 7", "--until", "2026-12-31", "--reason", "call first")
    assert proc.returncode == 0, proc.stderr
    assert "hold_set" in ledger.events("CADIZ7")
    proc = ledger.cli("hold", "comercial cadiz 7 slu", "--release")
    assert proc.returncode == 0, proc.stderr
    assert "hold_ended" in ledger.events("CADIZ7")


def test_step_approve_refuses_a_lenient_match(ledger: Ledger) -> None:
    proc = ledger.cli("step", "approve", "comercial cadis 6", "--step", "formal_notice")
    assert proc.returncode == 1
    assert "exact ref, name or alias" in one_line(proc.stderr)
    assert "step_approved" not in ledger.events("CADIZ6")
    proc = ledger.cli("step", "approve", "comercial cadiz 6", "--step", "formal_notice")
    assert proc.returncode == 0, proc.stderr
    assert "step_approved" in ledger.events("CADIZ6")


# --- a customer or document that starts with "-" ----------------------------------------------------


def test_a_customer_starting_with_a_dash_is_a_customer_not_an_option(ledger: Ledger) -> None:
    doc, _ = ledger.json("balance", "-2+3 SA", "--as-of", AS_OF)
    assert (doc["customer_ref"], doc["open_items"][0]["doc_ref"]) == ("-X1", "-D1")
    doc, _ = ledger.json("balance", "--as-of", AS_OF, "-X1")  # after an option and its value too
    assert doc["name"] == "-2+3 SA"
    proc = ledger.cli("hold", "-D1", "--until", "2199-01-01", "--reason", "checking the PO")
    assert proc.returncode == 0, proc.stderr
    proc = ledger.cli("credit-hold", "-X1", "--set", "--reason", "cheque bounced")
    assert proc.returncode == 0, proc.stderr
    assert ledger.events("-X1")[-2:] == ["hold_set", "credit_hold_set"]


def test_a_customer_starting_with_two_dashes_is_told_to_come_after_a_lone_double_dash(ledger: Ledger) -> None:
    proc = ledger.cli("balance", "--X1")  # could be a mistyped option: an error, but one that says what to do
    assert proc.returncode == 2 and proc.stdout == ""
    assert "collectbot balance -- --X1" in one_line(proc.stderr)
    proc = ledger.cli("balance", "ACME Corp", "--as-off", AS_OF)  # a typo of an option is still one
    assert proc.returncode == 2
    assert "No such option: --as-off" in one_line(proc.stderr)
