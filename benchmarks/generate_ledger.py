"""Deterministic synthetic ledger at the DESIGN's benchmark scale.

Why: the performance targets in DESIGN.md (import rate, `balance` p95, name
resolution among 200,000 customers, a sweep whose cost follows the reminders
due rather than the ledger) are measured on a ledger of 200,000 customers and
1,000,000 documents. This script writes such a ledger as the three import CSVs
(customers.csv, documents.csv, payments.csv, in exactly the import formats),
the same bytes for the same arguments, quickly and with the standard library:

    python benchmarks/generate_ledger.py OUT_DIR --customers 200000 \\
        --documents 1000000 --seed 1 --as-of 2026-11-23

Invoices are issued over the 400 days before --as-of; about half leave
due_date empty (issue + terms). ~3% of documents are credit notes and ~1%
withholdings, each naming an invoice of the same customer and currency.
Payments (60% of documents by default) pay one or two invoices of a customer,
in full or partially through applies_to, or carry no applies_to at all.

--paid-share S (optional, for the sweep benchmark) appends payments that settle
whatever is left of randomly chosen open invoices until about S of all invoices
are fully paid, so that fewer reminders fall due; rows written without it are
unchanged. A summary of open/settled invoices goes to stderr when it is given.
--open-due N (optional, for the sweep right after an import) instead settles in full
every invoice with a reminder due the day after --as-of but about N: a long paid history,
N open and due. "A reminder due" is the packaged ladder's: overdue, or falling due within
PRE_DUE_DAYS of that day (its pre_due step, 3 days before the due date); those paid early
are paid by --as-of. The others not due yet stay as the payments above left them.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from bisect import bisect_left
from datetime import date, timedelta
from pathlib import Path

WORDS_A = (
    "Acme Alpha Andes Atlas Aurora Bahia Baltic Beacon Boreal Café Cedro Cielo Cobalt Condor "
    "Coral Cosmos Delta Dunas Éclair Elbrus Estrela Falcon Fénix Fjord Galícia Granite Harbor "
    "Horizonte Íbis Iguaçu Jade Jaguar Júpiter Kestrel Lagoa Lince Lisboa Lótus Málaga Maple "
    "Meridian Monarca Nébula Nova Océano Olmo Orion Pampa Peñalara Pinnacle Quasar Quetzal Río "
    "Safira Sabiá Sierra Tajo Tucán Zenith Zürich"
).split()
WORDS_B = (
    "Agrícola Alimentos Analytics Aço Bebidas Biotech Cargo Cerâmica Cimentos Comércio "
    "Construções Consulting Dental Design Digital Distribuciones Eléctrica Energia Engenharia "
    "Farma Ferragens Finanças Foods Frigorífico Gráfica Health Hidráulica Hotelaria Imóveis "
    "Industrial Informática Logística Madeiras Marine Materiais Mecânica Media Metalúrgica "
    "Minería Móveis Óptica Papel Pescados Plásticos Química Retail Robotics Seguros Software "
    "Solar Têxtil Transportes Turismo Vinhos Vidros Systems Trading Telecom Medical Petróleo"
).split()
WORDS_C = (
    "Norte Sul Pacific Atlantic Central Global International Brasil México Ibérica Andina "
    "Europa Americas Express Premium Group Holdings Partners Unidos Oeste Leste Mediterránea "
    "Continental Nacional Regional Metropolitana Paulista Carioca Mineira Gaúcha Norteña "
    "Andaluza Catalana Gallega Lusitana Alentejana Minhota Texas Carolina Pacífico Caribe "
    "Patagonia Pampeana Amazônia Cerrado Sertão Altiplano Sonora Yucatán Bajío Cantábrica "
    "Levante Riviera Orient Dakota Ontario Baviera Toscana Bretaña Escocia"
).split()
FIRST = (
    "Ana João María José Lucía Pedro Sofía Tomás Inês Raúl Camila Andrés Beatriz Ángel "
    "Fernanda Nicolás Valentina Mateo Isabela Gonçalo John Emily Michael Sarah David Laura "
    "James Olivia Daniel Chloe Reza Maryam Ali Zahra Darius Shirin Omar Leila Hugo Zoë"
).split()
LAST = (
    "García Núñez Pérez Muñoz Gómez Martín Jiménez Ibáñez Castaño Peña Silva Araújo Gonçalves "
    "Conceição Simões Magalhães Brandão Estêvão Mendonça Fontes Smith O'Brien Walker Müller "
    "Schröder Novák Dvořák Kovač Rahimi Karimi Hosseini Moradi Tehrani Farahani Rossi Bianchi "
    "Dubois Lefèvre Olsen Larsson"
).split()
PERSIAN = "شرکت پارس|گروه آریا|بازرگانی کیان|شرکت سپهر|گروه البرز|شرکت زاگرس|صنایع کاوه".split("|")
# country, locale, time zones, currency, legal suffixes, weight
COUNTRIES = (
    ("US", "en", ("America/New_York", "America/Chicago", "America/Denver",
                  "America/Los_Angeles"), "USD", ("Inc.", "LLC", "Corp."), 40),
    ("BR", "pt", ("America/Sao_Paulo", "America/Recife", "America/Manaus"), "BRL",
     ("Ltda", "S.A.", "ME"), 15),
    ("ES", "es", ("Europe/Madrid", "Atlantic/Canary"), "EUR", ("S.L.", "S.A."), 10),
    ("MX", "es", ("America/Mexico_City", "America/Monterrey", "America/Tijuana"), "USD",
     ("S.A. de C.V.", "S. de R.L."), 8),
    ("GB", "en", ("Europe/London",), "USD", ("Ltd", "PLC"), 7),
    ("PT", "pt", ("Europe/Lisbon",), "EUR", ("Lda", "S.A."), 5),
    ("AR", "es", ("America/Argentina/Buenos_Aires", "America/Argentina/Cordoba"), "USD",
     ("S.R.L.", "S.A."), 5),
    ("DE", "en", ("Europe/Berlin",), "EUR", ("GmbH", "AG"), 5),
    ("IR", "fa", ("Asia/Tehran",), "EUR", ("Co.",), 3),
    ("CO", "es", ("America/Bogota",), "USD", ("S.A.S.",), 2),
)
SEGMENTS, SEGMENT_WEIGHTS = ("default", "strategic", "government", "individual"), (85, 5, 5, 5)
TERMS, TERMS_WEIGHTS = ("30", "15", "45", "60", ""), (70, 8, 10, 7, 5)
METHODS = {"USD": ("wire", "ACH", "check", "card"), "EUR": ("wire", "SEPA transfer", "card"),
           "BRL": ("pix", "boleto", "wire")}
SPAN_DAYS = 400
# --open-due: an invoice due up to this many days after --as-of has a reminder due the day after it
# (the packaged ladder's pre_due step is 3 days before the due date; the sweep runs the next day).
PRE_DUE_DAYS = 4


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def write(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def customer_rows(n: int, rng: random.Random, cust_cur: list[str], cust_terms: list[int]):
    na, nb, nc = len(WORDS_A), len(WORDS_B), len(WORDS_C)
    combos, offset = na * nb * nc, rng.randrange(na * nb * nc)
    cum = [0]
    for c in COUNTRIES:
        cum.append(cum[-1] + c[5])
    countries = rng.choices(COUNTRIES, cum_weights=cum[1:], k=n)
    segments = rng.choices(SEGMENTS, weights=SEGMENT_WEIGHTS, k=n)
    terms = rng.choices(TERMS, weights=TERMS_WEIGHTS, k=n)
    for i in range(n):
        k = (i * 7919 + offset) % combos  # 7919 is prime to combos: unique names up to `combos`
        a, b, c = WORDS_A[k % na], WORDS_B[k // na % nb], WORDS_C[k // (na * nb)]
        country, locale, zones, cur, suffixes, _ = countries[i]
        seg = segments[i]
        if seg == "individual":
            nf, nl = len(FIRST), len(LAST)  # mixed radix (nf, nl, nf - 1, nl): unique people
            m = (i * 7919 + offset) % (nf * nl * (nf - 1) * nl)
            g1, l1, m = m % nf, m // nf % nl, m // (nf * nl)
            given = f"{FIRST[g1]} {FIRST[(g1 + 1 + m % (nf - 1)) % nf]}"
            name, alias = f"{given} {LAST[l1]} {LAST[m // (nf - 1)]}", ""
        else:
            base = f"{a} {b} {c}"
            if country == "IR":
                base = f"{PERSIAN[k % len(PERSIAN)]} {base}"
            name = f"{base} {suffixes[k % len(suffixes)]}"
            x = rng.random()
            alias = base if x < 0.10 else f"{base}|{a[0]}{b[0]}{c[0]} {b}" if x < 0.13 else ""
        if i >= combos:
            name += f" {i // combos + 1}"
        limit = "" if rng.random() < 0.12 else f"{rng.randint(1, 200) * 1000}.00"
        rep = "" if rng.random() < 0.1 else f"U0SALES{rng.randint(1, 50):02d}"
        cust_cur.append(cur)
        cust_terms.append(int(terms[i] or 30))
        yield (f"C{i + 1:06d}", name, seg, cur, limit, terms[i], locale, rng.choice(zones),
               country, rep, alias)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Write a synthetic ledger (three import CSVs).")
    p.add_argument("out_dir", type=Path)
    p.add_argument("--customers", type=int, default=200_000)
    p.add_argument("--documents", type=int, default=1_000_000)
    p.add_argument("--payments", type=int, default=None, help="default: 60%% of documents")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 23))
    p.add_argument("--paid-share", type=float, default=None,
                   help="settle extra invoices in full until about this share (0..1) is paid")
    p.add_argument("--open-due", type=int, default=None,
                   help="settle in full every invoice due by --as-of except about this many (a paid history)")
    args = p.parse_args(argv)
    if args.customers < 1 or args.documents < 1:
        p.error("--customers and --documents must be positive")
    if args.paid_share is not None and not 0 <= args.paid_share <= 1:
        p.error("--paid-share must be between 0 and 1")
    n_pay = int(args.documents * 0.6) if args.payments is None else args.payments
    rng = random.Random(args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    cust_cur: list[str] = []
    cust_terms: list[int] = []
    write(args.out_dir / "customers.csv",
          ["customer_ref", "name", "segment", "currency", "credit_limit", "payment_terms_days",
           "locale", "timezone", "country", "sales_rep_slack_id", "aliases"],
          customer_rows(args.customers, rng, cust_cur, cust_terms))

    # Day numbers count from `base`; invoices are issued on days 0..SPAN_DAYS-1, as_of is SPAN_DAYS.
    base = args.as_of - timedelta(days=SPAN_DAYS)
    day = [(base + timedelta(days=d)).isoformat() for d in range(SPAN_DAYS + 100)]
    n_cn, n_wh = args.documents * 3 // 100, args.documents // 100
    n_inv = max(1, args.documents - n_cn - n_wh)
    # Invoices sorted by customer, so a customer's invoices are one contiguous range.
    rnd, ri = rng.random, rng.randint
    inv_cust = sorted(int(args.customers * rnd() ** 1.3) for _ in range(n_inv))
    first = [bisect_left(inv_cust, c) for c in range(args.customers + 1)]
    inv_day = [ri(0, SPAN_DAYS - 1) for _ in range(n_inv)]
    inv_cur = [cust_cur[c] if rnd() > 0.02 else ("EUR" if cust_cur[c] == "USD" else "USD")
               for c in inv_cust]
    inv_amt = [ri(5_000, 2_500_000) if rnd() < 0.9 else ri(2_500_000, 50_000_000)
               for _ in range(n_inv)]
    inv_due = [d + cust_terms[c] for d, c in zip(inv_day, inv_cust, strict=True)]
    left = inv_amt[:]

    def notes(kind: str, count: int, low: int, high: int, later: int):
        for _ in range(count):
            i = rng.randrange(n_inv)
            cents = max(1, left[i] * ri(low, high) // 100)
            left[i] -= min(cents, left[i])
            d = min(inv_day[i] + ri(0, later), SPAN_DAYS)
            yield kind, i, d, cents

    def doc_rows():
        for i in range(n_inv):
            due = day[inv_due[i]] if rnd() < 0.5 else ""
            yield (f"INV-{i + 1:07d}", f"C{inv_cust[i] + 1:06d}", "invoice", day[inv_day[i]],
                   due, money(inv_amt[i]), inv_cur[i], "")
        for n, (kind, i, d, cents) in enumerate(
            [*notes("credit_note", n_cn, 5, 30, 45), *notes("withholding", n_wh, 1, 10, 0)]
        ):
            prefix, k = ("CN", n + 1) if kind == "credit_note" else ("WH", n - n_cn + 1)
            yield (f"{prefix}-{k:07d}", f"C{inv_cust[i] + 1:06d}", kind, day[d], "",
                   money(cents), inv_cur[i], f"INV-{i + 1:07d}")

    write(args.out_dir / "documents.csv",
          ["doc_ref", "customer_ref", "type", "issue_date", "due_date", "amount", "currency",
           "related_doc_ref"], doc_rows())

    def pay_rows():
        for n in range(n_pay):
            i = rng.randrange(n_inv)
            for _ in range(3):  # prefer an older invoice with something left to pay
                k = rng.randrange(n_inv)
                if not left[i] or left[k] and inv_due[k] < inv_due[i]:
                    i = k
            c, cur = inv_cust[i], inv_cur[i]
            picks = [i]
            j = ri(first[c], first[c + 1] - 1) if first[c + 1] > first[c] else i
            if j != i and inv_cur[j] == cur and rnd() < 0.2:
                picks.append(j)
            earliest = max(inv_day[k] for k in picks) + 1
            when = min(max(inv_due[i] + ri(-25, 40), earliest), SPAN_DAYS)
            x = rnd()
            allocs = []
            for k in picks:
                cents = left[k] or inv_amt[k] // 10
                if x < 0.25 and len(picks) == 1:
                    cents = max(1, cents * ri(10, 70) // 100)  # partial
                left[k] -= min(cents, left[k])
                allocs.append((k, cents))
            total = sum(a for _, a in allocs)
            if x > 0.85:  # no applies_to: oldest due first
                applies = ""
            else:
                applies = "|".join(f"INV-{k + 1:07d}:{money(a)}" for k, a in allocs)
                if rnd() < 0.03:
                    total += ri(100, 50_000)  # a little extra, left unapplied
            yield (f"PAY-{n + 1:07d}", f"C{c + 1:06d}", day[when], money(total), cur,
                   rng.choice(METHODS.get(cur, ("wire",))), applies)
        if args.paid_share is not None:
            yield from settle_rows(n_pay)
        elif args.open_due is not None:
            yield from settle_due_rows(n_pay)

    def settle_rows(n: int):
        # A separate generator keeps every row above identical to a run without --paid-share.
        prng = random.Random(f"paid-share:{args.seed}")
        settled = sum(1 for x in left if not x)
        still_open = n_inv - settled
        p_settle = min(1.0, max(0.0, (args.paid_share * n_inv - settled) / still_open)) if still_open else 0.0
        extra = 0
        for i in range(n_inv):
            if not left[i] or prng.random() >= p_settle:
                continue
            cents, left[i] = left[i], 0
            when = min(max(inv_due[i] + prng.randint(-20, 10), inv_day[i] + 1), SPAN_DAYS)
            n += 1
            extra += 1
            cur = inv_cur[i]
            yield (f"PAY-{n:07d}", f"C{inv_cust[i] + 1:06d}", day[when], money(cents), cur,
                   prng.choice(METHODS.get(cur, ("wire",))), f"INV-{i + 1:07d}:{money(cents)}")
        print(f"invoices: {n_inv}; fully paid before --paid-share: {settled} ({settled / n_inv:.1%}); "
              f"settled by {extra} extra payments; open now: {sum(1 for x in left if x)}",
              file=sys.stderr)

    def settle_due_rows(n: int):
        # Like settle_rows: every row above stays as it is without --open-due.
        prng = random.Random(f"open-due:{args.seed}")
        due = [i for i in range(n_inv) if left[i] and inv_due[i] <= SPAN_DAYS + PRE_DUE_DAYS]
        keep = min(1.0, args.open_due / len(due)) if due else 0.0
        extra = 0
        for i in due:
            if prng.random() < keep:
                continue
            cents, left[i] = left[i], 0
            when = min(max(inv_due[i] + prng.randint(-20, 10), inv_day[i] + 1), SPAN_DAYS)
            n += 1
            extra += 1
            cur = inv_cur[i]
            yield (f"PAY-{n:07d}", f"C{inv_cust[i] + 1:06d}", day[when], money(cents), cur,
                   prng.choice(METHODS.get(cur, ("wire",))), f"INV-{i + 1:07d}:{money(cents)}")
        print(f"invoices: {n_inv}; with a reminder due (overdue or pre-due) and open: {len(due)}; settled by "
              f"{extra} extra payments; reminder due and open now: {sum(1 for i in due if left[i])}; not due yet: "
              f"{sum(1 for i in range(n_inv) if inv_due[i] > SPAN_DAYS)}", file=sys.stderr)

    write(args.out_dir / "payments.csv",
          ["payment_ref", "customer_ref", "date", "amount", "currency", "method", "applies_to"],
          pay_rows())


if __name__ == "__main__":
    main()
