"""help-now for anyone, anywhere: every country is accepted and answered, the lines are data
(each with its source and the day it was checked), and a crisis command never fails."""

from __future__ import annotations

import re
import tomllib

import pytest
from support import run

from grounding import safety
from grounding.errors import ExerciseError, UsageError

NO_LOCALE = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}

THIRTY = ["FR", "NZ", "DE", "JP", "BR", "ZA", "IN", "MX", "ES", "IT", "PL", "SE", "NL", "KR",
          "CN", "NG", "KE", "AR", "CL", "PH", "US", "CA", "GB", "IE", "AU", "CH", "NO", "TR",
          "EG", "ID"]

EU = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
      "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]


def _all_lines():
    data = safety.helplines()
    yield "anywhere", data.anywhere
    for code, line in data.emergency.items():
        yield f"emergency {code}", line
    for code, country in data.countries.items():
        for kind in ("crisis", "abuse", "quiet"):
            for line in getattr(country, kind):
                yield f"{code} {kind}", line


@pytest.mark.parametrize("code", THIRTY)
def test_every_country_gets_help_from_the_real_program(code, tmp_path):
    result = run(["help-now", "--country", code], tmp_path, env=NO_LOCALE)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and result.stderr == ""
    out = result.stdout
    assert safety.country_name(code) in out
    emergency = safety.helplines().emergency.get(code)
    assert "local emergency number" in out
    if emergency is not None:
        assert f"{emergency.say}" in out
    assert "findahelpline.com" in out
    assert all(len(line) <= 100 for line in out.splitlines()), out


def test_countries_are_named_in_english(tmp_path):
    for code, name in (("FR", "France"), ("DE", "Germany"), ("KR", "South Korea"),
                       ("JP", "Japan"), ("GB", "United Kingdom"), ("NZ", "New Zealand"),
                       ("CI", "Côte d'Ivoire")):
        assert safety.country_name(code) == name
    assert "France: emergency 112 (across the EU)." in run(
        ["help-now", "--country", "fr"], tmp_path, env=NO_LOCALE).stdout
    brazil = run(["help-now", "--country", "BR"], tmp_path, env=NO_LOCALE).stdout
    assert "Brazil: there are no lines for Brazil here yet." in brazil


def test_a_country_can_be_set_as_a_code_an_alias_or_a_name(tmp_path):
    assert run(["config", "set", "country", "NZ"], tmp_path).returncode == 0
    shown = run(["help-now"], tmp_path, env=NO_LOCALE).stdout
    assert "1737" in shown and "0800 733 843" in shown and "Emergency: 111" in shown
    assert "United States" not in shown
    for written, stored in (("fr", "FR"), ("UK", "GB"), ("New Zealand", "NZ"),
                            ("  south korea ", "KR"), ("Scotland", "GB")):
        result = run(["config", "set", "country", written], tmp_path)
        assert result.returncode == 0 and f"country is now {stored}" in result.stdout, written
        assert f'country = "{stored}"' in (tmp_path / "config" / "config.toml").read_text()
    assert run(["config", "set", "country", ""], tmp_path).returncode == 0
    assert "country" not in (tmp_path / "config" / "config.toml").read_text()


def test_something_that_is_not_a_country_is_refused_with_a_sentence(tmp_path):
    for written, words in (("XX", "'XX' is not a country code we know."),
                           ("Frnace", "(did you mean 'France', FR?)"),
                           ("New Zeland", "(did you mean 'New Zealand', NZ?)")):
        result = run(["config", "set", "country", written], tmp_path)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert "country (default)" in run(["config"], tmp_path).stdout


def test_an_unknown_country_still_gets_help_and_one_sentence(tmp_path):
    for written in ("Narnia", "XX", "12"):
        result = run(["help-now", "--country", written], tmp_path, env=NO_LOCALE)
        assert result.returncode == 0
        assert result.stderr.count("\n") == 1 and result.stderr.endswith(".\n"), result.stderr
        assert f"'{written}' is not a country code we know" in result.stderr
        assert result.stdout.startswith(safety.DANGER)
        assert "findahelpline.com" in result.stdout and "New Zealand" in result.stdout
    hint = run(["help-now", "--country", "Germny"], tmp_path, env=NO_LOCALE).stderr
    assert "did you mean 'Germany', DE?" in hint


def test_without_a_country_the_language_setting_is_used_and_said(tmp_path):
    nz = run(["help-now"], tmp_path, env={**NO_LOCALE, "LANG": "en_NZ.UTF-8"}).stdout
    assert "New Zealand (from your system's language setting, en_NZ.UTF-8):" in nz
    assert "1737" in nz and "0800 733 843" in nz and "Also here: United States" in nz
    assert "grounding config set country CODE" in nz
    fr = run(["help-now"], tmp_path, env={**NO_LOCALE, "LC_ALL": "fr_FR.UTF-8"}).stdout
    assert "France (from your system's language setting, fr_FR.UTF-8): emergency 112" in fr
    plain = run(["help-now"], tmp_path, env=NO_LOCALE).stdout
    for name in ("United States", "Canada", "United Kingdom", "Ireland", "Australia",
                 "New Zealand"):
        assert name in plain
    for out in (nz, fr, plain):
        assert len(out.splitlines()) < 25 and "findahelpline.com" in out
        assert all(len(line) <= 100 for line in out.splitlines())


def test_the_locale_gives_a_country_only_when_it_names_one():
    assert safety.locale_country({"LANG": "en_NZ.UTF-8"}) == ("NZ", "en_NZ.UTF-8")
    assert safety.locale_country({"LANG": "de_DE@euro"}) == ("DE", "de_DE@euro")
    assert safety.locale_country({"LANG": "en_US.UTF-8", "LC_ALL": "en_IE.UTF-8"})[0] == "IE"
    assert safety.locale_country({"LANG": "en_US", "LC_MESSAGES": "pt_BR"})[0] == "BR"
    for value in ("C.UTF-8", "POSIX", "C", "en", "en_XX.UTF-8", ""):
        assert safety.locale_country({"LANG": value}) is None, value


def test_the_library_keeps_its_promises():
    assert safety.country_code(" gb ") == "GB" and safety.country_code("UK") == "GB"
    assert safety.country_code("new zealand") == "NZ"
    with pytest.raises(UsageError):
        safety.country_code("XX")
    assert safety.abuse_line("GB") == ("Domestic abuse: National Domestic Abuse Helpline "
                                       "0808 2000 247 (free, 24/7)")
    assert "0800 733 843" in safety.abuse_line("nz")
    assert safety.abuse_line("FR") is None
    pause = safety.help_now("GB", abuse_only=True)
    assert "0808 2000 247" in pause and "999" in pause and "Samaritans" not in pause
    assert "85258" not in pause  # a crisis text line, not an abuse one
    for code in ("", "US", "FR", "ZZ"):
        assert safety.help_now(code).startswith(safety.DANGER)


def test_no_line_of_any_answer_is_over_100_characters(monkeypatch):
    names, _ = safety._countries()
    for code in list(names) + [""]:
        for abuse_only in (False, True):
            for lang in ("C.UTF-8", "en_NZ.UTF-8", "en_GB.UTF-8", "ja_JP.UTF-8"):
                monkeypatch.setenv("LANG", lang)
                monkeypatch.delenv("LC_ALL", raising=False)
                monkeypatch.delenv("LC_MESSAGES", raising=False)
                text = safety.help_now(code, abuse_only)
                assert "findahelpline.com" in text
                assert all(len(line) <= 100 for line in text.splitlines()), text


def test_every_line_has_a_source_and_a_checked_date():
    lines = list(_all_lines())
    assert len(lines) > 30
    for where, line in lines:
        assert line.source.startswith("https://"), where
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", line.checked), where
        assert line.number in line.say, where
        assert line.verified or line.note, where


def test_the_data_file_has_only_known_keys_and_real_codes():
    data = tomllib.loads(safety.HELPLINES.read_text(encoding="utf-8"))
    names, common = safety._countries()
    assert len(names) == 249 and set(common) <= set(names)
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in names)
    line_keys = set(safety._LINE) | {"for", "countries"}
    groups = [data["anywhere"], *data["emergency"]]
    for code, country in data["countries"].items():
        assert code in names
        assert set(country) <= {"name", "crisis", "abuse", "quiet"}
        groups += country.get("crisis", []) + country.get("abuse", []) + country.get("quiet", [])
    for group in groups:
        assert set(group) <= line_keys, group
    for group in data["emergency"]:
        assert all(code in names for code in group["countries"])
    assert set(data) == {"anywhere", "emergency", "countries"}


def test_the_required_lines_are_there():
    data = safety.helplines()
    text = {code: " ".join(line.text() for line in (*c.crisis, *c.abuse, *c.quiet))
            for code, c in data.countries.items()}
    for code, wanted in (
            ("NZ", ["1737", "0800 733 843"]),
            ("GB", ["0808 2000 247", "0800 027 1234", "0808 80 10 800", "0808 802 1414",
                    "NHS 111", "Samaritans 116 123", "85258", "0808 801 0327"]),
            ("CA", ["sheltersafe.ca", "1-800-363-9010", "988"]),
            ("US", ["88788", "988", "1-800-799-7233", "741741"]),
            ("AU", ["0458 737 732", "13 11 14", "1800 737 732"]),
            ("IE", ["116 123", "50808", "1800 341 900"])):
        for number in wanted:
            assert number in text[code], (code, number)
    for code, number in (("NZ", "111"), ("AU", "000"), ("US", "911"), ("CA", "911"),
                         ("GB", "999"), ("IE", "112")):
        assert data.emergency[code].number == number
    assert "112" in data.emergency["IE"].say and "112" in data.emergency["GB"].say
    for code in EU:
        assert data.emergency[code].number == "112", code


def test_an_unknown_key_in_the_data_file_is_caught_with_its_line(tmp_path, monkeypatch):
    text = safety.HELPLINES.read_text(encoding="utf-8")
    broken = tmp_path / "helplines.toml"
    broken.write_text(text.replace('number = "0800 733 843"',
                                   'number = "0800 733 843"\nphone = "0800 733 843"'),
                      encoding="utf-8")
    monkeypatch.setattr(safety, "HELPLINES", broken)
    safety.helplines.cache_clear()
    try:
        with pytest.raises(ExerciseError, match=r"helplines.toml:\d+: 'phone' does not belong"):
            safety.helplines()
        bad = text.replace('countries = ["NZ"]', 'countries = ["NZ", "XX"]')
        broken.write_text(bad, encoding="utf-8")
        safety.helplines.cache_clear()
        with pytest.raises(ExerciseError, match="'XX' is not an ISO 3166-1 alpha-2 code"):
            safety.helplines()
        broken.write_text(text.replace('checked = "2026-12-03"', 'checked = "3 Dec 2026"', 1),
                          encoding="utf-8")
        safety.helplines.cache_clear()
        with pytest.raises(ExerciseError, match="checked should be a day"):
            safety.helplines()
        # and help-now still answers, with what needs no data
        assert safety.help_now("NZ") == "\n".join(
            [*safety._wrap(safety.DANGER), "", *safety._wrap(f"Anywhere: {safety.ANYWHERE}")])
    finally:
        safety.helplines.cache_clear()


def _numbers_in_the_data_file() -> set[str]:
    """Every phone number helplines.toml lists (read here with tomllib, not the program)."""
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("number"), str) and re.search(r"\d \d", node["number"]):
                found.add(node["number"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tomllib.loads(safety.HELPLINES.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("columns", [20, 33, 40, 50, 64, 80, 88, 120])
def test_help_now_fits_any_width_and_never_breaks_a_number(monkeypatch, columns):
    numbers = _numbers_in_the_data_file()
    assert len(numbers) > 5
    monkeypatch.setenv("COLUMNS", str(columns))  # standard output is not a terminal here
    for country in ("", "GB", "NZ", "IE", "AU"):
        lines = safety.help_now(country).splitlines()
        width = min(columns, 88)
        # a line is longer only when it is one piece that must not break: a word, or a
        # number with what follows it in brackets, "0808 2000 247 (England),"
        assert all(len(line) <= width or
                   " " not in re.sub(r"(?<=\d) (?=[\d(])", "", line.strip())
                   for line in lines), lines
        shown = "\n".join(lines)
        for number in numbers:
            if number in " ".join(shown.split()):  # this country's: whole on one line
                assert number in shown, (number, columns)
