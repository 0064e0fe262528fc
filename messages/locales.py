"""Which template folder and which Babel locale a contact's locale maps to.

Contacts carry locales as Telegram and the ERP write them ("pt-BR", "pt_BR",
"es_MX", "de"); templates exist per language only. Keeping the mapping in one
place means the words, the number format and the date format of a message can
never disagree about which language they are in.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "es", "pt", "fa")
RTL_LOCALES: frozenset[str] = frozenset({"fa"})
DEFAULT_LOCALE = "en"
# Languages whose readers date things in the Solar Hijri (Persian) calendar.
SOLAR_HIJRI_LANGUAGES: frozenset[str] = frozenset({"fa"})
# The digits of CLDR's non-Latin decimal numbering systems that our locales use by default
# (Babel knows each locale's numbering system and its separators, but not its digits).
_NATIVE_DIGITS = {"arabext": "۰۱۲۳۴۵۶۷۸۹", "arab": "٠١٢٣٤٥٦٧٨٩"}


def language_of(locale: str) -> str:
    """The bare language code of a locale tag: "pt-BR" -> "pt", "" -> ""."""
    return locale.strip().replace("-", "_").split("_", 1)[0].lower()


def template_language(locale: str) -> str:
    """The packaged template folder for a locale; unknown languages read English."""
    language = language_of(locale)
    return language if language in SUPPORTED_LOCALES else DEFAULT_LOCALE


def is_rtl(locale: str) -> bool:
    """Whether messages in this locale are written right to left."""
    return template_language(locale) in RTL_LOCALES


@lru_cache(maxsize=256)
def babel_locale(locale: str) -> Locale:
    """The most specific Babel locale we can honour, so es_MX keeps Mexican digits.

    Falls back to the bare language, then to English, instead of failing: a
    reminder in a slightly wrong number format beats no reminder at all.
    """
    for candidate in (locale.strip().replace("-", "_"), language_of(locale), DEFAULT_LOCALE):
        try:
            return Locale.parse(candidate)
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    raise AssertionError("unreachable: Babel always knows English")


def formatting_locale(locale: str, language: str) -> str:
    """The locale to format numbers and dates with, for text written in `language`.

    A pt_BR contact reading the pt templates gets pt_BR formatting; a "de"
    contact who falls back to the English templates gets English formatting,
    so "$1,234.56" never sits inside a German-formatted sentence or vice versa.
    """
    if language_of(locale) == language:
        return str(babel_locale(locale))
    return language


def uses_solar_hijri(locale: str) -> bool:
    """Whether dates for this locale are written in the Solar Hijri calendar (fa)."""
    return language_of(locale) in SOLAR_HIJRI_LANGUAGES


@lru_cache(maxsize=256)
def numbering_system(locale: str) -> str:
    """CLDR's default numbering system of the locale: "arabext" for fa, "latn" for en, es, pt."""
    system = babel_locale(locale).default_numbering_system
    return system if system in _NATIVE_DIGITS else "latn"


def to_native_digits(text: str, locale: str) -> str:
    """ASCII digits as the locale writes them by default ("2026" -> "۲۰۲۶" in fa); others unchanged."""
    digits = _NATIVE_DIGITS.get(numbering_system(locale))
    return text if digits is None else text.translate(str.maketrans("0123456789", digits))
